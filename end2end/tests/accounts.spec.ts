// Accounts end to end: a person creates one on the home page and is signed in on their
// call page; their name is then theirs (another browser gets the sign-in form and no
// socket); they sign out and in again; "keep me signed in" decides how long the cookie
// lives; /account lists their browsers, signs one out (its page's socket closes and it
// shows the sign-in form) and changes the password (every other browser signed out).
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { BASE_URL } from '../address';
import { PASSWORD, expect, expectState, idle, test, type Person } from './helpers';

const COOKIE = 'duet_session';
const DAY_SECS = 24 * 60 * 60;

/** A name no other test uses. */
const unique = (who: string) => `${who}-${Math.random().toString(36).slice(2, 8)}`;

const callPage = (name: string) => `${BASE_URL}/webrtc/${name}.html`;

/** This context's session cookie, if it has one. */
async function sessionCookie(context: BrowserContext) {
  return (await context.cookies(BASE_URL)).find((c) => c.name === COOKIE);
}

/** A fresh browser (context) with a camera, and its first page, recording the sockets it opens. */
async function fresh(browser: Browser): Promise<{ context: BrowserContext; page: Page; sockets: string[] }> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  return { context, page, sockets };
}

/** `page` shows `name`'s phone, signed in, with its socket open and ready to call. */
async function expectPhone(page: Page, name: string) {
  await expect(page).toHaveURL(callPage(name));
  await expect(page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await expect(page.locator('#signout')).toBeVisible();
  await expect(page.locator('#accountLink')).toHaveAttribute('href', '/account');
}

/** `page` shows `name`'s call page as a stranger sees it: the sign-in form, no phone. */
async function expectGate(page: Page, name: string) {
  await expect(page.locator('#signinName')).toHaveValue(name);
  await expect(page.locator('#signinPassword')).toBeVisible();
  await expect(page.locator('#status')).toHaveCount(0);
  await expect(page.locator('#localVideo')).toHaveCount(0);
}

test('create an account, sign out, and sign in again; the name is then private', async ({
  browser,
}) => {
  const name = unique('carol');
  const carol = await fresh(browser);
  await carol.page.goto(`${BASE_URL}/`);
  await expect(carol.page.locator('#signinName')).toBeVisible();
  await carol.page.locator('#signupName').fill(name);
  await carol.page.locator('#signupPassword').fill(PASSWORD);
  await expect(carol.page.locator('#signupKeep')).toBeChecked();
  await carol.page.locator('#signupSubmit').click();
  await expectPhone(carol.page, name);

  // Kept signed in: a cookie no script can read, that outlives the browser for 30 days.
  const kept = await sessionCookie(carol.context);
  expect(kept, 'the session cookie').toBeTruthy();
  expect(kept!.httpOnly).toBe(true);
  expect(kept!.sameSite).toBe('Lax');
  expect(kept!.expires).toBeGreaterThan(Date.now() / 1000 + 29 * DAY_SECS);

  // Someone else opening carol's page gets the sign-in form, and their browser opens no
  // socket (the server would refuse it anyway).
  const stranger = await fresh(browser);
  await stranger.page.goto(callPage(name));
  await expectGate(stranger.page, name);
  await stranger.page.locator('#signinPassword').fill('not the password');
  await stranger.page.locator('#signinSubmit').click();
  await expect(stranger.page.locator('#signinError')).not.toBeEmpty();
  await expectGate(stranger.page, name);
  expect(stranger.sockets, 'sockets opened by a page that is not signed in').toEqual([]);
  expect(await sessionCookie(stranger.context)).toBeUndefined();

  // The home page, signed in, says as whom, and signs out.
  await carol.page.goto(`${BASE_URL}/`);
  await expect(carol.page.locator('.account-bar')).toContainText(name);
  await expect(carol.page.locator('#signinName')).toHaveCount(0);
  await carol.page.locator('#signout').click();
  await expect(carol.page).toHaveURL(`${BASE_URL}/`);
  await expect(carol.page.locator('#signinName')).toBeVisible();
  expect(await sessionCookie(carol.context), 'the cookie after signing out').toBeUndefined();
  await carol.page.goto(callPage(name));
  await expectGate(carol.page, name);

  // Signing in on the gate comes back to the page; without "keep me signed in" the
  // cookie ends with the browser.
  await carol.page.locator('#signinPassword').fill(PASSWORD);
  await carol.page.locator('#signinKeep').uncheck();
  await carol.page.locator('#signinSubmit').click();
  await expectPhone(carol.page, name);
  const session = await sessionCookie(carol.context);
  expect(session, 'the session cookie').toBeTruthy();
  expect(session!.expires, 'a browser-session cookie').toBe(-1);

  for (const { context } of [carol, stranger]) await context.close();
});

test('the home page signs in, with one answer for a wrong name or password', async ({ browser }) => {
  const name = unique('dave');
  const dave = await fresh(browser);
  await dave.page.goto(`${BASE_URL}/`);
  await dave.page.locator('#signupName').fill(name);
  await dave.page.locator('#signupPassword').fill(PASSWORD);
  await dave.page.locator('#signupSubmit').click();
  await expectPhone(dave.page, name);

  const other = await fresh(browser);
  const tryHome = async (who: string, password: string) => {
    await other.page.goto(`${BASE_URL}/`);
    await other.page.locator('#signinName').fill(who);
    await other.page.locator('#signinPassword').fill(password);
    await other.page.locator('#signinSubmit').click();
  };
  await tryHome(name, 'wrong password');
  const error = other.page.locator('#signinError');
  await expect(error).not.toBeEmpty();
  const wrongPassword = await error.textContent();
  // The name typed stays, and the keyboard is back in the form.
  await expect(other.page.locator('#signinName')).toHaveValue(name);
  await expect(other.page.locator('#signinPassword')).toBeFocused();
  await tryHome(unique('nobody'), 'wrong password');
  await expect(error).not.toBeEmpty();
  expect(await error.textContent(), 'a wrong name and a wrong password read alike').toBe(wrongPassword);

  await tryHome(name, PASSWORD);
  await expectPhone(other.page, name);
  for (const { context } of [dave, other]) await context.close();
});

/** `p` opens /account in another tab of the same browser. */
async function accountPage(p: Person): Promise<Page> {
  const page = await p.context.newPage();
  await page.goto(`${BASE_URL}/account`);
  await expect(page.locator('#sessions')).toBeVisible();
  return page;
}

test('signing out a browser from /account closes its page and shows it the sign-in form', async ({
  open,
}) => {
  const laptop = await open('alice', { account: 'sign-up' });
  const phone = await open('alice', { account: 'sign-in' });
  await idle(laptop, phone);

  const account = await accountPage(laptop);
  const sessions = account.locator('#sessions li');
  await expect(sessions).toHaveCount(2);
  const mine = account.locator('#sessions li[data-current="true"]');
  await expect(mine).toHaveCount(1);
  await expect(mine).toHaveAttribute('data-session', /.+/);
  await expect(sessions.locator('button.revoke')).toHaveCount(2);

  await account.locator('#sessions li:not([data-current="true"]) button.revoke').click();
  await expect(account).toHaveURL(`${BASE_URL}/account`);
  await expect(sessions).toHaveCount(1);
  await expect(mine).toHaveCount(1);

  // The phone's socket closed at once (4401): the page asks the server again, which now
  // shows it the sign-in form.
  await expectGate(phone.page, laptop.name);
  // The laptop, whose session lives on, is untouched.
  await expectState(laptop, 'idle');
});

test('changing the password signs out every other browser', async ({ open }) => {
  const laptop = await open('alice', { account: 'sign-up' });
  const phone = await open('alice', { account: 'sign-in' });
  await idle(laptop, phone);
  const account = await accountPage(laptop);

  await account.locator('#currentPassword').fill('not the password');
  await account.locator('#newPassword').fill('a new password, long');
  await account.locator('#changePassword').click();
  await expect(account.locator('#passwordError')).not.toBeEmpty();
  await expect(account.locator('#currentPassword')).toBeFocused();
  await expect(account.locator('#sessions li')).toHaveCount(2);

  await account.locator('#currentPassword').fill(PASSWORD);
  await account.locator('#newPassword').fill('a new password, long');
  await account.locator('#changePassword').click();
  await expect(account.locator('#passwordChanged')).toBeVisible();
  await expect(account.locator('#sessions li')).toHaveCount(1);
  await expect(account.locator('#sessions li[data-current="true"]')).toHaveCount(1);
  await expectGate(phone.page, laptop.name);
  await expectState(laptop, 'idle');

  // The old password no longer signs in; the new one does.
  await phone.page.locator('#signinPassword').fill(PASSWORD);
  await phone.page.locator('#signinSubmit').click();
  await expect(phone.page.locator('#signinError')).not.toBeEmpty();
  await phone.page.locator('#signinPassword').fill('a new password, long');
  await phone.page.locator('#signinSubmit').click();
  await expectState(phone, 'idle');
});

test('an unclaimed name still opens without an account, as in the original demo', async ({
  open,
}) => {
  const erin = await open('erin');
  await idle(erin);
  await expect(erin.page.locator('#signout')).toHaveCount(0);
  expect(await sessionCookie(erin.context)).toBeUndefined();
});
