// A call that is accepted but can never connect (its pages may only use a TURN relay, and
// nothing answers at the relay's address) ends at the server's connect deadline on both
// sides, says what to try, and leaves a line in the conversation.
import { UNREACHABLE_CONNECT_SECS, UNREACHABLE_URL } from '../turn-servers';
import {
  accept,
  expect,
  expectAllTracksEnded,
  expectState,
  idle,
  ring,
  status,
  test,
  type Person,
} from './helpers';

/** `p` opens the conversation with `name` (the dial form's *Message*). */
async function openChat(p: Person, name: string) {
  await p.page.locator('#toUser').fill(name);
  await p.page.locator('#openChat').click();
  await expect(p.page.locator('#chat')).toHaveAttribute('data-conversation', `user:${name}`);
}

test('a call that cannot connect ends at the deadline on both sides, saying why', async ({
  open,
}) => {
  const baseUrl = UNREACHABLE_URL;
  const [alice, bob] = await Promise.all([open('alice', { baseUrl }), open('bob', { baseUrl })]);
  await idle(alice, bob);
  await ring(alice, bob);
  const accepted = Date.now();
  await accept(bob, alice);

  // Well past the deadline, and far short of forever.
  const within = (UNREACHABLE_CONNECT_SECS + 10) * 1_000;
  await Promise.all([
    expectState(alice, 'idle', 'no_connection', within),
    expectState(bob, 'idle', 'no_connection', within),
  ]);
  expect(Date.now() - accepted, 'not before the deadline').toBeGreaterThanOrEqual(
    (UNREACHABLE_CONNECT_SECS - 0.5) * 1_000,
  );
  for (const p of [alice, bob]) {
    await expect(status(p)).toContainText('could not connect');
    // These pages had a relay to try: the words point at it.
    await expect(status(p)).toContainText('TURN relay');
    await expectAllTracksEnded(p);
  }

  // One line in the conversation, the same for both, from the caller.
  await openChat(alice, bob.name);
  await openChat(bob, alice.name);
  for (const p of [alice, bob]) {
    const missed = p.page.locator('#messages li[data-kind="missed_call"]');
    await expect(missed, `${p.name} sees one line for the call`).toHaveCount(1);
    await expect(missed).toHaveAttribute('data-from', alice.name);
    await expect(missed).toContainText('could not connect');
  }

  // And both can call again.
  await expectState(alice, 'idle');
  await ring(alice, bob);
  await bob.page.locator('#decline').click();
  await expectState(alice, 'idle', 'declined');
});
