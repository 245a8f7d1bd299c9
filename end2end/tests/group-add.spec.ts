// A member added to a group later sees the group and everything said in it before.
import { expect, idle, test } from './helpers';

test('a member added later sees the group and its history', async ({ open }) => {
  const [alice, bob, carol] = await Promise.all([open('alice'), open('bob'), open('carol')]);
  await idle(alice, bob, carol);
  const group = `later-${alice.name}`;

  await alice.page.locator('#groupName').fill(group);
  await alice.page.locator('#groupMembers').fill(bob.name);
  await alice.page.locator('#groupCreate').click();
  await expect(alice.page.locator('#chat')).toHaveAttribute('data-conversation', `group:${group}`);
  await alice.page.locator('#chatInput').fill('before carol');
  await alice.page.locator('#chatSend').click();
  await expect(alice.page.locator('#messages li').last()).toHaveAttribute('data-state', 'delivered');
  await expect(carol.page.locator(`#groups [data-group="${group}"]`)).toHaveCount(0);

  await alice.page.locator('#groupAddName').fill(carol.name);
  await alice.page.locator('#groupAdd').click();
  await expect(alice.page.locator('#chatTitle')).toContainText('3 members');
  await carol.page.locator(`#groups [data-group="${group}"]`).click();
  await expect(carol.page.locator('#messages li .text')).toHaveText(['before carol']);
  await expect(carol.page.locator('#messages li')).toHaveAttribute('data-from', alice.name);
});
