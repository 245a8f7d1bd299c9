// Calls from browsers that lack a camera, or any device at all, or that ask their user
// before they open it.
import {
  accept,
  capturedTracks,
  expect,
  expectAllTracksEnded,
  expectMediaFlowing,
  expectState,
  idle,
  inbound,
  ring,
  status,
  test,
  type OpenOptions,
  type Person,
} from './helpers';

type Open = (who: string, options?: OpenOptions) => Promise<Person>;

test('a callee without a camera answers with audio only', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob', { lacks: ['video'] })]);
  await idle(alice, bob);
  await ring(alice, bob);
  await accept(bob, alice);

  // bob sees alice and hears her; alice hears bob, who sends no video.
  await expect
    .poll(async () => (await inbound(bob)).framesDecoded, { message: 'bob decodes alice' })
    .toBeGreaterThan(0);
  await expect
    .poll(async () => (await inbound(alice)).packetsReceived, { message: 'alice hears bob' })
    .toBeGreaterThan(0);
  expect((await capturedTracks(bob)).kinds).toEqual(['audio']);
  await expect(bob.page.locator('.tile.localVideo figcaption')).toContainText('audio only');

  await bob.page.locator('#hangup').click();
  await expectState(alice, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob, { captured: false });
});

/**
 * Runs in a page before its scripts: getUserMedia answers only once the test calls
 * `window.__grantCamera()`, as when the browser asks its user first. Serialised into the
 * page, so it must not touch anything outside itself.
 */
function cameraAwaitsPermission() {
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  let grant!: () => void;
  const granted = new Promise<void>((resolve) => (grant = resolve));
  (window as unknown as { __grantCamera: () => void }).__grantCamera = grant;
  devices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    await granted;
    return getUserMedia(constraints);
  };
}

/** bob's page asks for the camera as a browser asks its user; alice calls, bob accepts. */
async function acceptWhileCameraAsked(open: Open): Promise<[Person, Person]> {
  const [alice, bob] = await Promise.all([
    open('alice'),
    open('bob', { beforeGoto: (page) => page.addInitScript(cameraAwaitsPermission) }),
  ]);
  await idle(alice, bob);
  await ring(alice, bob);
  await accept(bob, alice);
  return [alice, bob];
}

/** `p` says yes to the camera (see `cameraAwaitsPermission`). */
async function grantCamera(p: Person) {
  await p.page.evaluate(() => (window as unknown as { __grantCamera: () => void }).__grantCamera());
}

test('while the callee is asked for the camera, the call connects and the callee sees the caller', async ({
  open,
}) => {
  const [alice, bob] = await acceptWhileCameraAsked(open);

  // bob's camera is not open yet, and alice's picture and sound already reach him.
  await expect
    .poll(async () => (await inbound(bob)).framesDecoded, { message: 'bob decodes alice' })
    .toBeGreaterThan(0);
  await expect
    .poll(async () => (await inbound(bob)).packetsReceived, { message: 'bob hears alice' })
    .toBeGreaterThan(0);
  expect((await capturedTracks(bob)).kinds, 'bob has no camera or microphone yet').toEqual([]);

  // bob allows it: his media joins the running call, with no new offer (alice makes them
  // all, and her description stays as it was).
  // Read once her candidates are all in it (each one gathered adds a line).
  await alice.page.waitForFunction(() => window.__duetPcs.at(-1)!.iceGatheringState === 'complete');
  const offer = () => alice.page.evaluate(() => window.__duetPcs.at(-1)!.localDescription!.sdp);
  const before = await offer();
  await grantCamera(bob);
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
  expect(await offer(), 'the same connection and offer carry it').toBe(before);

  await alice.page.locator('#hangup').click();
  await expectState(bob, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('a call that ends while the callee is asked for the camera closes the camera once it opens', async ({
  open,
}) => {
  const [alice, bob] = await acceptWhileCameraAsked(open);
  await alice.page.locator('#hangup').click();
  await expectState(bob, 'idle', 'hung_up');

  // The browser hands the camera over only now, to a page whose call is over.
  await grantCamera(bob);
  await expect.poll(async () => (await capturedTracks(bob)).kinds.length).toBeGreaterThan(0);
  await expectAllTracksEnded(bob);
  await expectAllTracksEnded(alice);
});

test('a callee with neither camera nor microphone declines, saying why', async ({ open }) => {
  const [alice, bob] = await Promise.all([
    open('alice'),
    open('bob', { lacks: ['audio', 'video'] }),
  ]);
  await idle(alice, bob);
  await ring(alice, bob);

  await bob.page.locator('#accept').click();
  await expectState(bob, 'idle', 'no_media');
  await expect(status(bob)).toContainText('camera or microphone');
  await expectState(alice, 'idle', 'no_media');
  await expect(status(alice)).toContainText(bob.name);
  await expectAllTracksEnded(alice, { captured: false });
  expect((await capturedTracks(bob)).kinds).toEqual([]);
});

test('a caller with neither camera nor microphone is told so and nobody is rung', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([
    open('alice', { lacks: ['audio', 'video'] }),
    open('bob'),
  ]);
  await idle(alice, bob);

  await alice.page.locator('#toUser').fill(bob.name);
  await alice.page.locator('#call').click();
  await expectState(alice, 'idle', 'no_media');
  await expect(status(alice)).toContainText('camera or microphone');
  // Give a wrongly sent ring time to arrive.
  await bob.page.waitForTimeout(500);
  await expectState(bob, 'idle', '');
});
