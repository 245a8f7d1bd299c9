// The browser half of the benchmark suite: call set-up time against this machine's floor,
// and page load to a signed-in page. `bench.config.ts` runs it against the release build
// with DUET_BENCH_RUNS and DUET_BENCH_OUT; inside the normal suite it runs once, as a smoke
// test that only checks the figures are sane, so the benchmark cannot rot. The budgets are
// checked by whoever reads DUET_BENCH_OUT, not here: a timed assertion would be flaky.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Browser, Page, Response } from '@playwright/test';
import { expect, idle, recordAcceptClick, ring, test, type Person } from './helpers';

const RUNS = Number(process.env.DUET_BENCH_RUNS ?? 1);
const OUT = process.env.DUET_BENCH_OUT;
/** How long any one first frame or sign-in may take before the run fails. */
const WAIT_MS = 15_000;

declare global {
  interface Window {
    __firstFrame?: Promise<number>;
    /** Set by the test (Page.exposeBinding): the page reports that it is signed in. */
    __reportSignedIn?: (ms: number) => void;
  }
}

/** Merges `key` into the DUET_BENCH_OUT file: each test writes its own part. */
function report(key: string, value: unknown) {
  if (!OUT) return;
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(OUT, 'utf8'));
  } catch (e) {
    // The first test to finish starts the file; anything else is a real problem.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  all[key] = value;
  writeFileSync(OUT, `${JSON.stringify(all, null, 2)}\n`);
}

/** Smoke mode: every figure is a plausible number of milliseconds. */
function expectSane(what: string, figures: number[]) {
  expect(figures, what).toHaveLength(RUNS);
  for (const ms of figures) {
    expect(Number.isFinite(ms) && ms > 0 && ms < 30_000, `${what}: ${ms}`).toBe(true);
  }
}

/** Index `-1` is the unmeasured warm-up, run only when there is more than one run. */
const iterations = () => (RUNS > 1 ? [-1] : []).concat([...Array(RUNS).keys()]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * In the page: from now on, `window.__firstFrame` resolves with the moment
 * (`timeOrigin + presentationTime`) `selector`'s video element hands its first decoded
 * frame to the compositor: requestVideoFrameCallback's own time stamp for that frame, the
 * same end event for duet and for the floor. The callback itself runs later, whenever
 * the page's main thread gets to it, so the time it runs would add that page's busyness.
 */
function watchFirstFrame(selector: string) {
  const video = document.querySelector<HTMLVideoElement>(selector);
  if (!video) throw new Error(`no ${selector}`);
  window.__firstFrame = new Promise((resolve) => {
    video.requestVideoFrameCallback((_now, frame) =>
      resolve(performance.timeOrigin + frame.presentationTime),
    );
  });
}

/** `promise`, or an error once `ms` have passed: every wait here is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * In the page: the floor. Two RTCPeerConnections of this page call each other as duet's
 * pages do, minus the server: before `start` both cameras are open, the caller's offer is
 * made, and the callee has taken it as made (before any candidate) and made its answer
 * with its camera's tracks (duet's pages do all that while the call rings). At `start`
 * the caller takes the answer as it stands then, and the candidates gathered so far go
 * across (duet's go in the offer and answer sent on Accept); later ones as they come.
 * `end` is the later of the two sides' first remote frame.
 */
async function floorCall(): Promise<{ start: number; end: number }> {
  const now = () => performance.timeOrigin + performance.now();
  const media = () => navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const [caller, callee] = [0, 1].map(() => {
    const video = document.createElement('video');
    video.autoplay = video.muted = video.playsInline = true;
    document.body.append(video);
    const pc = new RTCPeerConnection();
    pc.ontrack = ({ streams: [stream] }) => {
      if (video.srcObject !== stream) video.srcObject = stream;
    };
    // When the first frame went to the compositor, as in `watchFirstFrame`.
    const frame = new Promise<number>((resolve) =>
      video.requestVideoFrameCallback((_now, meta) => resolve(performance.timeOrigin + meta.presentationTime)),
    );
    return { video, pc, frame, streams: [] as MediaStream[] };
  });
  const send = (pc: RTCPeerConnection, stream: MediaStream) => {
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
  };
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  try {
    // The caller's candidates wait for `start`, as duet's wait for Accept.
    const gathered: RTCIceCandidate[] = [];
    let started = false;
    caller.pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      if (started) callee.pc.addIceCandidate(candidate).catch(fail);
      else gathered.push(candidate);
    };
    // The callee's: those gathered before `start` are in its answer; later ones go once
    // the caller has that answer (a server would keep them in that order too).
    let answered: Promise<void> | undefined;
    callee.pc.onicecandidate = ({ candidate }) => {
      if (candidate && answered) answered.then(() => caller.pc.addIceCandidate(candidate)).catch(fail);
    };
    caller.streams.push(await media());
    callee.streams.push(await media());
    send(caller.pc, caller.streams[0]);
    const offer = await caller.pc.createOffer();
    await caller.pc.setLocalDescription(offer);
    await callee.pc.setRemoteDescription(offer);
    send(callee.pc, callee.streams[0]);
    await callee.pc.setLocalDescription(await callee.pc.createAnswer());
    const start = now();
    started = true;
    for (const candidate of gathered) callee.pc.addIceCandidate(candidate).catch(fail);
    answered = caller.pc.setRemoteDescription(callee.pc.localDescription!);
    answered.catch(fail);
    const frames = await Promise.race([Promise.all([caller.frame, callee.frame]), failed]);
    return { start, end: Math.max(...frames) };
  } finally {
    for (const side of [caller, callee]) {
      side.pc.close();
      for (const stream of side.streams) for (const track of stream.getTracks()) track.stop();
      side.video.remove();
    }
  }
}

