// Channels in a real headless Chromium against the real `jiesu` binary (docs/CHANNELS.md):
//
//   JIESU_BIN=/path/to/jiesu node --test tests/grid.test.mjs
//
// 网格上报: a grid worker signs in on a 390×844 phone, lands on #/grid, takes a photo, takes the
// phone's position (granted, fixed by the test), fills in what and where, and reports: the report
// is a ticket of channel `grid` with the position and the photo in its history. Without a position
// the street, community and address by hand are enough. The page never scrolls sideways and every
// control is labelled. 转接: an agent opens a request the risk push marked for 110, transfers it
// from the ticket's actions, and enters the service's reply; the transfers card shows both.
// Screenshots g01…g04 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity, uniqueLeaf } from './harness.mjs';

let city;
let base;
let leaf;

// a 1×1 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

before(async () => {
  city = await startCity({
    name: 'grid',
    months: 1,
    scale: 0.002,
    seed: 5,
    users: [
      ['grid1', 'grid_worker'],
      ['agent1', 'agent'],
    ],
  });
  ({ base } = city);
  leaf = await uniqueLeaf(base);
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

async function fillReport(page, { title, text }) {
  const inp = page.locator('input[name=category_code]');
  await inp.click();
  await inp.fill(leaf.name);
  await page.locator(`li[role=option][data-key="${leaf.code}"]`).click();
  await page.selectOption('select[name=district_code]', '110108');
  await page.waitForSelector('select[name=street_code] option[value="110108010"]', { state: 'attached' });
  await page.selectOption('select[name=street_code]', '110108010');
  await page.fill('input[name=title]', title);
  await page.fill('textarea[name=text]', text);
  await page.fill('input[name="requester.name"]', '网格员王五');
  await page.fill('input[name="requester.phone"]', '13700001111');
}

test('a grid worker reports from the phone with a photo and the position, and by hand without one', async () => {
  const { context, page } = await city.newPage({ mobile: true });
  await context.grantPermissions(['geolocation'], { origin: base });
  await context.setGeolocation({ latitude: 39.99251, longitude: 116.33912, accuracy: 12 });
  await city.login(page, 'grid1');
  // the grid worker's home is the report page
  await page.waitForSelector('[data-testid=grid-form]');
  assert.match(page.url(), /#\/grid/);
  await assertLabelled(page);
  await assertNoSideways(page);
  await shot(page, 'g01-grid-phone-empty');

  await page.setInputFiles('[data-testid=grid-photos]', { name: 'manhole.png', mimeType: 'image/png', buffer: PNG });
  await page.waitForSelector('[data-testid=grid-previews] img');
  await page.click('[data-testid=grid-locate]');
  await page.waitForFunction(() => document.querySelector('[data-testid=grid-lat]').value !== '');
  assert.equal(await page.inputValue('[data-testid=grid-lat]'), '39.992510');
  assert.equal(await page.inputValue('[data-testid=grid-lng]'), '116.339120');
  await fillReport(page, { title: '井盖缺失', text: '学院路某小区东门外井盖缺失，行人容易踩空。' });
  await assertNoSideways(page);
  await shot(page, 'g02-grid-phone-filled');
  await page.click('[data-testid=grid-submit]');
  await page.waitForSelector('[data-testid=grid-done]');
  const number = (await page.locator('[data-testid=grid-number]').innerText()).trim();
  assert.match(await page.locator('[data-testid=grid-photos-done]').innerText(), /1/);
  await assertNoSideways(page);
  await shot(page, 'g03-grid-phone-done');

  // the centre sees a grid ticket with the position and the photo
  const agent = await city.token('agent1');
  const list = await city.api('GET', `/api/v1/tickets?page_size=100`, undefined, agent);
  const item = list.body.items.find((t) => t.number === number);
  assert.ok(item, `ticket ${number} listed`);
  const tk = await city.api('GET', `/api/v1/tickets/${item.id}`, undefined, agent);
  assert.equal(tk.body.channel, 'grid');
  assert.equal(tk.body.place.lat, 39.99251);
  assert.equal(tk.body.place.lng, 116.33912);
  const ev = await city.api('GET', `/api/v1/tickets/${item.id}/events`, undefined, agent);
  const photo = ev.body.find((e) => e.kind === 'attachment_added');
  assert.ok(photo, JSON.stringify(ev.body));
  assert.equal(photo.actor.user, 'grid1');
  assert.equal(photo.content_type, 'image/png');

  // a second report without a position: the place by hand
  await page.click('text=继续上报');
  await page.waitForSelector('[data-testid=grid-form]');
  await fillReport(page, { title: '垃圾堆放', text: '学院路某小区北门垃圾堆放多日无人清运。' });
  await page.fill('input[name=address]', '学院路20号院北门');
  await page.click('[data-testid=grid-submit]');
  await page.waitForSelector('[data-testid=grid-done]');
  const n2 = (await page.locator('[data-testid=grid-number]').innerText()).trim();
  const l2 = await city.api('GET', `/api/v1/tickets?page_size=100`, undefined, agent);
  const t2 = await city.api('GET', `/api/v1/tickets/${l2.body.items.find((t) => t.number === n2).id}`, undefined, agent);
  assert.equal(t2.body.channel, 'grid');
  assert.equal(t2.body.place.lat, null);
  assert.equal(t2.body.place.address, '学院路20号院北门');
  await context.close();

  // the same page at desktop size
  const d = await city.newPage();
  await city.login(d.page, 'grid1');
  await d.page.waitForSelector('[data-testid=grid-form]');
  await assertNoSideways(d.page);
  await shot(d.page, 'g04-grid-desktop');
  await d.context.close();
});

test('an agent transfers a request marked for 110 and records the reply from the ticket view', async () => {
  const agent = await city.token('agent1');
  const r = await city.api(
    'POST',
    '/api/v1/tickets',
    {
      channel: 'phone',
      type: 'help',
      category_code: leaf.code,
      title: '有人持刀闹事',
      text: '小区门口有人持刀威胁路人，情况紧急。',
      district_code: '110108',
      street_code: '110108010',
      requester: { name: '赵先生', phone: '13912345678' },
    },
    agent,
  );
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const { context, page } = await city.newPage();
  await city.login(page, 'agent1');
  await page.goto(`${base}/#/tickets/${r.body.id}`);
  await page.waitForSelector('[data-testid=transfers-pending]');
  assert.match(await page.locator('[data-testid=transfers-pending]').innerText(), /110/);
  await page.click('[data-action-button=transfer]');
  assert.equal(await page.inputValue('form[data-action=transfer] select[name=to]'), '110');
  await page.fill('form[data-action=transfer] textarea[name=reason]', '持刀威胁，转公安110处置');
  await page.click('form[data-action=transfer] button[type=submit]');
  await page.waitForSelector('[data-testid=transfer-110]');
  assert.equal(await page.locator('[data-testid=transfers-pending]').count(), 0);
  await page.click('[data-action-button=transfer-reply]');
  await page.locator('form[data-action=transfer-reply] input[name=outcome][value=handled]').check();
  await page.fill('form[data-action=transfer-reply] textarea[name=text]', '民警已到场处置');
  await page.fill('form[data-action=transfer-reply] input[name=reference]', 'JJ-0042');
  await page.click('form[data-action=transfer-reply] button[type=submit]');
  await page.waitForSelector('[data-testid=transfer-110] [data-testid=transfer-reply]');
  const card = await page.locator('[data-testid=transfers]').innerText();
  assert.match(card, /已处置/);
  assert.match(card, /民警已到场处置/);
  assert.match(card, /JJ-0042/);
  assert.equal(await page.locator('[data-action-button=transfer-reply]').count(), 0, 'nothing waits for a reply now');
  await page.waitForSelector('.timeline .tl-item[data-kind=transfer_replied]');
  await shot(page, 'g05-ticket-transfer');
  await context.close();
});
