// Shared steps for the call tests: open a person in their own browser context, press the
// call buttons, and read what the browser itself reports (captured tracks, getStats(),
// <video> size) rather than what the page claims.
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { BASE_URL } from '../address';
import { originalPageServer } from './original-page';

export { expect };

/** One person: their own browser context (own fake camera) on their own call page. */
export interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
}

/** `data-phase` of `#status`. */
export type Phase =
  | 'connecting'
  | 'idle'
  | 'opening-camera'
  | 'ringing-out'
  | 'ringing-in'
  | 'in-call'
  | 'closed';

/** `data-reason` of `#status`: why the last ring, call or socket ended ('' for none). */
export type Reason =
  | ''
  | 'declined'
  | 'busy'
  | 'offline'
  | 'cancelled'
  | 'timeout'
  | 'hung_up'
  | 'gone'
  | 'no_media'
  | 'no_connection'
  | 'name_in_use'
  | 'local'
  | 'disconnected'
  | 'answered_elsewhere';

/** The password of every account the tests make (sign-up takes 8 characters or more). */
export const PASSWORD = 'correct horse battery';

/** How `open` signs a person in before it opens their page. */
export type Account = 'sign-up' | 'sign-in';

/**
 * Signs `context` in as `name` on `baseUrl` the way the home page's forms do (a form post,
 * kept signed in): `sign-up` creates the account, `sign-in` opens another session of it.
 * The context keeps the session cookie.
 */
export async function signInContext(
  context: BrowserContext,
  name: string,
  account: Account,
  { baseUrl = BASE_URL, password = PASSWORD } = {},
) {
  const path = account === 'sign-up' ? '/signup' : '/signin';
  const response = await context.request.post(`${baseUrl}${path}`, {
    form: { name, password, keep: 'on' },
    maxRedirects: 0,
  });
  expect(response.status(), `POST ${path} as ${name}`).toBe(303);
  const cookie = (await context.cookies(baseUrl)).find((c) => c.name === 'duet_session');
  expect(cookie, `${name}'s session cookie`).toBeTruthy();
}

declare global {
  interface Window {
    __duetStreams: MediaStream[];
    __duetTracks: MediaStreamTrack[];
    __duetPcs: RTCPeerConnection[];
    __acceptAt?: number;
  }
}

/**
 * Runs in every page before its own scripts: remembers every stream getUserMedia hands out
 * and every RTCPeerConnection created, so the tests can inspect the real objects.
 * Serialised into the page, so it must not touch anything outside itself.
 */
function instrument() {
  window.__duetStreams = [];
  window.__duetTracks = [];
  window.__duetPcs = [];
  const devices = navigator.mediaDevices;
  if (devices?.getUserMedia) {
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
      const stream = await getUserMedia(constraints);
      window.__duetStreams.push(stream);
      // Kept apart from the stream too, in case the page later removes a track from it.
      window.__duetTracks.push(...stream.getTracks());
      return stream;
    };
  }
  const Native = window.RTCPeerConnection;
  if (Native) {
    // A subclass, so `instanceof RTCPeerConnection` (wasm-bindgen's casts) still holds.
    window.RTCPeerConnection = class extends Native {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args);
        window.__duetPcs.push(this);
      }
    };
  }
}

/** A kind of device a person's browser lacks, for `open(who, { lacks })`. */
export type Device = 'audio' | 'video';

/**
 * Runs in a page after `instrument`: getUserMedia fails as it does on a machine without
 * these devices (NotFoundError) whenever a request includes one of them.
 */
function withoutDevices(lacks: Device[]) {
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    if (lacks.some((kind) => constraints?.[kind])) {
      throw new DOMException('Requested device not found', 'NotFoundError');
    }
    return getUserMedia(constraints);
  };
}

/** How `open` sets a person up, beyond their name. */
export interface OpenOptions {
  /** Devices their browser lacks. */
  lacks?: Device[];
  /** The original demo's page instead of duet's, talking to this server. */
  original?: boolean;
  /**
   * Runs on the new page before it loads, e.g. `page.routeWebSocket(...)` to stand between
   * the page and its socket (a route must exist before the page opens the socket).
   */
  beforeGoto?: (page: Page) => Promise<void>;
  /**
   * The server to open the page on (default `BASE_URL`), e.g. `TLS_BASE_URL`; for an
   * `https:` one the browser context accepts the server's self-signed certificate, as a
   * person does once after checking its fingerprint.
   */
  baseUrl?: string;
  /**
   * Signed in as the person first: `sign-up` creates their account (the name is then
   * claimed), `sign-in` is the same person on another device (a context of its own).
   */
  account?: Account;
}

