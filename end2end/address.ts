// Where the servers under test listen, shared by the config (which starts them) and the tests.
// `DUET_E2E_PORT` moves them if 3917 (and 3918) are taken.
export const PORT = Number(process.env.DUET_E2E_PORT ?? 3917);
export const BASE_URL = `http://127.0.0.1:${PORT}`;

// A second server, the same binary with TLS on and a certificate it makes itself.
export const TLS_PORT = PORT + 1;
// scripts/e2e.sh gives the test namespace's loopback interface a second, non-loopback
// address, so that server has a LAN address (on which plain HTTP would not be a secure
// context) without any packet leaving the machine. Without it, 127.0.0.1.
export const LAN_IP = process.env.DUET_E2E_LAN_IP ?? '127.0.0.1';
export const TLS_BASE_URL = `https://${LAN_IP}:${TLS_PORT}`;
