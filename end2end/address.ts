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

// A third server, the same binary with sign-up closed (tests/invite.spec.ts): only invite
// links make accounts there.
export const CLOSED_PORT = PORT + 3;
export const CLOSED_URL = `http://127.0.0.1:${CLOSED_PORT}`;
/** Its data directory, relative to the repository root (the CLI makes invites in it). */
export const CLOSED_DATA_DIR = 'target/e2e-data/closed';

// Where tests/original-page.ts serves the original demo's page: an origin of its own, which
// the default server allows (allowed_origins), as an operator would for a page of theirs.
export const ORIGINAL_PORT = PORT + 4;
export const ORIGINAL_URL = `http://127.0.0.1:${ORIGINAL_PORT}`;
