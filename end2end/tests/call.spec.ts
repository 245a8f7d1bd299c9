// A call end to end: two people, real media both ways, and what each side sees when it ends.
import {
  accept,
  connect,
  dial,
  expect,
  expectAllTracksEnded,
  expectMediaFlowing,
  expectState,
  firstFrameAt,
  idle,
  recordAcceptClick,
  ring,
  test,
} from './helpers';

/** How soon a caller must notice that the other side's page closed. */
const GONE_WITHIN_MS = 5_000;

test('alice calls bob, media flows both ways, alice hangs up', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);

  // Start watching for the first decoded frame on both sides before the click.
  await recordAcceptClick(bob);
  const calleeFirstFrame = firstFrameAt(bob);
  const callerFirstFrame = firstFrameAt(alice);
  await accept(bob, alice);
  const acceptAt = await bob.page.evaluate(() => window.__acceptAt);
  const [calleeAt, callerAt] = await Promise.all([calleeFirstFrame, callerFirstFrame]);
  expect(acceptAt, 'the Accept click was seen').toBeDefined();
  expect(calleeAt, 'bob decoded a first frame').not.toBeNull();
  expect(callerAt, 'alice decoded a first frame').not.toBeNull();
  const ms = (at: number | null) => Math.round(at! - acceptAt!);
  // A measurement for the log, not a bound.
  console.log(`ACCEPT_TO_FIRST_FRAME_MS callee=${ms(calleeAt)} caller=${ms(callerAt)}`);

  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);

  await alice.page.locator('#hangup').click();
  await expectState(alice, 'idle', 'local');
  await expectState(bob, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('bob (the callee) hangs up', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await connect(alice, bob);

  await bob.page.locator('#hangup').click();
  await expectState(bob, 'idle', 'local');
  await expectState(alice, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('a third caller gets busy and the call goes on', async ({ open }) => {
  const [alice, bob, carol] = await Promise.all([open('alice'), open('bob'), open('carol')]);
  await idle(alice, bob, carol);
  await connect(alice, bob);

  await dial(carol, alice.name);
  await expectState(carol, 'idle', 'busy');
  await expectState(alice, 'in-call');
  await expectState(bob, 'in-call');
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
  await expectAllTracksEnded(carol, { captured: false });
});

test("the caller learns when the callee's page closes mid-call", async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await connect(alice, bob);

  await bob.page.close();
  await expectState(alice, 'idle', 'gone', GONE_WITHIN_MS);
  await expectAllTracksEnded(alice);
});
