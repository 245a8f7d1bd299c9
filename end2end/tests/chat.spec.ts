// Chat and presence end to end: who is online, messages live and from the backlog, groups,
// missed calls, and what survives a closed page, a reload and a dropped socket. Every check
// reads the page's DOM hooks (#online, #chats, #groups, #chat, #messages) as another person
// would see them.
import type { Page, WebSocketRoute } from '@playwright/test';
import {
  connect,
  dial,
  expect,
  expectMediaFlowing,
  expectState,
  idle,
  ring,
  test,
  type Person,
} from './helpers';

/** Presence changes reach other pages within about a second; this leaves room for a slow CI. */
const PRESENCE_MS = 5_000;

/** One line of `#messages`, as its data attributes and `.text` say. */
interface Line {
  id: string;
  from: string;
  state: string;
  kind: string;
  text: string;
}

/** The lines of `p`'s open conversation, oldest first. */
function lines(p: Person): Promise<Line[]> {
  return p.page.locator('#messages li').evaluateAll((items) =>
    items.map((li) => {
      const el = li as HTMLElement;
      return {
        id: el.dataset.id ?? '',
        from: el.dataset.from ?? '',
        state: el.dataset.state ?? '',
        kind: el.dataset.kind ?? '',
        text: el.querySelector('.text')?.textContent ?? '',
      };
    }),
  );
}

/** The texts of `p`'s open conversation, oldest first. */
async function texts(p: Person): Promise<string[]> {
  return (await lines(p)).map((l) => l.text);
}

/** The `#messages` line of `p` whose `.text` is exactly `text`. */
function line(p: Person, text: string) {
  return p.page
    .locator('#messages li')
    .filter({ has: p.page.locator('.text', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }) });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `who` in `p`'s presence list. */
const online = (p: Person, who: Person | string) =>
  p.page.locator(`#online [data-user="${typeof who === 'string' ? who : who.name}"]`);

/** The one-to-one conversation with `who` in `p`'s list of conversations. */
const chatWith = (p: Person, who: Person) => p.page.locator(`#chats [data-chat="${who.name}"]`);

/** Group `group` in `p`'s list of groups. */
const groupIn = (p: Person, group: string) => p.page.locator(`#groups [data-group="${group}"]`);

/** `p`'s chat panel, whose `data-conversation` names the open conversation. */
const panel = (p: Person) => p.page.locator('#chat');

/** The name `who` gets in the same test as `p` (the fixture's per-test suffix). */
const sameTest = (p: Person, who: string) => `${who}-${p.name.slice(p.name.lastIndexOf('-') + 1)}`;

/** `p` clicks `who` in the presence list: that fills the name field and opens the conversation. */
async function openFromPresence(p: Person, who: Person) {
  await online(p, who).click();
  await expect(panel(p)).toHaveAttribute('data-conversation', `user:${who.name}`);
  await expect(p.page.locator('#toUser')).toHaveValue(who.name);
}

/** `p` types `name` in the dial form and presses *Message* (works for someone offline). */
async function openByName(p: Person, name: string) {
  await p.page.locator('#toUser').fill(name);
  await p.page.locator('#openChat').click();
  await expect(panel(p)).toHaveAttribute('data-conversation', `user:${name}`);
}

/** `p` opens group `group` from the list of groups. */
async function openGroup(p: Person, group: string) {
  await groupIn(p, group).click();
  await expect(panel(p)).toHaveAttribute('data-conversation', `group:${group}`);
}

/** `p` writes `text` in the open conversation and presses Send (or Enter, with `enter`). */
async function send(p: Person, text: string, { enter = false } = {}) {
  const input = p.page.locator('#chatInput');
  await input.fill(text);
  if (enter) await input.press('Enter');
  else await p.page.locator('#chatSend').click();
}

/** `p` sends `text` and the server stores it: its line has a server id and is no longer pending. */
async function sendStored(p: Person, text: string) {
  await send(p, text);
  const mine = line(p, text);
  await expect(mine).toHaveCount(1);
  await expect(mine).toHaveAttribute('data-id', /^\d+$/);
  await expect(mine).toHaveAttribute('data-state', /^(sent|delivered)$/);
  await expect(mine).toHaveAttribute('data-from', p.name);
}

/** Waits until `p`'s open conversation shows exactly `want` (from, text), in this order. */
async function expectConversation(p: Person, want: Array<[Person | string, string]>, timeout?: number) {
  await expect
    .poll(async () => (await lines(p)).map((l) => [l.from, l.text]), {
      message: `${p.name}'s #messages (from, text)`,
      timeout,
    })
    .toEqual(want.map(([who, text]) => [typeof who === 'string' ? who : who.name, text]));
}

