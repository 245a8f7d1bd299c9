// Playwright runs real Chromium pages (fake camera and microphone) against the real duet
// server, built beforehand by `cargo leptos build` (`make test` does both, in a network
// namespace that has only loopback).
import { defineConfig } from '@playwright/test';
import {
  BASE_URL,
  CLOSED_DATA_DIR,
  CLOSED_PORT,
  CLOSED_URL,
  LAN_IP,
  ORIGINAL_URL,
  PORT,
  TLS_PORT,
} from './address';
import { turnServers } from './turn-servers';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** What both servers get in their environment. */
const serverEnv = {
  LEPTOS_SITE_ROOT: 'target/site',
  LEPTOS_SITE_PKG_DIR: 'pkg',
  LEPTOS_OUTPUT_NAME: 'duet',
  // A one-second heartbeat: a page that did not answer the server's pings would be cut
  // off three seconds into every test, so every call here also proves browsers answer.
  DUET_HEARTBEAT_SECS: '1',
  RUST_LOG: process.env.RUST_LOG ?? 'info',
};

/** How both servers are started and stopped. */
const serverLife = {
  reuseExistingServer: false,
  timeout: 60_000,
  stdout: 'pipe',
  stderr: 'pipe',
  // Lets the server run its graceful shutdown instead of being killed outright.
  gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
} as const;

export default defineConfig({
  testDir: './tests',
  // Each test drives two or three browser contexts with live video; on two cores one test
  // at a time keeps the timings honest.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,

  use: {
    baseURL: BASE_URL,
    headless: true,
    launchOptions: {
      // Debian's chromium: `npx playwright install` would need the internet.
      executablePath: '/usr/bin/chromium',
      args: [
        // A generated test pattern and beep instead of real devices, granted without a prompt.
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        // Both peers live on 127.0.0.1; Chromium drops loopback ICE candidates otherwise.
        '--allow-loopback-in-peer-connection',
        // Keep Chromium from phoning home: the namespace has no route out anyway.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
        // <video autoplay> must start without a user gesture in a headless page.
        '--autoplay-policy=no-user-gesture-required',
        // Chromium's sandbox refuses to start as root.
        ...(isRoot ? ['--no-sandbox'] : []),
      ],
    },
  },

  webServer: [
    {
      // The dev build made by `cargo leptos build`, started from the repository root so it
      // finds Leptos.toml and target/site.
      command: 'target/debug/duet',
      cwd: '..',
      env: {
        ...serverEnv,
        DUET_SITE_ADDR: `127.0.0.1:${PORT}`,
        // A chat database of its own, emptied by scripts/e2e.sh before every run.
        DUET_DATA_DIR: 'target/e2e-data',
        // The original demo's page (tests/original-page.ts) is served from an origin of
        // its own; any other origin's socket is refused (tests/origin.spec.ts).
        DUET_ALLOWED_ORIGINS: ORIGINAL_URL,
      },
      url: `${BASE_URL}/`,
      ...serverLife,
    },
    {
      // Sign-up closed (tests/invite.spec.ts): accounts come from invite links only.
      command: 'target/debug/duet',
      cwd: '..',
      env: {
        ...serverEnv,
        DUET_SITE_ADDR: `127.0.0.1:${CLOSED_PORT}`,
        DUET_DATA_DIR: CLOSED_DATA_DIR,
        DUET_SIGNUP: 'closed',
      },
      url: `${CLOSED_URL}/`,
      ...serverLife,
    },
    {
      // The same binary over HTTPS (tests/https.spec.ts), with the certificate it makes
      // for itself in its own data directory; on every interface when there is a LAN
      // address to offer, so the home page shows it.
      command: 'target/debug/duet --tls',
      cwd: '..',
      env: {
        ...serverEnv,
        DUET_SITE_ADDR: `${LAN_IP === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0'}:${TLS_PORT}`,
        DUET_DATA_DIR: 'target/e2e-data/tls',
      },
      url: `https://127.0.0.1:${TLS_PORT}/`,
      ignoreHTTPSErrors: true,
      ...serverLife,
    },
    // The servers of tests/turn.spec.ts (TURN: built in, coturn, a wrong secret).
    ...turnServers,
  ],
});
