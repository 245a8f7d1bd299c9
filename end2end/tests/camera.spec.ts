// Asking for the camera: the page goes on while the browser asks its person (chat comes
// and goes, Cancel works), each reason a camera cannot open is told in its own words, and
// a callee whose browser would ask is not asked while it only rings.
import {
  accept,
  capturedTracks,
  dial,
  expect,
  expectAllTracksEnded,
  expectMediaFlowing,
  expectState,
  idle,
  ring,
  status,
  test,
  type Person,
} from './helpers';

declare global {
  interface Window {
    /** getUserMedia calls so far. */
    __asked: number;
    /** Lets a waiting getUserMedia answer (see `cameraWaits`). */
    __grantCamera: () => void;
    /** The DOMException name getUserMedia fails with (see `cameraFails`). */
    __failWith: string;
  }
}

/**
 * In the page, before its scripts: getUserMedia answers only once the test calls
 * `window.__grantCamera()`, as while the browser asks its person. Serialised into the
 * page, so it must not touch anything outside itself.
 */
function cameraWaits() {
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  let grant!: () => void;
  const granted = new Promise<void>((resolve) => (grant = resolve));
  window.__grantCamera = grant;
  window.__asked = 0;
  devices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    window.__asked += 1;
    await granted;
    return getUserMedia(constraints);
  };
}

/** In the page: getUserMedia fails with a DOMException named `window.__failWith`. */
function cameraFails() {
  window.__asked = 0;
  navigator.mediaDevices.getUserMedia = async () => {
    window.__asked += 1;
    throw new DOMException('refused by the test', window.__failWith);
  };
}

/** In the page: no `navigator.mediaDevices`, as on a plain-HTTP LAN address. */
function insecurePage() {
  Object.defineProperty(Navigator.prototype, 'mediaDevices', {
    get: () => undefined,
    configurable: true,
  });
}

/**
 * In the page: the browser has not been granted camera or microphone yet, so opening
 * them would ask the person: permissions.query says "prompt" for both. getUserMedia calls
 * are counted.
 */
function cameraNotGrantedYet() {
  window.__asked = 0;
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints?: MediaStreamConstraints) => {
    window.__asked += 1;
    return getUserMedia(constraints);
  };
  const permissions = navigator.permissions;
  const query = permissions.query.bind(permissions);
  permissions.query = (descriptor: PermissionDescriptor) => {
    const name = descriptor.name as string;
    if (name !== 'camera' && name !== 'microphone') return query(descriptor);
    // Shaped as the browser's own answer.
    const status = Object.create(PermissionStatus.prototype, {
      name: { value: name },
      state: { value: 'prompt' },
    });
    return Promise.resolve(status as PermissionStatus);
  };
}

const asked = (p: Person) => p.page.evaluate(() => window.__asked);

/** `p` opens the conversation with `name` (the dial form's *Message*). */
async function openChat(p: Person, name: string) {
  await p.page.locator('#toUser').fill(name);
  await p.page.locator('#openChat').click();
  await expect(p.page.locator('#chat')).toHaveAttribute('data-conversation', `user:${name}`);
}

/** `p` writes `text` in the open conversation and sends it. */
async function say(p: Person, text: string) {
  await p.page.locator('#chatInput').fill(text);
  await p.page.locator('#chatSend').click();
}

const said = (p: Person, text: string) => p.page.locator('#messages li .text', { hasText: text });