test('presence: people appear, show their calls, and leave', async ({ open }) => {
  const alice = await open('alice');
  await idle(alice);
  const bob = await open('bob');
  await idle(bob);

  // alice was there first: bob appears on her page without a reload, and she on his.
  await expect(online(alice, bob)).toHaveAttribute('data-state', 'available', { timeout: PRESENCE_MS });
  await expect(online(bob, alice)).toHaveAttribute('data-state', 'available', { timeout: PRESENCE_MS });
  await expect(online(alice, alice), 'nobody is listed on their own page').toHaveCount(0);

  const carol = await open('carol');
  await idle(carol);
  await expect(online(carol, alice)).toHaveAttribute('data-state', 'available', { timeout: PRESENCE_MS });
  await expect(online(carol, bob)).toHaveAttribute('data-state', 'available', { timeout: PRESENCE_MS });
  await expect(online(alice, carol)).toBeVisible({ timeout: PRESENCE_MS });

  // The filter keeps the names that contain what is typed.
  await alice.page.locator('#onlineFilter').fill(carol.name.slice(0, -2));
  await expect(online(alice, carol)).toBeVisible();
  await expect(online(alice, bob)).toBeHidden();
  await alice.page.locator('#onlineFilter').fill('');
  await expect(online(alice, bob)).toBeVisible();

  // A call shows on a third person's list, and ends there too.
  await connect(alice, bob);
  await expect(online(carol, alice)).toHaveAttribute('data-state', 'in_call', { timeout: PRESENCE_MS });
  await expect(online(carol, bob)).toHaveAttribute('data-state', 'in_call', { timeout: PRESENCE_MS });
  await alice.page.locator('#hangup').click();
  await expectState(alice, 'idle', 'local');
  await expect(online(carol, alice)).toHaveAttribute('data-state', 'available', { timeout: PRESENCE_MS });
  await expect(online(carol, bob)).toHaveAttribute('data-state', 'available', { timeout: PRESENCE_MS });

  await bob.page.close();
  await expect(online(alice, bob)).toHaveCount(0, { timeout: PRESENCE_MS });
  await expect(online(carol, bob)).toHaveCount(0, { timeout: PRESENCE_MS });
  await expect(online(alice, carol), 'the others stay').toHaveAttribute('data-state', 'available');
});

test('a chat both ways, live, with unread count and delivery', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);

  await openFromPresence(alice, bob);
  await sendStored(alice, 'hello bob');

  // bob has not opened the conversation: a badge says one unread.
  await expect(online(bob, alice)).toHaveAttribute('data-unread', '1');
  await expect(chatWith(bob, alice)).toHaveAttribute('data-unread', '1');
  await openFromPresence(bob, alice);
  const hello = line(bob, 'hello bob');
  await expect(hello).toHaveAttribute('data-from', alice.name);
  await expect(hello).toHaveAttribute('data-kind', 'text');
  await expect(hello).toHaveAttribute('data-id', /^\d+$/);
  // The sender's name and the time (h:mm or hh:mm; names have no colon) are on the line.
  await expect(hello).toBeVisible();
  await expect(hello).toContainText(alice.name);
  await expect(hello).toContainText(/\d{1,2}:\d{2}/);
  // Once open, nothing is unread.
  await expect(online(bob, alice)).toHaveAttribute('data-unread', '0');

  // alice's message reached bob's page.
  await expect(line(alice, 'hello bob')).toHaveAttribute('data-state', 'delivered');

  await send(bob, 'hi alice', { enter: true });
  const hi = line(alice, 'hi alice');
  await expect(hi).toHaveAttribute('data-from', bob.name);
  await expect(hi).toContainText(bob.name);
  await expect(hi).toContainText(/\d{1,2}:\d{2}/);
  await expect(line(bob, 'hi alice')).toHaveAttribute('data-state', 'delivered');

  await expectConversation(alice, [
    [alice, 'hello bob'],
    [bob, 'hi alice'],
  ]);
  await expectConversation(bob, [
    [alice, 'hello bob'],
    [bob, 'hi alice'],
  ]);
  // Both pages know each message by the same server id.
  expect((await lines(alice)).map((l) => l.id)).toEqual((await lines(bob)).map((l) => l.id));
});

