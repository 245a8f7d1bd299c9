// The servers the TURN tests (tests/turn.spec.ts) talk to, beside the default one: duet
// instances whose pages may only use relay candidates, one with its built-in TURN server,
// one pointed at a coturn, one whose TURN secret is wrong, one whose TURN server is not
// there (tests/connect-timeout.spec.ts), and the coturn itself. All on 127.0.0.1 inside
// the test's network namespace, so relaying to loopback must be allowed.

/** A duet server's port, its built-in TURN server's UDP port and coturn's, all moveable. */
const base = Number(process.env.DUET_E2E_TURN_PORT ?? 3931);
export const BUILT_IN_PORT = base;
export const COTURN_DUET_PORT = base + 1;
export const WRONG_SECRET_PORT = base + 2;
export const UNREACHABLE_PORT = base + 3;
export const BUILT_IN_TURN_PORT = base + 10;
export const COTURN_PORT = base + 11;
/** A UDP port nothing listens on: the TURN server of 'turn-unreachable'. */
export const NO_TURN_PORT = base + 12;

export const BUILT_IN_URL = `http://127.0.0.1:${BUILT_IN_PORT}`;
export const COTURN_DUET_URL = `http://127.0.0.1:${COTURN_DUET_PORT}`;
export const WRONG_SECRET_URL = `http://127.0.0.1:${WRONG_SECRET_PORT}`;
export const UNREACHABLE_URL = `http://127.0.0.1:${UNREACHABLE_PORT}`;
/** How long the pages of 'turn-unreachable' let a call try to connect. */
export const UNREACHABLE_CONNECT_SECS = 3;

const SECRET = 'e2e-turn-secret';

/** A duet server like the default one, on `port`, with `env` on top. */
function duet(name: string, port: number, env: Record<string, string>) {
  return {
    name,
    command: 'target/debug/duet',
    cwd: '..',
    env: {
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_OUTPUT_NAME: 'duet',
      DUET_SITE_ADDR: `127.0.0.1:${port}`,
      DUET_HEARTBEAT_SECS: '1',
      DUET_DATA_DIR: `target/e2e-data-${name}`,
      // Candidates through the TURN server only, so a call that works proves the relay.
      DUET_ICE_TRANSPORT_POLICY: 'relay',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
      ...env,
    },
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
  };
}

export const turnServers = [
  duet('turn-built-in', BUILT_IN_PORT, {
    DUET_TURN_SECRET: SECRET,
    DUET_TURN_LISTEN: `127.0.0.1:${BUILT_IN_TURN_PORT}`,
    DUET_TURN_RELAY_IP: '127.0.0.1',
    DUET_TURN_ALLOW_PRIVATE: '1',
    // turn_urls empty: pages get turn:127.0.0.1:<BUILT_IN_TURN_PORT>?transport=udp.
    DUET_TURN_URLS: '',
  }),
  duet('turn-coturn', COTURN_DUET_PORT, {
    DUET_TURN_SECRET: SECRET,
    DUET_TURN_URLS: `turn:127.0.0.1:${COTURN_PORT}?transport=udp`,
  }),
  // Credentials the built-in TURN server of 'turn-built-in' refuses.
  duet('turn-wrong-secret', WRONG_SECRET_PORT, {
    DUET_TURN_SECRET: 'not-the-secret',
    DUET_TURN_URLS: `turn:127.0.0.1:${BUILT_IN_TURN_PORT}?transport=udp`,
  }),
  // Relay only, through a TURN server nothing answers for: no call can connect, and each
  // ends at its (short) deadline.
  duet('turn-unreachable', UNREACHABLE_PORT, {
    DUET_ICE_SERVERS: JSON.stringify([
      { urls: [`turn:127.0.0.1:${NO_TURN_PORT}?transport=udp`], username: 'u', credential: 'p' },
    ]),
    DUET_CONNECT_TIMEOUT_SECS: String(UNREACHABLE_CONNECT_SECS),
  }),
  {
    name: 'coturn',
    // Debian's coturn (scripts/tools.sh e2e-system installs it), in the foreground, with no
    // config file: TURN REST credentials from the same secret, loopback peers allowed.
    command: [
      'turnserver',
      // No /etc/turnserver.conf: only what is here.
      '-c /dev/null',
      '--log-file=stdout',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${COTURN_PORT}`,
      '--use-auth-secret',
      `--static-auth-secret=${SECRET}`,
      '--realm=duet',
      '--allow-loopback-peers',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--no-tcp-relay',
      '--min-port=50000',
      '--max-port=50999',
    ].join(' '),
    // It listens on TCP too; that port answering means it is up.
    port: COTURN_PORT,
    reuseExistingServer: false,
    timeout: 30_000,
    // Its start-up alone is a page of log; errors still show.
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
  },
];
