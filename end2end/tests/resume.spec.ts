// Calls that survive what networks do: the signaling socket cut mid-call (the page
// reconnects and the server kept the call), and an ICE restart mid-call.
import type { Page } from '@playwright/test';
import { connect, expect, expectMediaFlowing, expectState, idle, status, test } from './helpers';

/** A pass-through proxy on a page's signaling socket that the test can cut. */
interface Cuttable {
  sockets: number;
  /** Cuts the current socket as a failing network or proxy would (close code 4000). */
  cut: () => Promise<void>;
}

async function cuttable(page: Page): Promise<Cuttable> {
  const state: Cuttable = { sockets: 0, cut: async () => {} };
  await page.routeWebSocket(/\/webrtc\//, (ws) => {
    state.sockets += 1;
    const server = ws.connectToServer();
    let dead = false;
    ws.onMessage((frame) => {
      if (!dead) server.send(frame);
    });
    server.onMessage((frame) => {
      if (!dead) ws.send(frame);
    });
    server.onClose((code, reason) => {
      if (!dead) void ws.close({ code, reason });
    });
    state.cut = async () => {
      dead = true;
      await server.close({ code: 4000, reason: 'cut' });
      await ws.close({ code: 4000, reason: 'cut' });
    };
  });
  return state;
}

/** Records every value `#status`'s data-socket takes from now on. */
async function watchSocketState(p: { page: Page }) {
  await p.page.evaluate(() => {
    const el = document.querySelector('#status')!;
    const seen: string[] = [];
    (window as unknown as { __socketStates: string[] }).__socketStates = seen;
    new MutationObserver(() => seen.push(el.getAttribute('data-socket') ?? '')).observe(el, {
      attributes: true,
      attributeFilter: ['data-socket'],
    });
  });
}

const socketStates = (p: { page: Page }) =>
  p.page.evaluate(() => (window as unknown as { __socketStates: string[] }).__socketStates);

test('a call goes on when the signaling socket is cut mid-call', async ({ open }) => {
  let proxy!: Cuttable;
  const alice = await open('alice', {
    beforeGoto: async (page) => {
      proxy = await cuttable(page);
    },
  });
  const bob = await open('bob');
  await idle(alice, bob);
  await connect(alice, bob);
  await watchSocketState(alice);

  await proxy.cut();
  await expect
    .poll(() => proxy.sockets, { message: 'alice’s page opens a new socket', timeout: 15_000 })
    .toBeGreaterThanOrEqual(2);
  await expect(status(alice)).toHaveAttribute('data-socket', 'open');
  expect(await socketStates(alice), 'alice showed that she was reconnecting').toContain(
    'reconnecting',
  );
  // Neither side noticed more than that: the call stands and media keeps coming.
  await expectState(alice, 'in-call');
  await expectState(bob, 'in-call');
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);

  // And signaling works through the new socket: the hang-up reaches bob.
  await alice.page.locator('#hangup').click();
  await expectState(bob, 'idle', 'hung_up');
});

test('an ICE restart mid-call negotiates new credentials and frames keep coming', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await connect(alice, bob);
  const ufrags = (p: { page: Page }) =>
    p.page.evaluate(() => {
      const pc = window.__duetPcs.at(-1)!;
      const ufrag = (sdp?: string) => sdp?.match(/a=ice-ufrag:(\S+)/)?.[1] ?? '';
      return { local: ufrag(pc.localDescription?.sdp), remote: ufrag(pc.remoteDescription?.sdp) };
    });
  const before = await ufrags(alice);

  // What a network change makes the page do: restart ICE on the caller's connection.
  await alice.page.evaluate(() => window.__duetPcs.at(-1)!.restartIce());
  await expect
    .poll(async () => (await ufrags(alice)).local, { message: 'alice has new ICE credentials' })
    .not.toBe(before.local);
  await expect
    .poll(async () => (await ufrags(alice)).remote, { message: 'bob answered with new ones' })
    .not.toBe(before.remote);
  await Promise.all([expectMediaFlowing(alice), expectMediaFlowing(bob)]);
  await expectState(alice, 'in-call');
  await expectState(bob, 'in-call');
});