test('messages to someone whose page is closed wait for them', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);

  await openFromPresence(alice, bob);
  await sendStored(alice, 'hi bob');
  await openFromPresence(bob, alice);
  await expect(line(bob, 'hi bob')).toBeVisible();
  // bob's answer follows his read receipt on the same socket: once alice has it, the server
  // has recorded that bob read "hi bob".
  await sendStored(bob, 'hi alice');
  await expect(line(alice, 'hi alice')).toBeVisible();

  await bob.page.close();
  await expect(online(alice, bob)).toHaveCount(0, { timeout: PRESENCE_MS });

  for (const text of ['one', 'two', 'three']) await sendStored(alice, text);
  for (const text of ['one', 'two', 'three']) {
    await expect(line(alice, text), `"${text}" is stored, not delivered`).toHaveAttribute('data-state', 'sent');
  }

  // bob comes back under the same name.
  const bobAgain = await open('bob');
  await idle(bobAgain);
  await expect(chatWith(bobAgain, alice)).toHaveAttribute('data-unread', '3');
  await expect(online(bobAgain, alice)).toHaveAttribute('data-unread', '3');
  // His page has them now, read or not.
  for (const text of ['one', 'two', 'three']) {
    await expect(line(alice, text), `"${text}" reached bob's page`).toHaveAttribute('data-state', 'delivered');
  }

  await chatWith(bobAgain, alice).click();
  await expect(panel(bobAgain)).toHaveAttribute('data-conversation', `user:${alice.name}`);
  await expectConversation(bobAgain, [
    [alice, 'hi bob'],
    [bob, 'hi alice'],
    [alice, 'one'],
    [alice, 'two'],
    [alice, 'three'],
  ]);
  await expect(chatWith(bobAgain, alice)).toHaveAttribute('data-unread', '0');
});

test('a reload shows the same history in the same order', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await openFromPresence(alice, bob);
  await openFromPresence(bob, alice);

  const said: Array<[Person, string]> = [
    [alice, 'first from alice'],
    [bob, 'first from bob'],
    [alice, 'second from alice'],
    [alice, 'third from alice'],
    [bob, 'second from bob'],
  ];
  for (const [who, text] of said) {
    await sendStored(who, text);
    // The other side has it before the next one is written, so the order is the one above.
    await expect(line(who === alice ? bob : alice, text)).toBeVisible();
  }
  await expectConversation(alice, said);
  const before = (await lines(alice)).map(({ id, from, kind, text }) => ({ id, from, kind, text }));
  expect(before.every((l) => /^\d+$/.test(l.id)), 'every line has a server id').toBe(true);

  await alice.page.reload();
  await idle(alice);
  await openFromPresence(alice, bob);
  await expect
    .poll(async () => (await lines(alice)).map(({ id, from, kind, text }) => ({ id, from, kind, text })), {
      message: "alice's conversation after the reload",
    })
    .toEqual(before);
  // The reload showed the stored state of alice's own messages too.
  for (const [who, text] of said) {
    if (who === alice) await expect(line(alice, text)).toHaveAttribute('data-state', 'delivered');
  }
});

test('a group of three: everyone sees it and every message', async ({ open }) => {
  const [alice, bob, carol] = await Promise.all([open('alice'), open('bob'), open('carol')]);
  await idle(alice, bob, carol);
  const group = sameTest(alice, 'g');

  await alice.page.locator('#groupName').fill(group);
  await alice.page.locator('#groupMembers').fill(`${bob.name}, ${carol.name}`);
  await alice.page.locator('#groupCreate').click();
  for (const p of [alice, bob, carol]) await expect(groupIn(p, group)).toBeVisible();

  await openGroup(alice, group);
  await sendStored(alice, 'alice here');
  await openGroup(bob, group);
  await expect(line(bob, 'alice here')).toHaveAttribute('data-from', alice.name);
  await sendStored(bob, 'bob here');
  await expect(line(alice, 'bob here')).toBeVisible();

  // carol has not opened it yet: two unread.
  await expect(groupIn(carol, group)).toHaveAttribute('data-unread', '2');
  await openGroup(carol, group);
  await sendStored(carol, 'carol here');

  const all: Array<[Person, string]> = [
    [alice, 'alice here'],
    [bob, 'bob here'],
    [carol, 'carol here'],
  ];
  for (const p of [alice, bob, carol]) await expectConversation(p, all);
  // A group message is delivered once every other member's page has it.
  for (const [who, text] of all) await expect(line(who, text)).toHaveAttribute('data-state', 'delivered');
  await expect(groupIn(carol, group)).toHaveAttribute('data-unread', '0');
});

