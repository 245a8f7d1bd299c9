// Who may be online under which name.
import { accept, expect, expectState, idle, ring, test } from './helpers';

test('a second page for a name that is online is refused; the first keeps working', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);

  const secondAlice = await open('alice');
  await expectState(secondAlice, 'closed', 'name_in_use');

  await expectState(alice, 'idle');
  await ring(alice, bob);
  await accept(bob, alice);
});

test('the call page exists only for valid names', async ({ request }) => {
  expect((await request.get('/webrtc/a%20b.html')).status()).toBe(400);
  expect((await request.get('/webrtc/alice.html')).status()).toBe(200);
});

test('any other path is a page that says it is not found, with a 404', async ({ page }) => {
  for (const path of ['/nope', '/webrtc/a/b.html']) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    await expect(page.locator('main .notice')).toHaveText('Page not found.');
  }
});

test('the home page opens the call page of the name picked, and refuses a bad one', async ({
  page,
}) => {
  await page.goto('/');
  await page.locator('#name').fill('a b');
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('alert')).toContainText('Invalid name');
  await expect(page).not.toHaveURL(/webrtc/);

  const name = `张三-${Math.random().toString(36).slice(2, 6)}`;
  await page.locator('#name').fill(name);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page).toHaveURL(new RegExp(`/webrtc/${encodeURIComponent(name)}\\.html$`));
  await expect(page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await expect(page.locator('.me')).toHaveText(name);
});