/** One floor measurement, in a fresh context on duet's home page (a secure origin). */
async function measureFloor(browser: Browser, baseURL: string): Promise<number> {
  const context = await browser.newContext({ baseURL, permissions: ['camera', 'microphone'] });
  try {
    const page = await context.newPage();
    await page.goto('/');
    const { start, end } = await within(page.evaluate(floorCall), WAIT_MS, 'in-page call');
    return end - start;
  } finally {
    await context.close();
  }
}

/** One duet call: from the callee's Accept click to the later side's first remote frame. */
async function measureDuet(caller: Person, callee: Person): Promise<number> {
  try {
    await idle(caller, callee);
    await ring(caller, callee);
    // Start where the floor starts: the caller's camera open and its offer made, the
    // callee's camera open and its answer made (the pages do that as the call starts
    // ringing; a person takes longer than that to pick up).
    await caller.page.waitForFunction(
      () => window.__duetPcs.at(-1)?.signalingState === 'have-local-offer',
      null,
      { timeout: WAIT_MS },
    );
    await callee.page.waitForFunction(
      () => window.__duetPcs.at(-1)?.localDescription?.type === 'answer',
      null,
      { timeout: WAIT_MS },
    );
    // Watch before the click, so no frame can slip by unseen.
    await Promise.all([caller, callee].map((p) => p.page.evaluate(watchFirstFrame, '#remoteVideo')));
    await recordAcceptClick(callee);
    await callee.page.locator('#accept').click();
    const frames = [caller, callee].map((p) =>
      within(p.page.evaluate(() => window.__firstFrame!), WAIT_MS, `${p.name}'s first frame`),
    );
    const end = Math.max(...(await Promise.all(frames)));
    const acceptAt = await callee.page.evaluate(() => window.__acceptAt);
    expect(acceptAt, 'the Accept click was seen').toBeDefined();
    return end - acceptAt!;
  } finally {
    await Promise.all([caller.context.close(), callee.context.close()]);
  }
}

test('call set-up: in-page floor vs duet call', async ({ browser, baseURL, open }) => {
  test.setTimeout(30_000 + (RUNS + 1) * 15_000);
  const floor: number[] = [];
  const duet: number[] = [];
  // Alternating, so whatever else the machine does hits both alike.
  for (const i of iterations()) {
    const name = i < 0 ? 'w' : `${i}`;
    const floorMs = await measureFloor(browser, baseURL!);
    const [caller, callee] = await Promise.all([
      open(`bc${name}`, { baseUrl: baseURL }),
      open(`be${name}`, { baseUrl: baseURL }),
    ]);
    const duetMs = await measureDuet(caller, callee);
    if (i >= 0) {
      floor.push(floorMs);
      duet.push(duetMs);
    }
  }
  console.log(
    `BENCH call_setup runs=${RUNS} floor_median_ms=${median(floor).toFixed(1)} ` +
      `duet_median_ms=${median(duet).toFixed(1)} ratio=${(median(duet) / median(floor)).toFixed(2)}`,
  );
  report('call_setup', {
    runs: RUNS,
    floor_ms: floor,
    duet_ms: duet,
    method:
      'start: floor = just before the caller takes the callee\'s answer (both cameras open, ' +
      'the caller\'s offer made and taken by the callee, the callee\'s answer made), duet = ' +
      'Accept click (capture listener), made once the caller\'s offer and the callee\'s ' +
      'answer are made; end: the later ' +
      'of the two sides\' first remote video frame handed to the compositor ' +
      '(requestVideoFrameCallback metadata.presentationTime); timeOrigin-based times',
  });
  if (!OUT) {
    expectSane('floor_ms', floor);
    expectSane('duet_ms', duet);
  }
});