test('a declined call is a missed call in both conversations', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);
  await bob.page.locator('#decline').click();
  await expectState(alice, 'idle', 'declined');
  await expectState(bob, 'idle', 'local');

  await openFromPresence(alice, bob);
  await openFromPresence(bob, alice);
  for (const p of [alice, bob]) {
    const missed = p.page.locator('#messages li[data-kind="missed_call"]');
    await expect(missed, `${p.name} sees one missed call`).toHaveCount(1);
    await expect(missed).toHaveAttribute('data-from', alice.name);
  }
});

test('a call to someone offline is a missed call they find when they come', async ({ open }) => {
  const alice = await open('alice');
  await idle(alice);
  const bobName = sameTest(alice, 'bob');

  await dial(alice, bobName);
  await expectState(alice, 'idle', 'offline');
  await openByName(alice, bobName);
  const missed = alice.page.locator('#messages li[data-kind="missed_call"]');
  await expect(missed).toHaveCount(1);
  await expect(missed).toHaveAttribute('data-from', alice.name);

  const bob = await open('bob');
  await idle(bob);
  await openFromPresence(bob, alice);
  const found = bob.page.locator('#messages li[data-kind="missed_call"]');
  await expect(found).toHaveCount(1);
  await expect(found).toHaveAttribute('data-from', alice.name);
});

test('markup in a message is shown as text and never runs', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

  await openFromPresence(alice, bob);
  await sendStored(alice, payload);
  await openFromPresence(bob, alice);
  await expect(bob.page.locator('#messages li')).toHaveCount(1);
  await expect(line(alice, payload)).toHaveAttribute('data-state', 'delivered');

  // Long enough for an image error handler or a script to have run.
  await alice.page.waitForTimeout(1_000);
  for (const p of [alice, bob]) {
    const text = p.page.locator('#messages li .text');
    await expect(text).toHaveCount(1);
    expect(await text.evaluate((el) => el.textContent), `${p.name}'s .text`).toBe(payload);
    await expect(p.page.locator('#messages img, #messages script')).toHaveCount(0);
    expect(
      await p.page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss),
      `window.__xss on ${p.name}'s page`,
    ).toBeUndefined();
  }
});

test('chat goes on during a video call, beside the video', async ({ open }) => {
  test.setTimeout(90_000);
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await connect(alice, bob);

  await openFromPresence(alice, bob);
  await sendStored(alice, 'can you see me?');
  await openFromPresence(bob, alice);
  await expect(line(bob, 'can you see me?')).toHaveAttribute('data-from', alice.name);
  await send(bob, 'yes, loud and clear', { enter: true });
  await expect(line(alice, 'yes, loud and clear')).toHaveAttribute('data-from', bob.name);
  await expect(line(alice, 'can you see me?')).toHaveAttribute('data-state', 'delivered');

  for (const p of [alice, bob]) {
    await expectState(p, 'in-call');
    for (const id of ['#chat', '#remoteVideo', '#chatInput']) {
      await expect(p.page.locator(id), `${p.name}: ${id} on screen`).toBeVisible();
      await expect(p.page.locator(id), `${p.name}: ${id} in the viewport`).toBeInViewport();
    }
  }
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
});

/** What a proxy between a page and the server saw and did. */
interface Cut {
  /** Client ids of the `chat_send` frames with the watched text, in the order they passed. */
  sends: string[];
  /** The socket was cut after swallowing the ack. */
  cut: boolean;
  /** Sockets the page opened. */
  sockets: number;
  /** Lets the page's next socket through to the server (it waits in CONNECTING till then). */
  release: () => void;
}

/**
 * Stands between `page` and its socket: frames pass both ways until a `chat_send` with
 * `text` goes to the server; the server's `chat_ack` for it is swallowed and the socket
 * dropped (code 1006, as a lost network would). The page's next socket is held until
 * `release()`, then passes everything.
 */
