// Where the server under test listens, shared by the config (which starts it) and the tests.
// `DUET_E2E_PORT` moves it if 3917 is taken.
export const PORT = Number(process.env.DUET_E2E_PORT ?? 3917);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