/**
 * `open('alice')` opens alice's call page in a fresh browser context. Names get a suffix
 * unique to the test, so tests never meet each other's users; within one test the same
 * `who` always means the same name (opening it twice is the name-in-use case, or, once the
 * first page has closed, the same person coming back).
 */
export const test = base.extend<{
  open: (who: string, options?: OpenOptions) => Promise<Person>;
}>({
  open: async ({ browser }, use, testInfo) => {
    const tag = Math.random().toString(36).slice(2, 8);
    const contexts: BrowserContext[] = [];
    const consoleLines: string[] = [];
    await use(async (who, { lacks = [], original = false, beforeGoto, baseUrl = BASE_URL, account } = {}) => {
      const name = `${who}-${tag}`;
      const context = await browser.newContext({
        permissions: ['camera', 'microphone'],
        ignoreHTTPSErrors: baseUrl.startsWith('https:'),
      });
      contexts.push(context);
      await context.addInitScript(instrument);
      if (lacks.length > 0) await context.addInitScript(withoutDevices, lacks);
      if (account) await signInContext(context, name, account, { baseUrl });
      const page = await context.newPage();
      page.on('console', (m) => consoleLines.push(`[${name}] ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`[${name}] page error: ${e.message}`));
      // `original`: the original demo's page instead of duet's, talking to this server.
      const url = original
        ? `${await originalPageServer()}/${name}.html?server=${new URL(BASE_URL).host}`
        : `${baseUrl}/webrtc/${name}.html`;
      if (original) page.on('dialog', (dialog) => dialog.accept());
      if (beforeGoto) await beforeGoto(page);
      const response = await page.goto(url);
      expect(response?.status(), `GET ${url}`).toBe(200);
      return { name, context, page };
    });
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('browser-console.txt', {
        body: consoleLines.join('\n'),
        contentType: 'text/plain',
      });
    }
    for (const context of contexts) await context.close();
  },
});

/** The status line. */
export const status = (p: Person) => p.page.locator('#status');

/** Waits until `p`'s status shows `phase` (and `reason`, when given). */
export async function expectState(p: Person, phase: Phase, reason?: Reason, timeout?: number) {
  const want = reason === undefined ? { phase } : { phase, reason };
  await expect
    .poll(
      () =>
        status(p)
          .evaluate(
            (el: HTMLElement) => ({ phase: el.dataset.phase, reason: el.dataset.reason ?? '' }),
            undefined,
            { timeout: 2_000 },
          )
          // A slow or missing #status fails this try, not the whole poll.
          .catch((e: Error) => ({ phase: `unreadable: ${e.message.split('\n')[0]}`, reason: '' })),
      { message: `${p.name}'s #status data-phase/data-reason`, timeout },
    )
    .toMatchObject(want);
}

/** Waits until every page's socket is open and the page is ready to call. */
export async function idle(...people: Person[]) {
  await Promise.all(people.map((p) => expectState(p, 'idle')));
}

/** `caller` types `name` and presses "Video call"; what happens next is up to the test. */
export async function dial(caller: Person, name: string) {
  await caller.page.locator('#toUser').fill(name);
  await caller.page.locator('#call').click();
}

/** `caller` calls `callee` and both see it ringing. */
export async function ring(caller: Person, callee: Person) {
  await dial(caller, callee.name);
  await expectState(caller, 'ringing-out');
  await expectState(callee, 'ringing-in');
  await expect(status(callee)).toContainText(caller.name);
  await expect(callee.page.locator('#accept')).toBeVisible();
  await expect(callee.page.locator('#decline')).toBeVisible();
}

/** `callee` presses Accept and both sides are in the call. */
export async function accept(callee: Person, caller: Person) {
  await callee.page.locator('#accept').click();
  await Promise.all([expectState(callee, 'in-call'), expectState(caller, 'in-call')]);
}

/** `caller` calls `callee`, who accepts; returns once video decodes on both sides. */
export async function connect(caller: Person, callee: Person) {
  await ring(caller, callee);
  await accept(callee, caller);
  await Promise.all([expectMediaFlowing(caller), expectMediaFlowing(callee)]);
}

export interface Inbound {
  /** Sum of inbound-rtp `framesDecoded` over video streams of the newest peer connection. */
  framesDecoded: number;
  /** Sum of inbound-rtp `packetsReceived` over audio streams of the newest peer connection. */
  packetsReceived: number;
  /** `#remoteVideo.videoWidth`: non-zero once the element has a decoded frame to show. */
  videoWidth: number;
}

/** What `p`'s browser reports it receives, from its newest RTCPeerConnection. */
export function inbound(p: Person): Promise<Inbound> {
  return p.page.evaluate(async () => {
    const pc = window.__duetPcs.at(-1);
    let framesDecoded = 0;
    let packetsReceived = 0;
    if (pc && pc.signalingState !== 'closed') {
      (await pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') framesDecoded += s.framesDecoded ?? 0;
        if (s.kind === 'audio') packetsReceived += s.packetsReceived ?? 0;
      });
    }
    const video = document.querySelector<HTMLVideoElement>('#remoteVideo');
    return { framesDecoded, packetsReceived, videoWidth: video?.videoWidth ?? 0 };
  });
}

/** Remote video is being decoded (and keeps coming), shown, and audio arrives. */
export async function expectMediaFlowing(p: Person) {
  const decoded = async () => (await inbound(p)).framesDecoded;
  await expect
    .poll(decoded, { message: `${p.name} decodes remote video`, timeout: 20_000 })
    .toBeGreaterThan(0);
  const before = await decoded();
  await p.page.waitForTimeout(1_000);
  expect(await decoded(), `${p.name}: framesDecoded grows over 1 s`).toBeGreaterThan(before);
  await expect
    .poll(async () => (await inbound(p)).videoWidth, { message: `${p.name}: #remoteVideo videoWidth` })
    .toBeGreaterThan(0);
  await expect
    .poll(async () => (await inbound(p)).packetsReceived, { message: `${p.name} receives audio` })
    .toBeGreaterThan(0);
}

/** Kinds of all tracks getUserMedia gave `p`'s page, and of those not yet stopped. */
export function capturedTracks(p: Person): Promise<{ kinds: string[]; live: string[] }> {
  return p.page.evaluate(() => {
    const all = new Set(window.__duetTracks);
    for (const stream of window.__duetStreams) for (const t of stream.getTracks()) all.add(t);
    const tracks = [...all];
    return {
      kinds: tracks.map((t) => t.kind),
      live: tracks.filter((t) => t.readyState !== 'ended').map((t) => `${t.kind} "${t.label}"`),
    };
  });
}

/**
 * Every camera and microphone track `p` ever got is stopped. With `captured` (after a
 * call), `p` must also have captured both a camera and a microphone track, so "all
 * stopped" cannot pass just because nothing was seen.
 */
export async function expectAllTracksEnded(p: Person, { captured = true } = {}) {
  await expect
    .poll(async () => (await capturedTracks(p)).live, {
      message: `${p.name}: camera/microphone tracks still live`,
    })
    .toEqual([]);
  if (captured) {
    const { kinds } = await capturedTracks(p);
    expect(kinds, `${p.name} captured a camera and a microphone`).toEqual(
      expect.arrayContaining(['audio', 'video']),
    );
  }
}

/** From now on, `p` records when Accept is clicked, as `performance.timeOrigin + now()`. */
export async function recordAcceptClick(p: Person) {
  await p.page.evaluate(() => {
    // Capture phase on window: runs before any handler of the page's own.
    window.addEventListener(
      'click',
      (e) => {
        if ((e.target as Element | null)?.closest?.('#accept')) {
          window.__acceptAt = performance.timeOrigin + performance.now();
        }
      },
      { capture: true },
    );
  });
}

/**
 * Resolves with the moment (`performance.timeOrigin + now()`, comparable across pages of
 * one machine) when `p`'s newest peer connection first reports a decoded video frame, or
 * null after `timeoutMs`. Polls getStats() every 20 ms inside the page; Chromium caches
 * stats for a few tens of ms, so the figure is that coarse.
 */
export function firstFrameAt(p: Person, timeoutMs = 20_000): Promise<number | null> {
  return p.page
    .evaluate(async (timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const pc = window.__duetPcs.at(-1);
        if (pc && pc.signalingState !== 'closed') {
          let decoded = 0;
          (await pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') decoded += s.framesDecoded ?? 0;
          });
          if (decoded > 0) return performance.timeOrigin + performance.now();
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return null;
    }, timeoutMs)
    .catch(() => null); // the page went away; the test's own assertions say why
}
