// Calls that can only go through a TURN relay (the servers of ../turn-servers.ts hand their
// pages iceTransportPolicy "relay"): through duet's built-in TURN server and through a real
// coturn, with frames decoded both ways and the browser's own stats naming a relay
// candidate as the one in use.
import { BUILT_IN_URL, COTURN_DUET_URL, WRONG_SECRET_URL } from '../turn-servers';
import { connect, expect, idle, type Person, test } from './helpers';

/** The policy `p`'s newest peer connection was made with. */
function transportPolicy(p: Person): Promise<string | undefined> {
  return p.page.evaluate(() => window.__duetPcs.at(-1)?.getConfiguration().iceTransportPolicy);
}

/**
 * `candidateType` of the local candidate of the pair `p`'s newest peer connection uses:
 * the transport's selectedCandidatePairId, or else the succeeded, nominated pair.
 */
function selectedLocalCandidateType(p: Person): Promise<string> {
  return p.page.evaluate(async () => {
    const pc = window.__duetPcs.at(-1);
    if (!pc) return 'no peer connection';
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    if (!pairId) {
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) pairId = s.id;
      });
    }
    const pair = pairId ? stats.get(pairId) : undefined;
    if (!pair) return 'no selected pair';
    return stats.get(pair.localCandidateId)?.candidateType ?? 'no local candidate';
  });
}

/** A call between two pages of `baseUrl` decodes frames both ways over relay candidates. */
async function callThroughRelay(
  open: (who: string, options?: { baseUrl?: string }) => Promise<Person>,
  baseUrl: string,
) {
  const [alice, bob] = await Promise.all([open('alice', { baseUrl }), open('bob', { baseUrl })]);
  await idle(alice, bob);
  await connect(alice, bob);
  for (const p of [alice, bob]) {
    expect(await transportPolicy(p), `${p.name}'s peer connection is relay only`).toBe('relay');
    await expect
      .poll(() => selectedLocalCandidateType(p), { message: `${p.name}'s selected local candidate` })
      .toBe('relay');
  }
}

test('a call forced through the built-in TURN server', async ({ open }) => {
  await callThroughRelay(open, BUILT_IN_URL);
});

test('a call forced through coturn with credentials from the shared secret', async ({ open }) => {
  await callThroughRelay(open, COTURN_DUET_URL);
});

test('the relay self-test works against the built-in TURN server', async ({ open }) => {
  const alice = await open('alice', { baseUrl: BUILT_IN_URL });
  await idle(alice);
  await alice.page.locator('#relayTest').click();
  const result = alice.page.locator('#relayResult');
  await expect(result).toHaveAttribute('data-result', 'ok', { timeout: 15_000 });
  // The relay address the built-in server advertises (turn_relay_ip).
  await expect(result).toContainText('127.0.0.1');
});

test('the relay self-test fails, saying why, when the TURN secret is wrong', async ({ open }) => {
  const alice = await open('alice', { baseUrl: WRONG_SECRET_URL });
  await idle(alice);
  await alice.page.locator('#relayTest').click();
  const result = alice.page.locator('#relayResult');
  await expect(result).toHaveAttribute('data-result', 'failed', { timeout: 15_000 });
  await expect(result).toContainText('The relay does not work from this browser:');
  await expect(result).not.toContainText('No TURN server');
});
