// duet over HTTPS with the certificate it makes for itself (the second server of
// playwright.config.ts, started with --tls): two pages opened on its LAN address, where
// plain HTTP would not be a secure context and so would get no camera, call each other
// over wss; and the home page offers that address as text and as a QR code.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BASE_URL, LAN_IP, TLS_BASE_URL, TLS_PORT } from '../address';
import { connect, expect, expectAllTracksEnded, expectState, idle, test } from './helpers';

/** The certificate the HTTPS server made, in the data directory playwright.config.ts gives it. */
const CERT_FILE = '../target/e2e-data/tls/tls-cert.pem';

test('two pages call each other over HTTPS, frames decoded on both sides', async ({ open }) => {
  const sockets: string[] = [];
  const watchSockets = async (page: import('@playwright/test').Page) => {
    page.on('websocket', (ws) => sockets.push(ws.url()));
  };
  const [alice, bob] = await Promise.all([
    open('alice', { baseUrl: TLS_BASE_URL, beforeGoto: watchSockets }),
    open('bob', { baseUrl: TLS_BASE_URL, beforeGoto: watchSockets }),
  ]);
  for (const p of [alice, bob]) {
    const where = await p.page.evaluate(() => [location.origin, window.isSecureContext]);
    expect(where, `${p.name}'s page`).toEqual([TLS_BASE_URL, true]);
  }
  await idle(alice, bob);
  expect(sockets).toHaveLength(2);
  for (const url of sockets) expect(url).toMatch(new RegExp(`^wss://${LAN_IP}:${TLS_PORT}/webrtc/`));

  await connect(alice, bob);

  await alice.page.locator('#hangup').click();
  await Promise.all([expectState(alice, 'idle', 'local'), expectState(bob, 'idle', 'hung_up')]);
  await Promise.all([expectAllTracksEnded(alice), expectAllTracksEnded(bob)]);
});

test('the home page offers its LAN address as text and as a QR code', async ({ browser }) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  await page.goto(`${TLS_BASE_URL}/`);

  const lanUrl = `https://${LAN_IP}:${TLS_PORT}/`;
  await expect(page.locator('#lanUrl')).toHaveText(lanUrl);
  await expect(page.locator('#lanUrl')).toHaveAttribute('href', lanUrl);
  const qr = page.locator('#lanQr');
  await expect(qr).toHaveAttribute('src', '/lan.svg');
  await expect
    .poll(() => qr.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)), {
      message: '#lanQr loaded',
    })
    .toBeGreaterThan(0);
  const svg = await context.request.get(`${TLS_BASE_URL}/lan.svg`);
  expect(svg.headers()['content-type']).toBe('image/svg+xml');

  // The fingerprint the page shows is that of the certificate the server made.
  const made = new X509Certificate(readFileSync(CERT_FILE));
  await expect(page.locator('#lanFingerprint')).toHaveText(made.fingerprint256);

  // The page hydrated (the form navigates without a reload), and coming back to it in the
  // browser alone fetches the same address.
  await page.locator('#name').fill(`carol-${Math.random().toString(36).slice(2, 6)}`);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.locator('#status')).toHaveAttribute('data-phase', 'idle');
  await page.goBack();
  await expect(page.locator('#lanUrl')).toHaveText(lanUrl);
  expect(problems, 'no errors or warnings (hydration included)').toEqual([]);
  await context.close();
});

test('the plain-HTTP home page says only this machine can open its address', async ({ page }) => {
  await page.goto(`${BASE_URL}/`);
  await expect(page.locator('#lanUrl')).toHaveText(`${BASE_URL}/`);
  await expect(page.locator('.lan .hint')).toContainText('Only this machine');
  await expect(page.locator('#lanFingerprint')).toHaveCount(0);
  await expect
    .poll(() => page.locator('#lanQr').evaluate((img: HTMLImageElement) => img.naturalWidth))
    .toBeGreaterThan(0);
});
