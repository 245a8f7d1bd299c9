// A page written for the original server and a duet page call each other, both ways.
import { dial, expect, expectMediaFlowing, expectState, idle, test } from './helpers';

test('a duet page calls an original page', async ({ open }) => {
  const [alice, zs] = await Promise.all([open('alice'), open('zs', { original: true })]);
  await idle(alice);
  await dial(alice, zs.name); // zs's page confirm()s, and the test accepts the dialog
  await expectState(alice, 'in-call');
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(zs)]);

  await alice.page.locator('#hangup').click();
  await expect(zs.page).toHaveTitle(/^hung up/);
});

test('an original page calls a duet page', async ({ open }) => {
  const [zs, bob] = await Promise.all([open('zs', { original: true }), open('bob')]);
  await idle(bob);
  await zs.page.waitForFunction(() => document.readyState === 'complete');
  await zs.page.locator('#toUser').fill(bob.name);
  // The original page has no "socket open" signal: retry the click until bob rings.
  await expect(async () => {
    await zs.page.locator('#call').click();
    await expectState(bob, 'ringing-in', undefined, 1_000);
  }).toPass({ timeout: 10_000 });
  // The original page has no status line: bob's side, and the media, tell.
  await bob.page.locator('#accept').click();
  await expectState(bob, 'in-call');
  await Promise.all([expectMediaFlowing(bob), expectMediaFlowing(zs)]);

  await zs.page.locator('#hangup').click();
  await expectState(bob, 'idle', 'hung_up');
});
