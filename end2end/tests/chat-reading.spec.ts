// Chat as people read and write it: the list follows new messages and keeps the reader's
// place, a message the server would refuse is refused in the page (and never sent again
// and again), a message keeps its line breaks, and times say the date when it is not today.
import type { Locator, Page, WebSocketRoute } from '@playwright/test';
import { expect, idle, test, type Person } from './helpers';

/** `p`'s list of messages. */
const messages = (p: Person) => p.page.locator('#messages');

/** `p` clicks `who` in the presence list, which opens their conversation. */
async function openWith(p: Person, who: Person) {
  await p.page.locator(`#online [data-user="${who.name}"]`).click({ timeout: 10_000 });
  await expect(p.page.locator('#chat')).toHaveAttribute('data-conversation', `user:${who.name}`);
}

/** `p` writes `text` and presses Send; waits until the server stored it. */
async function sendStored(p: Person, text: string) {
  await p.page.locator('#chatInput').fill(text);
  await p.page.locator('#chatSend').click();
  const mine = messages(p).locator(`li[data-from="${p.name}"]`).last();
  await expect(mine.locator('.text')).toHaveText(text);
  await expect(mine).toHaveAttribute('data-id', /^\d+$/);
}

/** How far the list is scrolled, and how far it could be. */
function scroll(list: Locator) {
  return list.evaluate((el) => ({
    top: el.scrollTop,
    toBottom: el.scrollHeight - el.scrollTop - el.clientHeight,
    scrollable: el.scrollHeight > el.clientHeight,
  }));
}

/** Waits until `p`'s list shows its newest line: scrolled to the bottom, last line in view. */
async function expectAtNewest(p: Person, why: string) {
  await expect
    .poll(async () => (await scroll(messages(p))).toBottom, { message: `${p.name}: ${why}` })
    .toBeLessThanOrEqual(2);
  await expect(messages(p).locator('li').last()).toBeInViewport();
}

/** Counts the WebSockets `page` opens, from before it loads. */
function countSockets(page: Page): { opened: number } {
  const count = { opened: 0 };
  page.on('websocket', () => (count.opened += 1));
  return count;
}

test('the list follows new messages, opens at the newest, and keeps the place when older ones load', async ({
  open,
}) => {
  test.setTimeout(150_000);
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await openWith(alice, bob);
  await openWith(bob, alice);

  // 40 each way, each seen by the other side before the next, both lists open.
  for (let i = 1; i <= 40; i++) {
    await sendStored(alice, `a${i}`);
    await expect(messages(bob).locator('li').last().locator('.text')).toHaveText(`a${i}`);
    await sendStored(bob, `b${i}`);
    await expect(messages(alice).locator('li').last().locator('.text')).toHaveText(`b${i}`);
  }
  for (const p of [alice, bob]) {
    expect((await scroll(messages(p))).scrollable, `${p.name}'s list is taller than its box`).toBe(true);
    await expectAtNewest(p, 'the newest message is in view');
  }

  // Opening the conversation afresh (after a reload) shows its newest line.
  await alice.page.reload();
  await idle(alice);
  await openWith(alice, bob);
  await expect(messages(alice).locator('li').last().locator('.text')).toHaveText('b40');
  await expectAtNewest(alice, 'a conversation opens at its newest line');

  // Scrolled to the top, older lines load above: the line that was at the top stays put.
  const before = await messages(alice).locator('li').count();
  const first = messages(alice).locator('li').first();
  const firstId = await first.getAttribute('data-id');
  await messages(alice).evaluate((el) => (el.scrollTop = 0));
  const offset = () =>
    alice.page.evaluate((id) => {
      const list = document.querySelector('#messages')!;
      const item = list.querySelector(`li[data-id="${id}"]`)!;
      return item.getBoundingClientRect().top - list.getBoundingClientRect().top;
    }, firstId);
  const was = await offset();
  await expect.poll(() => messages(alice).locator('li').count(), { message: 'older lines loaded' }).toBeGreaterThan(before);
  // Let any late scroll settle before measuring.
  await alice.page.waitForTimeout(300);
  expect(Math.abs((await offset()) - was), 'the top line moved by (px)').toBeLessThanOrEqual(2);
  expect((await scroll(messages(alice))).top, 'the older lines are above the view').toBeGreaterThan(100);

  // A message from the other side while alice reads older ones leaves her there; her own
  // message brings her to the newest.
  const reading = (await scroll(messages(alice))).top;
  await sendStored(bob, 'while you read');
  await expect(messages(alice).locator('li').last().locator('.text')).toHaveText('while you read');
  await alice.page.waitForTimeout(300);
  expect((await scroll(messages(alice))).top, 'alice is left where she reads').toBe(reading);
  await sendStored(alice, 'back to now');
  await expectAtNewest(alice, 'her own message brings her to the newest');
});

