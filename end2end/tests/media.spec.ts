// Calls from browsers that lack a camera, or any device at all.
import {
  accept,
  capturedTracks,
  expect,
  expectAllTracksEnded,
  expectState,
  idle,
  inbound,
  ring,
  status,
  test,
} from './helpers';

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