async function cutAfterSend(page: Page, text: string): Promise<Cut> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state: Cut = { sends: [], cut: false, sockets: 0, release };
  const parse = (frame: string | Buffer): { type?: string; id?: string; text?: string } | null => {
    try {
      return JSON.parse(frame.toString());
    } catch {
      return null;
    }
  };
  await page.routeWebSocket(/\/webrtc\//, async (ws: WebSocketRoute) => {
    state.sockets += 1;
    if (state.cut) await released;
    const server = ws.connectToServer();
    let watched: string | null = null;
    let dead = false;
    ws.onMessage((frame) => {
      if (dead) return;
      const msg = parse(frame);
      if (msg?.type === 'chat_send' && msg.text === text) {
        state.sends.push(msg.id ?? '');
        if (!state.cut) watched = msg.id ?? null;
      }
      server.send(frame);
    });
    server.onMessage((frame) => {
      if (dead) return;
      const msg = parse(frame);
      if (watched !== null && msg?.type === 'chat_ack' && msg.id === watched) {
        dead = true;
        state.cut = true;
        void server.close().then(() => ws.close({ code: 1006, reason: '' }));
        return;
      }
      ws.send(frame);
    });
    // The server closed this socket itself: pass that on, unless the test cut it.
    server.onClose((code, reason) => {
      if (!dead) void ws.close({ code, reason });
    });
  });
  return state;
}

test('a socket dropped before the ack loses nothing and repeats nothing', async ({ open }) => {
  let proxy!: Cut;
  const alice = await open('alice', {
    beforeGoto: async (page) => {
      proxy = await cutAfterSend(page, 'lost-ack');
    },
  });
  const bob = await open('bob');
  await idle(alice, bob);
  await openFromPresence(alice, bob);
  await openFromPresence(bob, alice);
  await sendStored(alice, 'before');
  await expect(line(alice, 'before')).toHaveAttribute('data-state', 'delivered');

  await send(alice, 'lost-ack');
  // The server stored it and bob has it; alice never heard so.
  await expect(line(bob, 'lost-ack')).toHaveCount(1);
  await expect.poll(() => proxy.cut, { message: 'the proxy cut alice’s socket' }).toBe(true);
  await expect(line(alice, 'lost-ack')).toHaveCount(1);
  await expect(line(alice, 'lost-ack')).toHaveAttribute('data-state', 'pending');
  await expect(line(alice, 'lost-ack')).toHaveAttribute('data-id', '');

  // The page reconnects by itself and sends it again under the same client id.
  await expect
    .poll(() => proxy.sockets, { message: 'alice’s page opens a new socket', timeout: 15_000 })
    .toBeGreaterThanOrEqual(2);
  proxy.release();
  await expectState(alice, 'idle', undefined, 15_000);
  await expect(line(alice, 'lost-ack')).toHaveAttribute('data-state', 'delivered', { timeout: 15_000 });
  await expect(line(alice, 'lost-ack')).toHaveAttribute('data-id', /^\d+$/);
  expect(proxy.sends.length, 'chat_send frames for "lost-ack"').toBeGreaterThanOrEqual(2);
  expect(new Set(proxy.sends).size, 'every re-send has the first client id').toBe(1);

  // Time for a duplicate to show up, were there one.
  await alice.page.waitForTimeout(1_000);
  for (const p of [alice, bob]) await expect(line(p, 'lost-ack'), `${p.name}: one "lost-ack"`).toHaveCount(1);
  expect(await line(alice, 'lost-ack').getAttribute('data-id')).toBe(
    await line(bob, 'lost-ack').getAttribute('data-id'),
  );

  // The new socket carries chat as the old one did.
  await sendStored(alice, 'after');
  await expectConversation(bob, [
    [alice, 'before'],
    [alice, 'lost-ack'],
    [alice, 'after'],
  ]);
  await expect(line(alice, 'after')).toHaveAttribute('data-state', 'delivered');
});

test('a message over the limit is refused in the page, its text kept; one at the limit goes', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await openFromPresence(alice, bob);
  await openFromPresence(bob, alice);
  const atLimit = 'a'.repeat(3_999) + 'z';
  const tooLong = 'b'.repeat(4_000) + 'z';

  await expect(alice.page.locator('#chatError')).toBeEmpty();
  await send(alice, tooLong);
  await expect(alice.page.locator('#chatError')).toContainText('4001 characters');
  await expect(alice.page.locator('#chatInput'), 'the text stays to be shortened').toHaveValue(tooLong);
  await expect(line(alice, tooLong), 'never sent').toHaveCount(0);

  await sendStored(alice, atLimit);
  await expect(alice.page.locator('#chatError')).toBeEmpty();
  await sendStored(alice, 'short');
  await expectConversation(bob, [
    [alice, atLimit],
    [alice, 'short'],
  ]);
  await expect(line(alice, 'short')).toHaveAttribute('data-state', 'delivered');
});