/**
 * In the page, before its scripts: reports `performance.now()` (from navigation start)
 * when `#status` first says the socket is open and signed in: duet sets data-phase from
 * "connecting" to "idle" on the server's welcome, which only the hydrated page can do.
 */
function watchSignedIn() {
  const signedIn = () => document.querySelector('#status[data-phase="idle"][data-socket="open"]');
  new MutationObserver((_, observer) => {
    if (signedIn()) {
      observer.disconnect();
      window.__reportSignedIn?.(performance.now());
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

/**
 * What `page` reports through `__reportSignedIn`, one load at a time. Playwright stays out
 * of a page while it loads: waiting by polling would put Playwright's injected script into
 * the page (compiling it took the page's main thread 15-20 ms, counted as page load).
 */
async function signedInReports(page: Page): Promise<() => Promise<number>> {
  let report: (ms: number) => void = () => {};
  await page.exposeBinding('__reportSignedIn', (_source, ms: number) => report(ms));
  return () => new Promise<number>((resolve) => (report = resolve));
}

/** Opens `name`'s call page in `page` and returns the milliseconds to signed in. */
async function load(page: Page, signedIn: Promise<number>, name: string): Promise<number> {
  const response = await page.goto(`/webrtc/${name}.html`, { waitUntil: 'commit' });
  expect(response?.status(), `GET ${name}`).toBe(200);
  return within(signedIn, WAIT_MS, `${name} signing in`);
}

interface Asset {
  url: string;
  status: number;
  content_encoding: string | null;
  bytes: number;
  cache_control: string | null;
}

/** What `assets` says of one /pkg/ response. */
async function asset(url: string, r: Response): Promise<Asset> {
  const headers = r.headers();
  return {
    url,
    status: r.status(),
    content_encoding: headers['content-encoding'] ?? null,
    // Without a Content-Length (a streamed body), the bytes that came over the wire.
    bytes: Number(headers['content-length'] ?? (await r.request().sizes()).responseBodySize),
    cache_control: headers['cache-control'] ?? null,
  };
}

/** Records `page`'s /pkg/ responses until the returned function is called, which lists them. */
function recordAssets(page: Page): () => Promise<Asset[]> {
  const seen: Promise<Asset>[] = [];
  const onResponse = (r: Response) => {
    const url = new URL(r.url()).pathname;
    if (url.startsWith('/pkg/')) seen.push(asset(url, r));
  };
  page.on('response', onResponse);
  return () => {
    page.off('response', onResponse);
    return Promise.all(seen);
  };
}

test('page load: navigation to signed in', async ({ browser, baseURL }) => {
  test.setTimeout(30_000 + (RUNS + 1) * 15_000);
  const cold: number[] = [];
  const warm: number[] = [];
  let assets: Asset[] = [];
  for (const i of iterations()) {
    const name = i < 0 ? 'w' : `${i}`;
    // A new context each run: an empty HTTP cache, as for a first visit.
    const context = await browser.newContext({ baseURL });
    try {
      await context.addInitScript(watchSignedIn);
      const page = await context.newPage();
      const nextSignedIn = await signedInReports(page);
      const coldAssets = recordAssets(page);
      const coldMs = await load(page, nextSignedIn(), `pl${name}`);
      const loaded = await coldAssets();
      // Another name: the first page's socket may still hold its own while this one opens.
      const warmMs = await load(page, nextSignedIn(), `pw${name}`);
      if (i >= 0) {
        cold.push(coldMs);
        warm.push(warmMs);
      }
      if (i === 0) assets = loaded;
    } finally {
      await context.close();
    }
  }
  const kib = assets.reduce((sum, a) => sum + a.bytes, 0) / 1024;
  console.log(
    `BENCH page_load runs=${RUNS} cold_median_ms=${median(cold).toFixed(1)} ` +
      `warm_median_ms=${median(warm).toFixed(1)} pkg_assets=${assets.length} pkg_kib=${kib.toFixed(0)}`,
  );
  report('page_load', {
    runs: RUNS,
    ms: cold,
    warm_ms: warm,
    method:
      'start: navigation start (performance.now() origin) of /webrtc/NAME.html in a new context; ' +
      'end: #status turns data-phase=idle with data-socket=open (welcome received, so hydrated), ' +
      'seen by a MutationObserver; warm_ms: a second page in the same context (cached assets)',
    assets,
  });
  if (!OUT) {
    expectSane('ms', cold);
    expectSane('warm_ms', warm);
    expect(assets.length, '/pkg/ assets loaded').toBeGreaterThan(0);
  }
});
