// Rings that never become calls: declined, unanswered because nobody is there, cancelled.
import {
  capturedTracks,
  dial,
  expect,
  expectAllTracksEnded,
  expectState,
  idle,
  ring,
  status,
  test,
  type Person,
} from './helpers';

/** `p`'s camera and microphone are open: the callee's open as it starts ringing. */
async function cameraOpen(p: Person) {
  await expect.poll(async () => (await capturedTracks(p)).live.length).toBe(2);
}

test('bob declines', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);
  await cameraOpen(bob);

  await bob.page.locator('#decline').click();
  await expectState(alice, 'idle', 'declined');
  await expect(status(alice)).toContainText(bob.name);
  await expectState(bob, 'idle', 'local');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('calling someone who is not online', async ({ open }) => {
  const alice = await open('alice');
  await idle(alice);

  await dial(alice, 'nobody_xyz');
  await expectState(alice, 'idle', 'offline');
  await expectAllTracksEnded(alice, { captured: false });
});

test('alice cancels before bob answers', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);
  await cameraOpen(bob);

  await alice.page.locator('#cancel').click();
  await expectState(alice, 'idle', 'local');
  await expectState(bob, 'idle', 'cancelled');
  await expect(bob.page.locator('#accept')).toBeHidden();
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});
