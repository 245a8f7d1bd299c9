// Checked origins: a page served from another origin, opened in the browser of someone
// signed in to duet, can neither open a socket as them nor send duet's forms in their
// name. The other origin here is another port of 127.0.0.1: the same site, so the browser
// does send the session cookie with its requests (cookies are per host, not per port, and
// SameSite=Lax lets them through), and only the server's Origin check stands in the way.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { BASE_URL, PORT } from '../address';
import { expect, expectState, idle, test } from './helpers';

let foreign: Server;
let foreignUrl: string;

test.beforeAll(async () => {
  foreign = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>elsewhere</title><body>elsewhere</body></html>');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => foreign.close(resolve));
});

/** What happens when `page` opens a WebSocket to `url`: 'open', or 'closed CODE'. */
function tryWebSocket(page: Page, url: string): Promise<string> {
  return page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => {
          resolve('open');
          ws.close();
        };
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      }),
    url,
  );
}

test('a page from another origin cannot open a socket as a signed-in user', async ({ open }) => {
  const alice = await open('alice', { account: 'sign-up' });
  await idle(alice);
  const socket = `ws://127.0.0.1:${PORT}/webrtc/${encodeURIComponent(alice.name)}`;

  const elsewhere = await alice.context.newPage();
  await elsewhere.goto(`${foreignUrl}/`);
  expect(await tryWebSocket(elsewhere, socket), 'a socket from another origin').toBe('closed 1006');

  // The same browser, from duet's own origin, with the same cookie: a socket opens (another
  // device of alice's, as far as the server knows).
  const home = await alice.context.newPage();
  await home.goto(`${BASE_URL}/`);
  expect(await tryWebSocket(home, socket), "a socket from duet's own origin").toBe('open');
  await home.close();

  // Nor can it send a form in her name: signing her out from there is refused.
  const [response] = await Promise.all([
    elsewhere.waitForNavigation(),
    elsewhere.evaluate((action) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      document.body.append(form);
      form.submit();
    }, `${BASE_URL}/signout`),
  ]);
  expect(response?.status(), 'POST /signout from another origin').toBe(403);
  const cookie = (await alice.context.cookies(BASE_URL)).find((c) => c.name === 'duet_session');
  expect(cookie, 'still signed in').toBeTruthy();
  await expectState(alice, 'idle');
});