test('while the browser asks for the camera, chat goes on and Cancel works', async ({ open }) => {
  const [alice, bob] = await Promise.all([
    open('alice', { beforeGoto: (page) => page.addInitScript(cameraWaits) }),
    open('bob'),
  ]);
  await idle(alice, bob);
  await openChat(alice, bob.name);
  await openChat(bob, alice.name);

  // alice presses Video call (the name is still in the field) and her browser asks her.
  await alice.page.locator('#call').click();
  await expect.poll(() => asked(alice)).toBe(1);

  // Meanwhile chat arrives and leaves, and the page says what it waits for.
  await say(bob, 'are you there?');
  await expect(said(alice, 'are you there?')).toBeVisible();
  await say(alice, 'one moment');
  await expect(said(bob, 'one moment')).toBeVisible();
  await expectState(alice, 'opening-camera');
  await expect(status(alice)).toContainText(bob.name);

  // She thinks better of it; bob was never rung.
  await expect(alice.page.locator('#cancel')).toBeVisible();
  await alice.page.locator('#cancel').click();
  await expectState(alice, 'idle', 'local');
  await expectState(bob, 'idle', '');

  // The browser hands the camera over only now: it is closed at once, and nobody rings.
  await alice.page.evaluate(() => window.__grantCamera());
  await expect.poll(async () => (await capturedTracks(alice)).kinds.length).toBeGreaterThan(0);
  await expectAllTracksEnded(alice);
  await bob.page.waitForTimeout(500);
  await expectState(bob, 'idle', '');
  await expectState(alice, 'idle', 'local');
});

test('each reason the camera cannot open is told in its own words', async ({ open }) => {
  const [alice, bob] = await Promise.all([
    open('alice', { beforeGoto: (page) => page.addInitScript(cameraFails) }),
    open('bob'),
  ]);
  await idle(alice, bob);
  const cases: Array<[string, string]> = [
    ['NotAllowedError', 'blocked for this page'],
    ['NotReadableError', 'in use by another app'],
    ['AbortError', 'in use by another app'],
    ['NotFoundError', 'No camera or microphone was found'],
    ['OverconstrainedError', 'No camera or microphone was found'],
    ['SecurityError', 'HTTPS'],
  ];
  for (const [name, words] of cases) {
    const before = await asked(alice);
    await alice.page.evaluate((name) => (window.__failWith = name), name);
    await dial(alice, bob.name);
    await expect.poll(() => asked(alice), { message: `${name}: the camera was asked for` }).toBeGreaterThan(before);
    await expectState(alice, 'idle', 'no_media');
    await expect(status(alice), name).toContainText(words);
  }
  // Nobody was rung.
  await expectState(bob, 'idle', '');
});

test('a page that is not secure says the camera needs HTTPS', async ({ open }) => {
  const [alice, bob] = await Promise.all([
    open('alice', { beforeGoto: (page) => page.addInitScript(insecurePage) }),
    open('bob'),
  ]);
  await idle(alice, bob);
  await dial(alice, bob.name);
  await expectState(alice, 'idle', 'no_media');
  await expect(status(alice)).toContainText('HTTPS');
  await expect(status(alice)).toContainText('On a phone');
});

test('a callee whose browser would ask is asked on Accept, not while it rings', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([
    open('alice'),
    open('bob', { beforeGoto: (page) => page.addInitScript(cameraNotGrantedYet) }),
  ]);
  await idle(alice, bob);
  await ring(alice, bob);

  // Long enough for a camera opened while it rings to have been asked for.
  await bob.page.waitForTimeout(1_000);
  expect(await asked(bob), 'bob was not asked while it rang').toBe(0);
  expect((await capturedTracks(bob)).kinds).toEqual([]);

  await accept(bob, alice);
  await expect.poll(() => asked(bob), { message: 'bob is asked on Accept' }).toBeGreaterThan(0);
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
  await bob.page.locator('#hangup').click();
  await expectState(alice, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('a callee whose browser allows the camera has it open while it rings', async ({ open }) => {
  // The test contexts grant camera and microphone: Chromium's permissions.query says so.
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  const states = await bob.page.evaluate(async () =>
    Promise.all(
      ['camera', 'microphone'].map(
        async (name) => (await navigator.permissions.query({ name } as PermissionDescriptor)).state,
      ),
    ),
  );
  expect(states).toEqual(['granted', 'granted']);
  await idle(alice, bob);
  await ring(alice, bob);
  await expect.poll(async () => (await capturedTracks(bob)).live.length).toBe(2);
  await bob.page.locator('#decline').click();
  await expectAllTracksEnded(bob);
});
