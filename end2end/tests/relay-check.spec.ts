// The relay self-test on a server with no TURN server: it says so instead of hanging or
// claiming success. (turn.spec.ts runs it against working and broken TURN servers.)
import { expect, idle, test } from './helpers';

test('the relay self-test says when no TURN server is configured', async ({ open }) => {
  const alice = await open('alice');
  await idle(alice);
  await alice.page.locator('#relayTest').click();
  const result = alice.page.locator('#relayResult');
  await expect(result).toHaveAttribute('data-result', 'failed');
  await expect(result).toContainText('No TURN server');
});
