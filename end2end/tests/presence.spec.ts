// The presence list at the size the issue names: hundreds of people online, live, and a
// filter that finds one of them.
import { expect, idle, test } from './helpers';

/** How many extra users join; Chromium allows 255 WebSockets per browser. */
const CROWD = 200;

test('two hundred people online: listed live, filterable, and gone when they leave', async ({
  open,
}) => {
  const alice = await open('alice');
  const host = await open('host');
  await idle(alice, host);
  const prefix = `crowd-${host.name}`;
  // Counts the times alice's list is redrawn (each batch of DOM changes to it).
  await alice.page.evaluate(() => {
    const page = window as unknown as { redraws: number };
    page.redraws = 0;
    new MutationObserver(() => page.redraws++).observe(document.querySelector('#online')!, {
      childList: true,
      subtree: true,
      attributes: true,
    });
  });

  // The crowd: plain sockets opened from another page, like original pages that never ask
  // for chat. They still count as online.
  await host.page.evaluate(
    async ({ prefix, count }) => {
      const sockets: WebSocket[] = [];
      await Promise.all(
        Array.from({ length: count }, (_, i) => {
          const ws = new WebSocket(`ws://${location.host}/webrtc/${prefix}-${i}`);
          sockets.push(ws);
          return new Promise((resolve) => ws.addEventListener('message', resolve, { once: true }));
        }),
      );
      (window as unknown as { crowd: WebSocket[] }).crowd = sockets;
    },
    { prefix, count: CROWD },
  );

  const crowdOnAlice = alice.page.locator(`#online [data-user^="${prefix}-"]`);
  await expect(crowdOnAlice).toHaveCount(CROWD, { timeout: 10_000 });
  // Two hundred sign-ins in a second or two are shown a few at a time (the page gathers
  // presence changes for a quarter of a second), not in two hundred redraws.
  const redraws = await alice.page.evaluate(() => (window as unknown as { redraws: number }).redraws);
  console.log(`alice's list was redrawn ${redraws} times for ${CROWD} sign-ins`);
  expect(redraws).toBeLessThan(CROWD / 5);
  // The list scrolls inside itself instead of growing the page.
  const list = await alice.page.locator('#online').evaluate((el) => ({
    scrollHeight: el.scrollHeight,
    clientHeight: el.clientHeight,
  }));
  expect(list.scrollHeight, 'the list scrolls').toBeGreaterThan(list.clientHeight);

  // The filter is a substring match: `-17` finds crowd-…-17 and crowd-…-170 to 179.
  await alice.page.locator('#onlineFilter').fill(`${prefix}-17`);
  await expect(crowdOnAlice).toHaveCount(11); // 17 and 170–179
  await alice.page.locator(`#online [data-user="${prefix}-17"]`).click();
  await expect(alice.page.locator('#toUser')).toHaveValue(`${prefix}-17`);
  await alice.page.locator('#onlineFilter').fill('');

  await host.page.evaluate(() => {
    for (const ws of (window as unknown as { crowd: WebSocket[] }).crowd) ws.close();
  });
  await expect(crowdOnAlice).toHaveCount(0, { timeout: 10_000 });
  await expect(alice.page.locator(`#online [data-user="${host.name}"]`)).toBeVisible();
});