test('a huge paste is refused in the page with its text kept, and the socket stays open', async ({ open }) => {
  test.setTimeout(60_000);
  let sockets!: { opened: number };
  const alice = await open('alice', { beforeGoto: async (page) => void (sockets = countSockets(page)) });
  const bob = await open('bob');
  await idle(alice, bob);
  await openWith(alice, bob);
  await openWith(bob, alice);

  const paste = 'x'.repeat(70_000);
  await alice.page.locator('#chatInput').fill(paste);
  await alice.page.locator('#chatSend').click();
  await expect(alice.page.locator('#chatError')).toContainText('70000 characters');
  expect(await alice.page.locator('#chatInput').inputValue(), 'the text is still in the box').toBe(paste);
  await expect(messages(alice).locator('li')).toHaveCount(0);

  // Ten seconds: a page closed for its frame would have reconnected several times by now.
  await alice.page.waitForTimeout(10_000);
  expect(sockets.opened, 'WebSockets alice’s page opened').toBe(1);
  await expect(alice.page.locator('#status')).toHaveAttribute('data-phase', 'idle');

  // The page still works: a message of the right size goes.
  await alice.page.locator('#chatInput').fill('');
  await sendStored(alice, 'shorter');
  await expect(messages(bob).locator('li .text')).toHaveText(['shorter']);
  await expect(alice.page.locator('#chatError')).toBeEmpty();
});

test('an over-long message an older page left in the outbox is marked failed, not sent', async ({ open }) => {
  test.setTimeout(60_000);
  const bob = await open('bob');
  let sockets!: { opened: number };
  const alice = await open('alice', { beforeGoto: async (page) => void (sockets = countSockets(page)) });
  await idle(alice, bob);

  // As an older page saved it: one message too long for any frame, one that fits.
  const paste = 'y'.repeat(70_000);
  await alice.page.evaluate(
    ({ me, to, paste }) => {
      const conversation = { user: to };
      localStorage.setItem(
        `duet.outbox.${me}`,
        JSON.stringify([
          { id: 'a0000000000000000000000000000001', conversation, text: paste },
          { id: 'a0000000000000000000000000000002', conversation, text: 'saved and fine' },
        ]),
      );
    },
    { me: alice.name, to: bob.name, paste },
  );
  await alice.page.reload();
  await idle(alice);
  const opened = sockets.opened;
  await expect(alice.page.locator('#chatError')).not.toBeEmpty();

  await alice.page.waitForTimeout(10_000);
  expect(sockets.opened - opened, 'sockets opened since the reload').toBe(0);
  await expect(alice.page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  const saved = await alice.page.evaluate((me) => localStorage.getItem(`duet.outbox.${me}`), alice.name);
  expect(saved, 'nothing waits in the outbox').toBeNull();

  // The one that fits was delivered; the other shows as failed, with its text.
  await openWith(bob, alice);
  await expect(messages(bob).locator('li .text')).toHaveText(['saved and fine']);
  await openWith(alice, bob);
  const failed = messages(alice).locator('li[data-state="failed"]');
  await expect(failed).toHaveCount(1);
  expect(await failed.locator('.text').textContent()).toBe(paste);
});

/** What a proxy between a page and the server does to the server's welcome. */
type WelcomeEdit = (welcome: Record<string, unknown>) => Record<string, unknown> | null;

/**
 * Stands between `page` and the server: passes every frame, but `edit`s the server's
 * welcome as it passes (`null` drops the socket right after it, code 1011), and answers a
 * frame over `maxFrame` bytes as the server does, closing with 1009 (cleanly: a real
 * server's close may reach a browser still sending as a reset, 1006). Returns how many
 * sockets the page opened.
 */
async function proxy(page: Page, edit: WelcomeEdit, maxFrame = 65_536) {
  const count = { opened: 0 };
  await page.routeWebSocket(/\/webrtc\//, (ws: WebSocketRoute) => {
    count.opened += 1;
    const server = ws.connectToServer();
    let closed = false;
    const cut = (code: number, reason: string) => {
      closed = true;
      void server.close().then(() => ws.close({ code, reason }));
    };
    ws.onMessage((frame) => {
      if (closed) return;
      if (frame.length > maxFrame) return cut(1009, 'message too big');
      server.send(frame);
    });
    server.onMessage((frame) => {
      if (closed) return;
      const msg = JSON.parse(frame.toString());
      if (msg.type !== 'welcome') return ws.send(frame);
      const edited = edit(msg);
      if (edited !== null) return ws.send(JSON.stringify(edited));
      ws.send(frame);
      cut(1011, 'test');
    });
    server.onClose((code, reason) => {
      if (!closed) void ws.close({ code, reason });
    });
  });
  return count;
}

