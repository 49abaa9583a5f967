// The citizen's pages on a phone (first contact), in a real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser is downloaded) against the real `jiesu`
// binary:
//
//   JIESU_BIN=/path/to/jiesu npm run test:e2e
//
// A small demo city in a temporary directory, `jiesu serve` on a free port, a 390×844 touch phone:
// the menu reaches every public page, no page scrolls sideways, the scorecard is a ranked list,
// an empty request says what to fill in next to each field (no list over the messages), a server
// refusal lands on its field, and no unit code or internal policy wording shows.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fillPublicRequest, shot, startCity, uniqueLeaf } from './harness.mjs';

const STREET = '110105001'; // a street in 朝阳区
const DISTRICT = '110105';
const UNIT_CODE = /\b1101\d{2,}/;
const INTERNAL_WORDING = /shipped|默认政策|默认考核/;

let city;
let base;
let pageErrors;

before(async () => {
  city = await startCity({ name: 'public', months: 2, scale: 0.001, seed: 1 });
  ({ base, pageErrors } = city);
});

after(async () => {
  await city?.close();
});

/** A 390×844 touch phone. */
async function phone() {
  return city.newPage({ mobile: true });
}

/** The page does not scroll sideways. */
async function assertNoOverflow(page, what) {
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= iw, `${what}: the page is ${sw} px wide on a ${iw} px phone`);
}

/** No unit code and no internal policy wording in what the citizen reads. */
async function assertCitizenText(page, what) {
  const text = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, UNIT_CODE, `${what}: a unit code is shown`);
  assert.doesNotMatch(text, INTERNAL_WORDING, `${what}: internal policy wording is shown`);
}

const PUBLIC_PAGES = [
  ['home', '/#/', '.home-cards'],
  ['submit', '/#/submit', '[data-testid=public-form]'],
  ['track', '/#/track', '[data-testid=track-form]'],
  ['ask', '/#/ask', '[data-testid=ask-form]'],
  ['scores', '/#/scores', '[data-testid=scores-policy]'],
  ['scores-district', '/#/scores?level=district', '[data-testid=scores-policy]'],
  ['login', '/#/login', 'form.login-card'],
];

