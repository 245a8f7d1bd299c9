// Accessibility to WCAG 2.1 AA, as axe-core checks it, on every screen a person meets: the
// home page, the call page idle, ringing, in a call, and with a conversation open. A
// serious or critical violation fails the test, with axe's own account of it.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { BASE_URL } from '../address';
import { accept, expect, idle, ring, test } from './helpers';

/** The WCAG 2.0 and 2.1 A and AA rules axe knows. */
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Serious and critical violations on `page` now, as "rule: target (summary)" lines. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_AA).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) =>
      v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${n.failureSummary?.split('\n')[1]?.trim()})`),
    );
}

test('the home page has no serious accessibility violation', async ({ page }) => {
  await page.goto(`${BASE_URL}/`);
  await expect(page.locator('#name')).toBeVisible();
  expect(await violations(page)).toEqual([]);
});

test('the call page has none idle, ringing, in a call or with a conversation open', async ({
  open,
}) => {
  const alice = await open('alice');
  const bob = await open('bob');
  await idle(alice, bob);
  expect(await violations(alice.page), 'idle').toEqual([]);

  await ring(alice, bob);
  expect(await violations(bob.page), 'ringing in').toEqual([]);
  expect(await violations(alice.page), 'ringing out').toEqual([]);

  await accept(bob, alice);
  expect(await violations(alice.page), 'in a call').toEqual([]);

  await alice.page.locator(`#online li[data-user="${bob.name}"] button`).click();
  await alice.page.locator('#chatInput').fill('hello');
  await alice.page.locator('#chatSend').click();
  await expect(bob.page.locator(`#chats li[data-chat="${alice.name}"] .badge`)).toBeVisible();
  expect(await violations(bob.page), 'an unread badge').toEqual([]);
  await bob.page.locator(`#chats li[data-chat="${alice.name}"] button`).click();
  await expect(bob.page.locator('#messages li')).toHaveCount(1);
  expect(await violations(bob.page), 'a conversation open').toEqual([]);
});

test('keyboard focus follows the call: Accept when it rings, Hang up in it, Call after', async ({
  open,
}) => {
  const focused = (p: Page) => p.evaluate(() => document.activeElement?.id ?? '');
  const alice = await open('alice');
  const bob = await open('bob');
  await idle(alice, bob);
  await ring(alice, bob);
  await expect.poll(() => focused(bob.page), 'bob, ringing').toBe('accept');
  await expect.poll(() => focused(alice.page), 'alice, ringing out').toBe('cancel');
  await bob.page.keyboard.press('Enter');
  await expect.poll(() => focused(bob.page), 'bob, in the call').toBe('hangup');
  await bob.page.keyboard.press('Enter');
  await expect.poll(() => focused(bob.page), 'bob, after hanging up').toBe('call');
});

test('a conversation row keeps keyboard focus when its unread count changes', async ({
  open,
}) => {
  const alice = await open('alice');
  const bob = await open('bob');
  await idle(alice, bob);
  await alice.page.locator(`#online li[data-user="${bob.name}"] button`).click();
  const say = async (text: string) => {
    await alice.page.locator('#chatInput').fill(text);
    await alice.page.locator('#chatSend').click();
  };
  await say('one');
  const row = bob.page.locator(`#chats li[data-chat="${alice.name}"]`);
  await expect(row).toHaveAttribute('data-unread', '1');
  await row.locator('button').focus();
  await say('two');
  await expect(row).toHaveAttribute('data-unread', '2');
  const focusedRow = await bob.page.evaluate(
    () => (document.activeElement?.closest('li') as HTMLElement | null)?.dataset.chat ?? '',
  );
  expect(focusedRow).toBe(alice.name);
});

test('the account pages have none: sign-in errors, a private call page, /account, an invite', async ({
  open,
  browser,
}) => {
  const alice = await open('alice', { account: 'sign-up' });
  const account = await alice.context.newPage();
  await account.goto(`${BASE_URL}/account`);
  await expect(account.locator('#sessions li')).toHaveCount(1);
  expect(await violations(account), '/account').toEqual([]);
  await account.locator('#invite').click();
  await expect(account.locator('#inviteUrl')).toBeVisible();
  expect(await violations(account), '/account with an invite link').toEqual([]);
  const invite = (await account.locator('#inviteUrl').textContent())!.trim();
  await account.locator('#currentPassword').fill('not the password');
  await account.locator('#newPassword').fill('a new password, long');
  await account.locator('#changePassword').click();
  await expect(account.locator('#passwordError')).not.toBeEmpty();
  expect(await violations(account), '/account with a password error').toEqual([]);

  const stranger = await browser.newContext();
  const page = await stranger.newPage();
  await page.goto(`${BASE_URL}/`);
  await expect(page.locator('#signupName')).toBeVisible();
  expect(await violations(page), 'the home page, signed out').toEqual([]);
  await page.locator('#signinName').fill(alice.name);
  await page.locator('#signinPassword').fill('not the password');
  await page.locator('#signinSubmit').click();
  await expect(page.locator('#signinError')).not.toBeEmpty();
  expect(await violations(page), 'a sign-in error').toEqual([]);

  await page.goto(`${BASE_URL}/webrtc/${alice.name}.html`);
  await expect(page.locator('#signinName')).toHaveValue(alice.name);
  expect(await violations(page), "someone else's call page").toEqual([]);

  await page.goto(invite);
  await expect(page.locator('#signupName')).toBeVisible();
  expect(await violations(page), 'an invite').toEqual([]);

  await alice.page.goto(`${BASE_URL}/`);
  await expect(alice.page.locator('#signout')).toBeVisible();
  expect(await violations(alice.page), 'the home page, signed in').toEqual([]);
  await stranger.close();
});
