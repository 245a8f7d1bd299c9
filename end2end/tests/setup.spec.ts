// How a call is set up fast: what each page prepares while it rings, and that nothing
// that names an address crosses before Accept (src/client/controller.rs, `Ring`).
import type { Page } from '@playwright/test';
import {
  accept,
  capturedTracks,
  expect,
  expectAllTracksEnded,
  expectMediaFlowing,
  expectState,
  idle,
  ring,
  test,
  type Person,
} from './helpers';

declare global {
  interface Window {
    /** Every frame the page received: its type, and whether its camera was open by then. */
    __received: { type: string; sdp?: string; cameraOpen: boolean }[];
    __cameraOpen: boolean;
    /** The types of the frames received when the status line first said "in-call". */
    __inCallAfter?: string[];
  }
}

/**
 * In the page, before its scripts: records each received frame, and makes getUserMedia
 * take `delayMs` longer (a slow phone camera), noting when it has opened.
 */
function recordFrames(delayMs: number) {
  window.__received = [];
  window.__cameraOpen = false;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.addEventListener('message', (e) => {
        const { type, sdp } = JSON.parse(e.data);
        window.__received.push({ type, sdp, cameraOpen: window.__cameraOpen });
      });
    }
  };
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const stream = await getUserMedia(constraints);
    window.__cameraOpen = true;
    return stream;
  };
}

const received = (p: Person) => p.page.evaluate(() => window.__received);

/** `#localVideo.videoWidth` in `p`'s page: non-zero once it shows the own camera. */
const preview = (p: Person) =>
  p.page.locator('#localVideo').evaluate((v: HTMLVideoElement) => v.videoWidth);

/** What `p`'s newest RTCPeerConnection holds. */
const connection = (p: Person) =>
  p.page.evaluate(async () => {
    const pc = window.__duetPcs.at(-1);
    if (!pc) return null;
    // Candidate pairs: the addresses this side would check, so has or would send to.
    let pairs = 0;
    if (pc.signalingState !== 'closed') {
      (await pc.getStats()).forEach((s) => (pairs += s.type === 'candidate-pair' ? 1 : 0));
    }
    return {
      count: window.__duetPcs.length,
      local: pc.localDescription?.type ?? null,
      remote: pc.remoteDescription?.type ?? null,
      senders: pc.getSenders().filter((s) => s.track).length,
      state: pc.signalingState,
      pairs,
    };
  });

/** The `o=` line (session id and version) of an SDP: which description it is. */
const origin = (sdp: string | undefined) => sdp?.match(/^o=.*$/m)?.[0];

