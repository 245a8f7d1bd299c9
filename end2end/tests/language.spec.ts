// duet in 简体中文 and English: the server renders a page in the language the browser asks
// for (the person's choice in the duet_lang cookie, then ?lang=, then Accept-Language, then
// the server's default_language), says it in <html lang>, and the page hydrates in it.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { BASE_URL } from '../address';
import { expect, test } from './helpers';

const CHINESE = 'zh-CN,zh;q=0.9,en;q=0.8';

/** A browser whose language is Chinese, as a person in China has it. */
async function chineseContext(browser: Browser) {
  return browser.newContext({
    locale: 'zh-CN',
    extraHTTPHeaders: { 'Accept-Language': CHINESE },
    permissions: ['camera', 'microphone'],
  });
}

/** Errors the page reports (a failed hydration among them), collected as it runs. */
function problemsOf(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  return problems;
}

/** The first bytes the server sends for `path`, as `context`'s browser asks for them. */
async function html(context: BrowserContext, path: string, headers: Record<string, string> = {}) {
  const response = await context.request.get(`${BASE_URL}${path}`, { headers });
  expect(response.status(), `GET ${path}`).toBe(200);
  return response.text();
}

test('a Chinese browser gets the home page in Chinese; #lang switches it to English, for good', async ({
  browser,
}) => {
  const context = await chineseContext(browser);
  const first = await html(context, '/', { 'Accept-Language': CHINESE });
  expect(first).toContain('<html lang="zh-CN"');
  expect(first).toContain('点对点的私密视频通话。');

  const page = await context.newPage();
  const problems = problemsOf(page);
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.locator('.tagline')).toHaveText('点对点的私密视频通话。');
  await expect(page.getByRole('button', { name: '打开' })).toBeVisible();
  const lang = page.locator('#lang');
  await expect(lang).toHaveText('English');
  await expect(lang).toHaveAttribute('lang', 'en');

  await lang.click();
  await expect(page).toHaveURL(`${BASE_URL}/`);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('.tagline')).toHaveText('Private video calls, peer to peer.');
  await expect(page.locator('#lang')).toHaveText('中文');
  const cookie = (await context.cookies()).find((c) => c.name === 'duet_lang');
  expect(cookie?.value).toBe('en');
  expect(cookie?.sameSite).toBe('Lax');

  // The choice outweighs the browser's Accept-Language, after a reload and on every page.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('.tagline')).toHaveText('Private video calls, peer to peer.');
  // The page hydrated: its form opens a call page without a reload.
  await page.locator('#name').fill(`carol-${Math.random().toString(36).slice(2, 6)}`);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await expect(page.locator('#call')).toHaveText('Video call');

  // And back to Chinese.
  await page.locator('#lang').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.locator('#call')).toHaveText('视频通话');
  expect(problems, 'no errors (hydration included)').toEqual([]);
  await context.close();
});

test('a call page in Chinese: from the first byte, in the browser, and in what it says later', async ({
  browser,
}) => {
  const context = await chineseContext(browser);
  const name = `li-${Math.random().toString(36).slice(2, 6)}`;
  const first = await html(context, `/webrtc/${name}.html`, { 'Accept-Language': CHINESE });
  expect(first).toContain('<html lang="zh-CN"');
  expect(first).toContain('正在连接…'); // the status line

  const page = await context.newPage();
  const problems = problemsOf(page);
  await page.goto(`/webrtc/${name}.html`);
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-phase', 'idle');
  await expect(status).toHaveText('准备就绪。输入名字，然后点“视频通话”。');
  await expect(page.locator('#call')).toHaveText('视频通话');

  // What the page says later comes from the same table: calling someone offline.
  await page.locator('#toUser').fill('nobody-here');
  await page.locator('#call').click();
  await expect(status).toHaveAttribute('data-reason', 'offline');
  await expect(status).toHaveText('nobody-here 不在线。');
  expect(problems, 'no errors (hydration included)').toEqual([]);
  await context.close();
});

test('the "not found" page speaks the browser\'s language too', async ({ browser }) => {
  const context = await chineseContext(browser);
  const response = await context.request.get(`${BASE_URL}/no-such-page`, {
    headers: { 'Accept-Language': CHINESE },
  });
  expect(response.status()).toBe(404);
  const body = await response.text();
  expect(body).toContain('<html lang="zh-CN"');
  expect(body).toContain('找不到这个页面。');
  await context.close();
});

test('?lang= picks the language when the person has not, and their choice outweighs it', async ({
  browser,
}) => {
  const context = await browser.newContext(); // Playwright's en-US
  expect(await html(context, '/')).toContain('<html lang="en"');
  const chinese = await html(context, '/?lang=zh-CN');
  expect(chinese).toContain('<html lang="zh-CN"');
  expect(chinese).toContain('你的名字');

  // /lang remembers the choice and goes back to a page of this server only.
  const switched = await context.request.get(`${BASE_URL}/lang?to=en&back=/account`, {
    maxRedirects: 0,
  });
  expect(switched.status()).toBe(303);
  expect(switched.headers()['location']).toBe('/account');
  expect(switched.headers()['set-cookie']).toMatch(/^duet_lang=en;.*SameSite=Lax/);
  const elsewhere = await context.request.get(`${BASE_URL}/lang?to=en&back=//evil.example`, {
    maxRedirects: 0,
  });
  expect(elsewhere.headers()['location']).toBe('/');
  expect(await html(context, '/?lang=zh-CN')).toContain('<html lang="en"');
  await context.close();
});

test("an original page calling someone offline gets the server's notice in default_language", async ({
  open,
}) => {
  const zs = await open('zs', { original: true });
  await zs.page.waitForFunction(() => document.readyState === 'complete');
  await zs.page.locator('#toUser').fill('nobody-here');
  // The original page has no "socket open" signal: retry the click until the notice comes.
  await expect(async () => {
    await zs.page.locator('#call').click();
    await expect(zs.page).toHaveTitle(/^refused/, { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  // The test server runs with the default, English.
  await expect(zs.page).toHaveTitle('refused: nobody-here is not online.');
});

test('both tables are whole: the English page has no Chinese and the Chinese page says it', async ({
  browser,
}) => {
  const context = await chineseContext(browser);
  const page = await context.newPage();
  await page.goto('/');
  // Every heading, label and button of the home page is in Chinese.
  for (const text of ['登录', '注册账号', '名字', '密码', '保持登录']) {
    await expect(page.getByText(text, { exact: true }).first()).toBeAttached();
  }
  await context.close();
  const english = await browser.newContext();
  // Only the switch to Chinese says 中文 there.
  const plain = await html(english, '/');
  expect(plain.replace('>中文<', '><')).not.toMatch(/[\u4e00-\u9fff]/);
  await english.close();
});
