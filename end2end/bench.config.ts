// The full browser benchmark (tests/bench.spec.ts) against the release build, which
// `make release` puts in target/release and target/site-release (`make bench` runs this):
//
//   DUET_BENCH_RUNS=20 DUET_BENCH_OUT=../target/bench/browser.json \
//     ./node_modules/.bin/playwright test -c bench.config.ts
//
// The normal suite (playwright.config.ts) runs the same spec once, as a smoke test.
import { defineConfig } from '@playwright/test';
import normal from './playwright.config';

const PORT = Number(process.env.DUET_BENCH_PORT ?? 3960);
const BASE_URL = `http://127.0.0.1:${PORT}`;

// Everything as in the normal suite (one test at a time, the same browser, fake devices
// and flags), but only the benchmark, against the release server below.
export default defineConfig({
  ...normal,
  testMatch: 'bench.spec.ts',
  use: { ...normal.use, baseURL: BASE_URL },

  webServer: {
    command: 'target/release/duet',
    cwd: '..',
    env: {
      LEPTOS_SITE_ROOT: 'target/site-release',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      LEPTOS_OUTPUT_NAME: 'duet',
      // The release site's file names carry their hash (target/release/hash.txt).
      LEPTOS_HASH_FILES: 'true',
      DUET_SITE_ADDR: `127.0.0.1:${PORT}`,
      DUET_DATA_DIR: 'target/bench/data',
      // Logging every frame would cost time in the measured path.
      RUST_LOG: 'warn',
    },
    url: `${BASE_URL}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