test('while it rings the callee takes the offer, which names no address, answers it and sends nothing', async ({
  open,
}) => {
  const record = { beforeGoto: (page: Page) => page.addInitScript(recordFrames, 0) };
  const [alice, bob] = await Promise.all([open('alice', record), open('bob', record)]);
  await idle(alice, bob);
  await ring(alice, bob);

  // alice's offer is made, with her camera and microphone in it; bob has taken it, sees
  // his own camera, and has made his answer with it, which he keeps: alice has no answer,
  // and neither side has an address of the other's to check.
  await expect.poll(() => connection(alice)).toMatchObject({ local: 'offer', remote: null, senders: 2 });
  await expect.poll(() => preview(bob), { message: "bob's camera preview" }).toBeGreaterThan(0);
  await expect
    .poll(() => connection(bob))
    .toMatchObject({ local: 'answer', remote: 'offer', senders: 2, state: 'stable', pairs: 0 });
  expect(await connection(alice)).toMatchObject({ remote: null, pairs: 0 });
  // What bob got is the offer without any of alice's candidates: no address of hers.
  const early = (await received(bob)).filter((f) => f.type === 'ring_offer');
  expect(early).toHaveLength(1);
  expect(early[0].sdp).not.toMatch(/^a=candidate:/m);
  for (const address of early[0].sdp!.match(/^c=IN IP[46] \S+/gm) ?? []) {
    expect(address).toMatch(/ (0\.0\.0\.0|::)$/);
  }
  // Nothing else of the call crossed either way before he accepted.
  await bob.page.waitForTimeout(300);
  expect((await received(bob)).map((f) => f.type)).not.toContain('offer');
  expect((await received(bob)).map((f) => f.type)).not.toContain('_ice');
  expect((await received(alice)).map((f) => f.type)).not.toContain('answer');
  expect((await received(alice)).map((f) => f.type)).not.toContain('_ice');
  expect(await connection(bob), 'no address of alice to check').toMatchObject({ pairs: 0 });

  // Declined: both prepared connections are closed, unused, and both cameras too.
  await bob.page.locator('#decline').click();
  await expectState(alice, 'idle', 'declined');
  await expect.poll(() => connection(alice)).toMatchObject({ state: 'closed' });
  await expect.poll(() => connection(bob)).toMatchObject({ state: 'closed' });
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test("the callee's camera opens as it rings, and Accept sends the answer made with it meanwhile", async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);
  // bob sees himself before he picks up: his camera and microphone are open, and his
  // answer is made with both, in both places the offer opened, as one stream.
  await expect.poll(() => preview(bob), { message: "bob's camera preview" }).toBeGreaterThan(0);
  expect((await capturedTracks(bob)).live).toHaveLength(2);
  await expect.poll(() => connection(bob)).toMatchObject({ local: 'answer', senders: 2 });
  const made = await bob.page.evaluate(() => window.__duetPcs.at(-1)!.localDescription!.sdp);
  expect(made.match(/^a=sendrecv/gm), 'audio and video both sent').toHaveLength(2);
  expect(new Set(made.match(/^a=msid:\S+/gm)).size, 'in one stream').toBe(1);
  await expectState(bob, 'ringing-in');

  await accept(bob, alice);
  // alice got that answer (the same session and version), with the candidates bob
  // gathered while it rang written into it.
  const answer = () => alice.page.evaluate(() => window.__duetPcs.at(-1)!.remoteDescription?.sdp);
  await expect.poll(async () => origin(await answer()), 'the answer made while it rang').toBe(origin(made));
  const got = await answer();
  expect(got).toMatch(/^a=candidate:/m);
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
  // That camera is the one the call uses: the page asked for it once.
  expect((await capturedTracks(bob)).kinds.sort()).toEqual(['audio', 'video']);

  await bob.page.locator('#hangup').click();
  await expectState(alice, 'idle', 'hung_up');
  await expectAllTracksEnded(bob);
});

/**
 * In the page, before its scripts: notes which frames had arrived (see `recordFrames`)
 * when the status line first said the call is on.
 */
function recordInCall() {
  new MutationObserver((_, observer) => {
    if (document.querySelector('#status[data-phase="in-call"]')) {
      observer.disconnect();
      window.__inCallAfter = window.__received.map((f) => f.type);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-phase'] });
}

test("the caller's screen changes to the call once the answer is with its browser", async ({ open }) => {
  const record = async (page: Page) => {
    await page.addInitScript(recordFrames, 0);
    await page.addInitScript(recordInCall);
  };
  const [alice, bob] = await Promise.all([open('alice', { beforeGoto: record }), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);
  await expect.poll(() => connection(bob)).toMatchObject({ local: 'answer' });
  await accept(bob, alice);
  // Redrawing alice's screen at the accept held up the answer behind it in her page.
  const before = await alice.page.evaluate(() => window.__inCallAfter);
  expect(before).toContain('call_back');
  expect(before).toContain('answer');
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
});

test('the callee answers on Accept before its camera opens, and the offer after carries the candidates', async ({
  open,
}) => {
  // bob's camera takes 3 s to open (from when it starts ringing).
  const slowCamera = { beforeGoto: (page: Page) => page.addInitScript(recordFrames, 3_000) };
  const [alice, bob] = await Promise.all([open('alice'), open('bob', slowCamera)]);
  await idle(alice, bob);
  await ring(alice, bob);
  await expect.poll(() => connection(bob)).toMatchObject({ remote: 'offer' });
  await accept(bob, alice);

  // bob answered the offer he took while it rang, and alice has that answer, while his
  // camera still opens.
  await expect.poll(() => connection(alice)).toMatchObject({ remote: 'answer' });
  expect(await bob.page.evaluate(() => window.__cameraOpen), 'his camera is still opening').toBe(false);
  // alice heard of the accept and sent her offer again, with the candidates gathered
  // while it rang written into it; bob adds those to the offer he has.
  await expect.poll(async () => (await received(bob)).map((f) => f.type)).toContain('offer');
  const offer = (await received(bob)).find((f) => f.type === 'offer')!;
  expect(offer.cameraOpen, 'the offer arrived before the camera opened').toBe(false);
  expect(offer.sdp).toMatch(/^a=candidate:/m);

  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
});
