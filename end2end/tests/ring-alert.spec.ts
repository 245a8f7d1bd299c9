// An incoming call is hard to miss: the tab's title says who calls, a system notification
// shows while the tab is in the background (where notifications are allowed), focus moves
// to Accept, and Escape declines.
import { expect, expectState, idle, ring, test, type Person } from './helpers';

declare global {
  interface Window {
    /** Every notification the page made: its title, and whether it was closed. */
    __notices: { title: string; closed: boolean }[];
    /** Notification.requestPermission() calls. */
    __noticeAsks: number;
  }
}

/**
 * In the page, before its scripts: the tab is in the background, and notifications are
 * recorded instead of shown, with `permission` as the person's answer so far.
 */
function backgroundTab(permission: NotificationPermission) {
  Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });
  Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
  window.__notices = [];
  window.__noticeAsks = 0;
  class RecordedNotification {
    static permission = permission;
    static requestPermission() {
      window.__noticeAsks += 1;
      return Promise.resolve(RecordedNotification.permission);
    }
    onclick: unknown = null;
    private record: { title: string; closed: boolean };
    constructor(title: string) {
      this.record = { title, closed: false };
      window.__notices.push(this.record);
    }
    close() {
      this.record.closed = true;
    }
  }
  (window as unknown as { Notification: unknown }).Notification = RecordedNotification;
}

const notices = (p: Person) => p.page.evaluate(() => window.__notices);

test('a ring names the caller in the tab, takes focus to Accept, and Escape declines', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  const title = `${bob.name} · duet`;
  await expect(bob.page).toHaveTitle(title);

  await ring(alice, bob);
  await expect(bob.page).toHaveTitle(`📞 ${alice.name} is calling`);
  await expect(bob.page.locator('#accept')).toBeFocused();

  await bob.page.keyboard.press('Escape');
  await expectState(bob, 'idle', 'local');
  await expectState(alice, 'idle', 'declined');
  await expect(bob.page).toHaveTitle(title);
});

test('a ring in a background tab shows a notification, closed when the ring ends', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([
    open('alice'),
    open('bob', { beforeGoto: (page) => page.addInitScript(backgroundTab, 'granted') }),
  ]);
  await idle(alice, bob);
  await ring(alice, bob);
  await expect.poll(() => notices(bob)).toEqual([{ title: `${alice.name} is calling you.`, closed: false }]);

  await alice.page.locator('#cancel').click();
  await expectState(bob, 'idle', 'cancelled');
  await expect.poll(() => notices(bob)).toEqual([{ title: `${alice.name} is calling you.`, closed: true }]);
});

test('without permission there is no notification; Video call asks for it once', async ({
  open,
}) => {
  const [alice, bob] = await Promise.all([
    open('alice', { beforeGoto: (page) => page.addInitScript(backgroundTab, 'default') }),
    open('bob', { beforeGoto: (page) => page.addInitScript(backgroundTab, 'default') }),
  ]);
  await idle(alice, bob);
  await ring(alice, bob);
  expect(await notices(bob), 'nothing shown without permission').toEqual([]);
  expect(await bob.page.evaluate(() => window.__noticeAsks), 'a ring asks nothing').toBe(0);
  // alice's click on Video call asked her.
  expect(await alice.page.evaluate(() => window.__noticeAsks)).toBe(1);
  await alice.page.locator('#cancel').click();
  await expectState(bob, 'idle', 'cancelled');
});

test('a ring does not take the keyboard from someone typing', async ({ open }) => {
  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await idle(alice, bob);
  await bob.page.locator('#toUser').fill(alice.name);
  await bob.page.locator('#openChat').click();
  const input = bob.page.locator('#chatInput');
  await input.fill('half a sentence');

  await ring(alice, bob);
  // One frame for the focus to move, were it to.
  await bob.page.evaluate(() => new Promise(requestAnimationFrame));
  await expect(input).toBeFocused();
  await expect(bob.page.locator('#accept')).not.toBeFocused();
  await alice.page.locator('#cancel').click();
  await expectState(bob, 'idle', 'cancelled');
});