test('phone: the labelled menu reaches every public page in one tap', async () => {
  const { page, context } = await phone();
  await page.goto(`${base}/#/`);
  const menu = page.locator('[data-testid=public-menu]');
  await menu.waitFor();
  assert.ok(await menu.isVisible(), 'the menu button is visible on a phone');
  assert.match(await menu.innerText(), /菜单/);
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await shot(page, 'p01-home');
  for (const [label, route] of [
    ['智能问答', /#\/ask/],
    ['考核榜单', /#\/scores/],
    ['提交诉求', /#\/submit/],
    ['查询进度', /#\/track/],
  ]) {
    await page.locator('[data-testid=public-menu]').click();
    const link = page.locator('[data-testid=public-menu-links] a', { hasText: label });
    await link.waitFor({ state: 'visible' });
    if (label === '智能问答') await shot(page, 'p02-menu-open');
    await link.click();
    await page.waitForURL(route);
    assert.equal(await page.locator('[data-testid=public-menu]').getAttribute('aria-expanded'), 'false', 'the menu closes after a choice');
  }
  await context.close();
});

test('phone: no public page scrolls sideways or shows codes or internal wording', async () => {
  const { page, context } = await phone();
  for (const [name, route, ready] of PUBLIC_PAGES) {
    await page.goto(`${base}${route}`);
    await page.waitForSelector(ready);
    if (name.startsWith('scores')) await page.waitForSelector('[data-testid=scores-cards], [data-testid=scores-table]', { state: 'attached' });
    await assertNoOverflow(page, name);
    // (the staff log-in may list demo accounts with their units)
    if (name !== 'login') await assertCitizenText(page, name);
    await shot(page, `p03-${name}`);
  }
  await context.close();
});

test('phone: the scorecard is a ranked list of cards, 50 a page, the sort in the URL', async () => {
  const { page, context } = await phone();
  await page.goto(`${base}/#/scores?level=street`);
  const cards = page.locator('[data-testid=scores-cards] > li');
  await cards.first().waitFor({ state: 'visible' });
  const n = await cards.count();
  assert.ok(n >= 1 && n <= 50, `${n} cards on the first page`);
  assert.equal(await page.locator('[data-testid=scores-table]').isVisible(), false, 'the wide table is not shown on a phone');
  // each card: rank (or 不排名), the unit and its district, the three rates, the composite
  const first = cards.first();
  assert.match(await first.locator('.sc-card-head').innerText(), /\d|不排名/);
  for (const col of ['response_rate', 'resolution_rate', 'satisfaction_rate']) assert.equal(await first.locator(`[data-col=${col}]`).count(), 1, col);
  assert.ok((await first.locator('.sc-card-name .muted').innerText()).endsWith('区'), 'the street names its district');
  // the policy the citizen reads: its public name, no id or fingerprint
  const policy = await page.locator('[data-testid=scores-policy]').innerText();
  assert.match(policy, /接诉即办考核办法/);
  assert.doesNotMatch(policy, INTERNAL_WORDING);
  // sort by 解决率 from the phone's sort list: kept in the URL
  await page.selectOption('select[name=sort]', 'resolution');
  await page.waitForURL(/sort=resolution/);
  await cards.first().waitFor({ state: 'visible' });
  // the level and the district in the URL
  await page.selectOption('.board-head select[name=district]', DISTRICT);
  await page.waitForURL(new RegExp(`district=${DISTRICT}`));
  await page.waitForURL(/sort=resolution/);
  await cards.first().waitFor({ state: 'visible' });
  const units = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-unit')));
  assert.ok(units.every((u) => u.startsWith(DISTRICT)), 'every card is a street of the district');
  await assertNoOverflow(page, 'scores (district filter)');
  await shot(page, 'p04-scores-cards');
  // the name filter stays in the URL
  await page.fill('.board-head input[name=q]', '街道');
  await page.waitForFunction(() => /[?&]q=/.test(location.hash));
  await context.close();
});

test('phone: an empty request says what to fill in next to each field; no list covers a message', async () => {
  const { page, context } = await phone();
  await page.goto(`${base}/#/submit`);
  await page.waitForSelector('[data-testid=public-form]');
  // open the category list first, then submit: validation closes it
  await page.locator('input[name=category_code]').click();
  await page.waitForSelector('[role=listbox]:not([hidden])');
  await page.click('[data-testid=public-submit]');
  const phoneError = page.locator('[data-field="requester.phone"] .field-error');
  await phoneError.waitFor({ state: 'visible' });
  assert.equal(await phoneError.innerText(), '请填写联系电话');
  assert.equal(await page.locator('[data-field=district_code] .field-error').innerText(), '请选择区');
  assert.equal(await page.locator('[data-field=category_code] .field-error').innerText(), '请选择诉求分类');
  assert.equal(await page.locator('[data-field="requester.name"] .field-error').innerText(), '请填写姓名');
  // focus on the first error, and no list open over any message
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'category_code');
  const covered = await page.evaluate(() => {
    const lists = [...document.querySelectorAll('[role=listbox]')].filter((l) => !l.hidden && l.getBoundingClientRect().height > 0);
    const msgs = [...document.querySelectorAll('.field-error')].filter((m) => m.textContent);
    const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    return lists.some((l) => msgs.some((m) => hit(l.getBoundingClientRect(), m.getBoundingClientRect())));
  });
  assert.equal(covered, false, 'a list covers an error message');
  assert.equal(await page.locator('[role=listbox]:not([hidden])').count(), 0, 'validation closed the list');
  await assertNoOverflow(page, 'submit with errors');
  await shot(page, 'p05-submit-errors');
  // asking for the list again (the field has the focus: arrow down) opens it below the field,
  // still not over its message
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('[role=listbox]:not([hidden])');
  const [list, msg] = await Promise.all([
    page.locator('[role=listbox]:not([hidden])').boundingBox(),
    page.locator('[data-field=category_code] .field-error').boundingBox(),
  ]);
  assert.ok(list.y >= msg.y + msg.height, 'the list opens below the message');
  await page.keyboard.press('Escape');
  // a phone number of the wrong shape says so
  await page.fill('input[name="requester.phone"]', '1234567');
  await page.click('[data-testid=public-submit]');
  await page.waitForFunction(() => /格式不正确/.test(document.querySelector('[data-field="requester.phone"] .field-error')?.textContent ?? ''));
  await context.close();
});

test('phone: a server refusal naming a field shows next to that field', async () => {
  const leaf = await uniqueLeaf(base);
  const { page, context } = await phone();
  await page.goto(`${base}/#/submit`);
  // the server's refusal, as it words it for a phone it does not accept (the route answers like
  // the server, so the page's own check can pass): the field's own message, no field code
  await fillPublicRequest(page, {
    leaf, district: DISTRICT, street: STREET, title: '路灯不亮',
    text: '小区门口路灯连续三晚不亮，请尽快维修。', name: '王芳', phone: '13912348765',
  });
  await page.route('**/api/v1/public/tickets', (route) =>
    route.fulfill({
      status: 422,
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'https://jiesu.dev/problems/invalid', title: 'Unprocessable Entity', status: 422, code: 'invalid', field: 'requester.phone', detail: "invalid requester.phone: '13912348765' is not a phone number", detail_zh: 'requester.phone：不是有效的电话号码（11位手机号或带区号的固定电话）' }),
    }),
  );
  await page.click('[data-testid=public-submit]');
  const f = page.locator('[data-field="requester.phone"].has-error .field-error');
  await f.waitFor({ state: 'visible' });
  assert.match(await f.innerText(), /联系电话格式不正确/);
  assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /requester/);
  await shot(page, 'p06-submit-refused');
  // the real server takes the request
  await page.unroute('**/api/v1/public/tickets');
  await page.click('[data-testid=public-submit]');
  await page.waitForSelector('[data-testid=submit-done]');
  await assertNoOverflow(page, 'submit done');
  await context.close();
});

test('phone: tracking without the tracking code says what to enter', async () => {
  const { page, context } = await phone();
  await page.goto(`${base}/#/track`);
  await page.waitForSelector('[data-testid=track-form]');
  await page.fill('input[name=number]', '2026000000000001');
  await page.click('[data-testid=track-form] button[type=submit]');
  const e = page.locator('[data-field=code] .field-error');
  await e.waitFor({ state: 'visible' });
  assert.match(await e.innerText(), /查询码/);
  await context.close();
});

test('no page raised a JavaScript error', () => {
  assert.deepEqual(pageErrors, []);
});
