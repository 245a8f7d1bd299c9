// Invite links: a signed-in person makes one on /account and whoever opens it creates an
// account, once; on a server with sign-up closed (a server of its own, DUET_SIGNUP=closed)
// the home page offers no sign-up, and a link the operator makes from the command line,
// for a pinned name, is the only way in.
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from '@playwright/test';
import { BASE_URL, CLOSED_DATA_DIR, CLOSED_URL } from '../address';
import { PASSWORD, expect, idle, test } from './helpers';

const unique = (who: string) => `${who}-${Math.random().toString(36).slice(2, 8)}`;

/** A fresh browser with a camera, on `url`; the response's status. */
async function visit(browser: Browser, url: string): Promise<{ page: Page; status: number }> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  const response = await page.goto(url);
  return { page, status: response?.status() ?? 0 };
}

/** Signs up on an invite page as `name` (already filled in when the invite pins it). */
async function signUpOn(page: Page, name: string | null) {
  if (name !== null) await page.locator('#signupName').fill(name);
  await page.locator('#signupPassword').fill(PASSWORD);
  await page.locator('#signupSubmit').click();
}

/** A used-up (or otherwise refused) invite says so, with 410, and offers no form. */
async function expectRefused(browser: Browser, url: string) {
  const again = await visit(browser, url);
  expect(again.status, `GET ${url} again`).toBe(410);
  await expect(again.page.locator('#inviteRefused')).not.toBeEmpty();
  await expect(again.page.locator('#signupName')).toHaveCount(0);
  await again.page.context().close();
}

test('an invite made on /account creates one account', async ({ open, browser }) => {
  const alice = await open('alice', { account: 'sign-up' });
  await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  const account = await alice.context.newPage();
  await account.goto(`${BASE_URL}/account`);
  await account.locator('#invite').click();
  const link = account.locator('#inviteUrl');
  await expect(link).toHaveText(new RegExp(`^${BASE_URL}/i/[^/\\s]+$`));
  const url = (await link.textContent())!.trim();
  await account.locator('#copyInvite').click();
  await expect.poll(() => account.evaluate(() => navigator.clipboard.readText())).toBe(url);

  const name = unique('frank');
  const frank = await visit(browser, url);
  expect(frank.status).toBe(200);
  await expect(frank.page.locator('#signupName')).toBeEditable();
  await signUpOn(frank.page, name);
  await expect(frank.page).toHaveURL(`${BASE_URL}/webrtc/${name}.html`);
  await expect(frank.page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await frank.page.context().close();

  await expectRefused(browser, url);
  await idle(alice);
});

test('with sign-up closed, only an invite link makes an account', async ({ browser, request }) => {
  // No sign-up form, and a sign-up sent anyway is refused.
  const home = await visit(browser, `${CLOSED_URL}/`);
  await expect(home.page.locator('#signinName')).toBeVisible();
  await expect(home.page.locator('#signupName')).toHaveCount(0);
  await home.page.context().close();
  const name = unique('gina');
  const refused = await request.post(`${CLOSED_URL}/signup`, {
    form: { name, password: PASSWORD, keep: 'on' },
    maxRedirects: 0,
  });
  expect(refused.status(), 'POST /signup with sign-up closed').toBe(403);

  // The operator makes a link for gina from the command line, on the running server's
  // data directory.
  const printed = execFileSync(
    'target/debug/duet',
    ['invite', 'create', '--name', name, '--origin', CLOSED_URL],
    { cwd: '..', env: { ...process.env, DUET_DATA_DIR: CLOSED_DATA_DIR }, encoding: 'utf8' },
  );
  const url = printed.match(/https?:\/\/\S+\/i\/\S+/)?.[0];
  expect(url, `an invite link in ${JSON.stringify(printed)}`).toBeTruthy();
  expect(url!.startsWith(`${CLOSED_URL}/i/`)).toBe(true);

  const gina = await visit(browser, url!);
  expect(gina.status).toBe(200);
  // The name is the invite's, and cannot be changed.
  await expect(gina.page.locator('#signupName')).toHaveValue(name);
  await expect(gina.page.locator('#signupName')).not.toBeEditable();
  await signUpOn(gina.page, null);
  await expect(gina.page).toHaveURL(`${CLOSED_URL}/webrtc/${name}.html`);
  await expect(gina.page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await gina.page.context().close();

  await expectRefused(browser, url!);
});
