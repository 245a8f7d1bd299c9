// Every device of a person: alice is signed in in two browsers (her laptop and her phone,
// each its own context), bob calls her, and both of her pages ring; the first to answer
// takes the call and the other stops ringing, saying it was answered on another device.
// Chat reaches both of her pages, and what she sends from one shows on the other.
import {
  dial,
  expect,
  expectAllTracksEnded,
  expectMediaFlowing,
  expectState,
  idle,
  status,
  test,
  type OpenOptions,
  type Person,
} from './helpers';

/** alice on two devices and bob (no account: an open name), all idle. */
async function aliceTwiceAndBob(open: (who: string, options?: OpenOptions) => Promise<Person>) {
  const laptop = await open('alice', { account: 'sign-up' });
  const phone = await open('alice', { account: 'sign-in' });
  const bob = await open('bob');
  await idle(laptop, phone, bob);
  return { laptop, phone, bob };
}

/** bob calls alice and every page of hers rings. */
async function ringBoth(bob: Person, laptop: Person, phone: Person) {
  await dial(bob, laptop.name);
  await expectState(bob, 'ringing-out');
  await Promise.all([expectState(laptop, 'ringing-in'), expectState(phone, 'ringing-in')]);
  for (const p of [laptop, phone]) await expect(status(p)).toContainText(bob.name);
}

test('a call rings every page of a person; the first to accept takes it, the other stops', async ({
  open,
}) => {
  const { laptop, phone, bob } = await aliceTwiceAndBob(open);
  await ringBoth(bob, laptop, phone);

  await phone.page.locator('#accept').click();
  await expectState(laptop, 'idle', 'answered_elsewhere');
  await expect(status(laptop)).toContainText('another device');
  await Promise.all([expectState(phone, 'in-call'), expectState(bob, 'in-call')]);
  // Frames decoded both ways, between bob and the page that answered.
  await Promise.all([expectMediaFlowing(phone), expectMediaFlowing(bob)]);
  // The laptop's preview (if the ring opened one) is closed again.
  await expectAllTracksEnded(laptop, { captured: false });

  await bob.page.locator('#hangup').click();
  await Promise.all([expectState(phone, 'idle', 'hung_up'), expectState(bob, 'idle', 'local')]);
  // The laptop was not in the call: nothing reaches it.
  await expectState(laptop, 'idle', 'answered_elsewhere');

  // Both pages of alice ring again for the next call.
  await ringBoth(bob, laptop, phone);
  await laptop.page.locator('#accept').click();
  await expectState(phone, 'idle', 'answered_elsewhere');
  await Promise.all([expectState(laptop, 'in-call'), expectState(bob, 'in-call')]);
  await Promise.all([expectMediaFlowing(laptop), expectMediaFlowing(bob)]);
});

test('declining on one page stops the ring on every page', async ({ open }) => {
  const { laptop, phone, bob } = await aliceTwiceAndBob(open);
  await ringBoth(bob, laptop, phone);
  await laptop.page.locator('#decline').click();
  await Promise.all([
    expectState(laptop, 'idle', 'local'),
    expectState(phone, 'idle', 'declined'),
    expectState(bob, 'idle', 'declined'),
  ]);
  await expect(status(phone)).toContainText('another device');
});

test('chat reaches every page of a person, and what they send shows on their others', async ({
  open,
}) => {
  const { laptop, phone, bob } = await aliceTwiceAndBob(open);
  const chatWith = (p: Person, who: string) => p.page.locator(`#chats [data-chat="${who}"]`);
  const texts = (p: Person) => p.page.locator('#messages li .text');

  await bob.page.locator(`#online [data-user="${laptop.name}"]`).click();
  await bob.page.locator('#chatInput').fill('hello alice');
  await bob.page.locator('#chatSend').click();
  for (const p of [laptop, phone]) {
    await expect(chatWith(p, bob.name), `${p.name}'s unread count`).toHaveAttribute('data-unread', '1');
  }

  // Read on the laptop: the phone's unread count clears too.
  await chatWith(laptop, bob.name).locator('button').click();
  await expect(texts(laptop)).toHaveText(['hello alice']);
  await expect(chatWith(phone, bob.name), "the phone's unread count").toHaveAttribute('data-unread', '0');

  // Sent from the laptop: bob gets it, and the phone shows it in the conversation.
  await laptop.page.locator('#chatInput').fill('hello bob');
  await laptop.page.locator('#chatSend').click();
  await expect(chatWith(bob, laptop.name)).toBeVisible();
  await expect(texts(bob)).toHaveText(['hello alice', 'hello bob']);
  await chatWith(phone, bob.name).locator('button').click();
  await expect(texts(phone)).toHaveText(['hello alice', 'hello bob']);
});
