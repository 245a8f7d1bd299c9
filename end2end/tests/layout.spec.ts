// What the layout must get right: the home page before its script has loaded, the chat
// column's room for messages, the other person's whole picture, and Hang up within reach
// on a phone held sideways.
import type { Route } from '@playwright/test';
import { BASE_URL } from '../address';
import { connect, expect, idle, test } from './helpers';

test('text typed on the home page before it hydrates is kept', async ({ page }) => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/*.wasm', async (route: Route) => {
    await released;
    await route.continue();
  });
  await page.goto(`${BASE_URL}/`);
  await page.locator('#name').fill('early-bird');
  release();
  await expect(page.locator('form[data-ready="true"]')).toBeVisible();
  await expect(page.locator('#name')).toHaveValue('early-bird');
  await page.locator('#name').press('Enter');
  await expect(page).toHaveURL(/\/webrtc\/early-bird\.html$/);
});

test('Enter on the home page before it hydrates opens the call page', async ({ page }) => {
  await page.route('**/*.wasm', (route: Route) => route.abort());
  await page.goto(`${BASE_URL}/`);
  await page.locator('#name').fill('张三');
  await page.locator('#name').press('Enter');
  await expect(page).toHaveURL(/\/webrtc\/%E5%BC%A0%E4%B8%89\.html$/);
});

test('a one-to-one chat gives its room to the messages, not to the error line', async ({
  open,
}) => {
  const alice = await open('alice');
  const bob = await open('bob');
  await idle(alice, bob);
  await alice.page.locator(`#online li[data-user="${bob.name}"] button`).click();
  await expect(alice.page.locator('.compose')).toBeVisible();
  const height = (selector: string) =>
    alice.page.locator(selector).evaluate((el) => el.getBoundingClientRect().height);
  expect(await height('#chatError'), '#chatError, empty').toBeLessThan(40);
  expect(await height('#messages'), '#messages').toBeGreaterThanOrEqual(200);
});

test('the remote picture is shown whole and Hang up is on screen on a phone on its side', async ({
  open,
}) => {
  const alice = await open('alice');
  const bob = await open('bob');
  await idle(alice, bob);
  await bob.page.setViewportSize({ width: 844, height: 390 });
  await connect(alice, bob);
  const fit = await bob.page
    .locator('#remoteVideo')
    .evaluate((el) => getComputedStyle(el).objectFit);
  expect(fit).toBe('contain');
  await expect(bob.page.locator('#hangup')).toBeInViewport({ ratio: 1 });
});