test('a server that does not say its limits closes the socket over a huge message once, not again and again', async ({
  open,
}) => {
  test.setTimeout(60_000);
  let sockets!: { opened: number };
  const alice = await open('alice', {
    beforeGoto: async (page) => {
      // As an older server's welcome reads: no limits.
      sockets = await proxy(page, ({ maxChatChars: _, maxMessageBytes: __, ...older }) => older);
    },
  });
  const bob = await open('bob');
  await idle(alice, bob);
  await openWith(alice, bob);

  const paste = 'z'.repeat(70_000);
  await alice.page.locator('#chatInput').fill(paste);
  await alice.page.locator('#chatSend').click();
  // The server closes the socket (1009); the page takes that message out of its outbox.
  await expect(messages(alice).locator('li[data-state="failed"]')).toHaveCount(1);
  await expect(alice.page.locator('#chatError')).not.toBeEmpty();
  await expect.poll(() => sockets.opened, { message: 'alice’s page reconnected' }).toBe(2);
  await idle(alice);
  await alice.page.waitForTimeout(10_000);
  expect(sockets.opened, 'sockets alice’s page opened').toBe(2);
  const saved = await alice.page.evaluate((me) => localStorage.getItem(`duet.outbox.${me}`), alice.name);
  expect(saved, 'nothing waits in the outbox').toBeNull();
});

test('a server that closes every socket right after its welcome is not asked twice a second', async ({ open }) => {
  test.setTimeout(60_000);
  let sockets!: { opened: number };
  const alice = await open('alice', {
    beforeGoto: async (page) => {
      sockets = await proxy(page, () => null);
    },
  });
  await alice.page.waitForTimeout(10_000);
  // Pauses of 0.5, 1, 2, 4, 8 s (each ±50%) allow at most six sockets in ten seconds; a
  // backoff that started again at every welcome would open twenty.
  expect(sockets.opened, 'sockets opened in ten seconds').toBeGreaterThanOrEqual(3);
  expect(sockets.opened, 'sockets opened in ten seconds').toBeLessThanOrEqual(6);
});

test('a message keeps its line breaks: Shift+Enter is a new line, Enter sends', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await openWith(alice, bob);
  await openWith(bob, alice);

  const input = alice.page.locator('#chatInput');
  await input.pressSequentially('line one');
  await input.press('Shift+Enter');
  await input.pressSequentially('line two');
  await input.press('Enter');

  const got = messages(bob).locator('li .text');
  await expect(got).toHaveCount(1);
  expect(await got.textContent()).toBe('line one\nline two');
  // Shown on two lines (white-space: pre-wrap), not run together.
  expect(await got.evaluate((el) => (el as HTMLElement).innerText)).toBe('line one\nline two');
  await expect(input).toHaveValue('');
});

test("today's messages show the time; older ones their date too", async ({ open }) => {
  // bob's browser lives three days ahead, so what alice writes now is from three days ago.
  const ahead = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  const alice = await open('alice');
  const bob = await open('bob', { beforeGoto: (page) => page.clock.setFixedTime(ahead) });
  await idle(alice, bob);
  await openWith(alice, bob);
  await openWith(bob, alice);
  await sendStored(alice, 'from the past');

  await expect(messages(alice).locator('li time')).toHaveText(/^\d{2}:\d{2}$/);
  const theirs = messages(bob).locator('li time');
  await expect(theirs).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  const today = await alice.page.evaluate(() => {
    const d = new Date();
    const two = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  });
  await expect(theirs).toContainText(today);
});

test('a group past the size cap is refused in the chat, not on the call line', async ({ open }) => {
  const alice = await open('alice');
  await idle(alice);
  const tag = alice.name.slice(alice.name.lastIndexOf('-') + 1);
  // The server's default cap is 100 members, the creator included.
  const members = Array.from({ length: 100 }, (_, i) => `m${i}-${tag}`);
  const status = await alice.page.locator('#status').textContent();

  await alice.page.locator('#groupName').fill(`big-${tag}`);
  await alice.page.locator('#groupMembers').fill(members.join(', '));
  await alice.page.locator('#groupCreate').click();
  await expect(alice.page.locator('#chatError')).toContainText('at most 100 members');
  await expect(alice.page.locator('#status')).toHaveText(status ?? '');
  await expect(alice.page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await expect(alice.page.locator(`#groups [data-group="big-${tag}"]`)).toHaveCount(0);
});
