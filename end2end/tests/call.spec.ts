// A call end to end: two people, real media both ways, and what each side sees when it ends.
import type { Page } from '@playwright/test';
import {
  accept,
  connect,
  dial,
  expect,
  expectAllTracksEnded,
  expectMediaFlowing,
  expectState,
  firstFrameAt,
  idle,
  recordAcceptClick,
  ring,
  test,
} from './helpers';

/** How soon a caller must notice that the other side's page closed. */
const GONE_WITHIN_MS = 5_000;

test('alice calls bob, media flows both ways, alice hangs up', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await ring(alice, bob);

  // Start watching for the first decoded frame on both sides before the click.
  await recordAcceptClick(bob);
  const calleeFirstFrame = firstFrameAt(bob);
  const callerFirstFrame = firstFrameAt(alice);
  await accept(bob, alice);
  const acceptAt = await bob.page.evaluate(() => window.__acceptAt);
  const [calleeAt, callerAt] = await Promise.all([calleeFirstFrame, callerFirstFrame]);
  expect(acceptAt, 'the Accept click was seen').toBeDefined();
  expect(calleeAt, 'bob decoded a first frame').not.toBeNull();
  expect(callerAt, 'alice decoded a first frame').not.toBeNull();
  const ms = (at: number | null) => Math.round(at! - acceptAt!);
  // A measurement for the log, not a bound.
  console.log(`ACCEPT_TO_FIRST_FRAME_MS callee=${ms(calleeAt)} caller=${ms(callerAt)}`);

  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);

  await alice.page.locator('#hangup').click();
  await expectState(alice, 'idle', 'local');
  await expectState(bob, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('bob (the callee) hangs up', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await connect(alice, bob);

  await bob.page.locator('#hangup').click();
  await expectState(bob, 'idle', 'local');
  await expectState(alice, 'idle', 'hung_up');
  await expectAllTracksEnded(alice);
  await expectAllTracksEnded(bob);
});

test('a third caller gets busy and the call goes on', async ({ open }) => {
  const [alice, bob, carol] = await Promise.all([open('alice'), open('bob'), open('carol')]);
  await idle(alice, bob, carol);
  await connect(alice, bob);

  await dial(carol, alice.name);
  await expectState(carol, 'idle', 'busy');
  await expectState(alice, 'in-call');
  await expectState(bob, 'in-call');
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
  await expectAllTracksEnded(carol, { captured: false });
});

test("the caller learns when the callee's page closes mid-call", async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await connect(alice, bob);

  await bob.page.close();
  await expectState(alice, 'idle', 'gone', GONE_WITHIN_MS);
  await expectAllTracksEnded(alice);
});

test("a page's offers, answers and candidates reach the other page byte for byte", async ({ open }) => {
  // What each page's socket sent and received, as the wire carried it, by the name it
  // signed in as (the socket's path ends with it).
  const frames = new Map<string, { sent: string[]; received: string[] }>();
  const watch = {
    beforeGoto: async (page: Page) => {
      page.on('websocket', (ws) => {
        const seen = { sent: [] as string[], received: [] as string[] };
        frames.set(decodeURIComponent(new URL(ws.url()).pathname.split('/').pop()!), seen);
        ws.on('framesent', (f) => seen.sent.push(String(f.payload)));
        ws.on('framereceived', (f) => seen.received.push(String(f.payload)));
      });
    },
  };
  const [alice, bob] = await Promise.all([open('alice', watch), open('bob', watch)]);
  await connect(alice, bob);

  // Each page signs them with its own name, as the server writes them for the other side,
  // so the server passes them on as they came (src/server/signal/relay.rs).
  const relayed = (text: string) => ['offer', 'answer', '_ice'].includes(JSON.parse(text).type);
  for (const [from, to, kind] of [
    [alice, bob, 'offer'],
    [bob, alice, 'answer'],
  ] as const) {
    const sent = frames.get(from.name)!.sent.filter(relayed);
    expect(sent.map((t) => JSON.parse(t).type), `${from.name} sent`).toContain(kind);
    for (const text of sent) {
      expect(JSON.parse(text).fromUser, `${from.name}'s own name`).toBe(from.name);
      const received = () => frames.get(to.name)!.received;
      await expect.poll(received, `${to.name} got it as sent`).toContain(text);
    }
  }
});
