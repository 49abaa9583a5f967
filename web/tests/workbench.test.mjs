// The street's workbench and what leads to it, in a real headless Chromium against the real binary:
// the queue by the nearest running clock (签收 / 响应 / 办结) with the time left worded one way, "due
// soon" only in the last share of a clock's span (the server's test clock moved forward), evidence on the result form, the one list of suggested units in dispatch, and the category
// search that knows 噪音 means 噪声.
//
//   JIESU_BIN=$CARGO_TARGET_DIR/debug/jiesu node --test --test-concurrency=1 tests/workbench.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

const STREET = '110105001'; // a street in 朝阳区
const DISTRICT = '110105';
const HOUR = 3600_000;

/** 10:00 Beijing time on the first Tuesday, Wednesday or Thursday at least a day from now (after the
 * generated history, in working hours, so the working-time clocks are plain). */
function nextWorkingMorning() {
  const d = new Date(Date.now() + 24 * HOUR);
  for (;;) {
    const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 2, 0, 0)); // 10:00 +08:00
    if ([2, 3, 4].includes(day.getUTCDay())) return day;
    d.setTime(d.getTime() + 24 * HOUR);
  }
}
const T0 = nextWorkingMorning();

/** The rule of `remaining()` in web/src/format.ts, written out (Chinese): the test checks the
 * cards against it. */
function remainingZh(dueMs, nowMs) {
  const diff = dueMs - nowMs;
  const mins = Math.floor(Math.abs(diff) / 60000);
  let d;
  if (mins < 1) d = '不足 1 分钟';
  else {
    const days = Math.floor(mins / 1440);
    const hh = Math.floor((mins % 1440) / 60);
    const m = mins % 60;
    if (days > 0) d = hh > 0 ? `${days} 天 ${hh} 小时` : `${days} 天`;
    else if (hh > 0) d = m > 0 ? `${hh} 小时 ${m} 分钟` : `${hh} 小时`;
    else d = `${m} 分钟`;
  }
  return diff >= 0 ? `还剩 ${d}` : `超时 ${d}`;
}

let city;
let api;
let token;
let newPage;
let login;
let base;
const made = {}; // name → { id, number }

before(async () => {
  city = await startCity({
    name: 'workbench',
    months: 1,
    scale: 0.001,
    seed: 3,
    users: [
      ['wb_agent', 'agent'],
      ['wb_disp', 'dispatcher'],
      ['wb_handler', 'unit_handler', STREET],
      ['wb_admin', 'admin'],
    ],
    serveArgs: ['--test-clock', T0.toISOString()],
  });
  ({ api, token, newPage, login, base } = city);
});

after(async () => {
  await city?.close();
});

async function someLeaf() {
  const { body } = await api('GET', '/api/v1/categories');
  const leaves = [];
  const walk = (ns) => ns.forEach((n) => (n.children?.length ? walk(n.children) : leaves.push(n)));
  walk(body);
  return leaves[0];
}

/** A ticket taken in for the street and dispatched to it as lead with `tier`. */
async function dispatched(name, tier, title, category) {
  const agent = await token('wb_agent');
  const created = await api('POST', '/api/v1/tickets', {
    channel: 'phone', type: 'help', category_code: category ?? (await someLeaf()).code, title, text: `${title}，详见来电记录。`,
    district_code: DISTRICT, street_code: STREET, requester: { name: '孙丽', phone: '13600002222' },
  }, agent);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const d = await api('POST', `/api/v1/tickets/${created.body.id}/dispatch`, { assignments: [{ unit_code: STREET, role: 'lead' }], tier }, agent);
  assert.equal(d.status, 200, JSON.stringify(d.body));
  made[name] = { id: created.body.id, number: created.body.number };
  return made[name];
}

async function handle(t, steps) {
  const h = await token('wb_handler');
  for (const [action, body] of steps) {
    const r = await api('POST', `/api/v1/tickets/${t.id}/${action}`, body, h);
    assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
  }
}

/** The cards of the queue as the page shows them. */
async function cards(page) {
  return page.locator('.queue-item').evaluateAll((els) =>
    els.map((e) => ({
      number: e.getAttribute('data-ticket'),
      clock: e.getAttribute('data-clock'),
      state: e.getAttribute('data-state'),
      due: e.getAttribute('data-deadline'),
      soon: e.classList.contains('due-soon'),
      label: e.querySelector('.clock-label')?.textContent ?? '',
      left: e.querySelector('.clock-left')?.textContent ?? '',
    })),
  );
}

test('the workbench lists the nearest running clock first: 签收 until signed, then 响应, then 办结', async () => {
  // unsigned 15-day ticket: its sign clock (2 working hours) is nearer than the 24-hour ticket's finish
  const unsigned = await dispatched('unsigned', '15d', '建议小区增设健身器材');
  const finished = await dispatched('responded', '24h', '楼道堆放杂物请清理');
  await handle(finished, [['sign', {}], ['respond', { note: '已电话联系' }]]);
  const signed = await dispatched('signed', '7d', '小区路灯损坏请维修');
  await handle(signed, [['sign', {}]]);
  // a 2-hour ticket: its sign clock runs 15 minutes and is not "due soon" at once
  const urgent = await dispatched('urgent', '2h', '小区突发停水请尽快处理');

  const h = await token('wb_handler');
  const list = (await api('GET', '/api/v1/tickets?mine=true&sort=deadline&page_size=100', undefined, h)).body;
  const byNumber = new Map(list.items.map((i) => [i.number, i]));
  for (const [t, clock] of [[unsigned, 'sign'], [finished, 'finish'], [signed, 'respond'], [urgent, 'sign']]) {
    assert.equal(byNumber.get(t.number)?.next_clock?.clock, clock, `${t.number}: ${JSON.stringify(byNumber.get(t.number))}`);
  }
  const u = byNumber.get(unsigned.number).next_clock;
  const f = byNumber.get(finished.number);
  assert.ok(Date.parse(u.due) < Date.parse(f.finish_deadline), 'the unsigned ticket\'s sign clock is nearer than the 24-hour finish');
  assert.ok(Date.parse(byNumber.get(unsigned.number).finish_deadline) > Date.parse(f.finish_deadline), 'while its finish deadline is later');
  assert.equal(byNumber.get(urgent.number).next_clock.state, 'running', 'a fresh 15-minute clock is not due soon');

  const { page, context } = await newPage();
  await login(page, 'wb_handler');
  await page.waitForURL(/#\/workbench/);
  await page.locator(`.queue-item[data-ticket="${unsigned.number}"]`).waitFor();
  const cs = await cards(page);
  const order = cs.map((c) => c.number);
  // sorted by the due time of the clock each card shows
  const dues = cs.map((c) => Date.parse(c.due));
  assert.deepEqual(dues, [...dues].sort((a, b) => a - b), 'the queue is sorted by the nearest running clock');
  assert.ok(order.indexOf(urgent.number) < order.indexOf(unsigned.number), 'the 15-minute sign clock first');
  assert.ok(order.indexOf(unsigned.number) < order.indexOf(finished.number), 'the unsigned 15-day ticket before the 24-hour one');
  const card = (t) => cs.find((c) => c.number === t.number);
  assert.match(card(unsigned).label, /签收时限/);
  assert.match(card(urgent).label, /签收时限/);
  assert.match(card(signed).label, /响应时限/);
  assert.match(card(finished).label, /办结时限/);
  assert.equal(card(unsigned).due, u.due, 'the card shows the server\'s due time');
  assert.equal(card(urgent).soon, false, 'not due soon at once');
  // the time left, worded by the one rule, from the server's clock (a minute may turn meanwhile)
  const at = Date.parse(list.at);
  for (const t of [unsigned, finished, signed, urgent]) {
    const c = card(t);
    const ok = [0, 30_000, 60_000].map((dt) => remainingZh(Date.parse(c.due), at + dt));
    assert.ok(ok.includes(c.left), `${t.number}: "${c.left}" is one of ${ok.join(' / ')}`);
  }
  // counters: to sign counts the sign clocks
  const toSign = cs.filter((c) => c.clock === 'sign').length;
  assert.equal(await page.locator('.stat.info .stat-n').textContent(), String(toSign));
  await assertNoSideways(page);
  await shot(page, 'w01-workbench');
  await context.close();

  const phone = await newPage({ mobile: true });
  await login(phone.page, 'wb_handler');
  await phone.page.waitForURL(/#\/workbench/);
  await phone.page.locator(`.queue-item[data-ticket="${unsigned.number}"]`).waitFor();
  await assertNoSideways(phone.page);
  await shot(phone.page, 'w02-workbench-phone');
  await phone.context.close();
});

test('the result form uploads a photo as evidence and a wrong file says what to do, keeping the text', async () => {
  const t = made.responded;
  assert.ok(t, 'needs the responded ticket');
  const { page, context } = await newPage();
  await login(page, 'wb_handler');
  await page.goto(`${base}/#/tickets/${t.id}`);
  await page.waitForSelector('[data-testid=actions]');
  await page.click('[data-action-button=result]');
  const form = page.locator('form[data-action=result]');
  await form.locator('textarea[name=text]').fill('已清理楼道杂物，现场照片见附件。');
  const fileInput = form.locator('input[type=file][name=evidence]');
  assert.match(await fileInput.getAttribute('accept'), /image\/\*/);
  assert.match(await fileInput.getAttribute('accept'), /application\/pdf/);
  assert.equal(await fileInput.getAttribute('multiple'), '');
  assert.match(await form.locator('[data-field=evidence] .hint').textContent(), /10 MB/);
  // a file that is neither a photo nor a PDF is refused at the field, the text stays
  await fileInput.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  assert.match(await form.locator('[data-field=evidence] .field-error').textContent(), /不是照片或 PDF.*请改选/);
  assert.equal(await form.locator('[data-testid=evidence-list] li').count(), 0);
  // too big: refused before anything is sent
  await fileInput.setInputFiles({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(10 * 1024 * 1024 + 1, 1) });
  assert.match(await form.locator('[data-field=evidence] .field-error').textContent(), /超过 10 MB.*压缩/);
  assert.equal(await form.locator('textarea[name=text]').inputValue(), '已清理楼道杂物，现场照片见附件。');
  // a small PNG
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
  await fileInput.setInputFiles({ name: '现场照片.png', mimeType: 'image/png', buffer: png });
  await form.locator('[data-testid=evidence-list] li[data-file="现场照片.png"]').waitFor();
  await assertLabelled(page);
  await shot(page, 'w03-result-evidence');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('.ticket-head [data-status=result_submitted]');
  // the attachment is on the ticket, and the result names it as evidence
  const events = (await api('GET', `/api/v1/tickets/${t.id}/events`, undefined, await token('wb_handler'))).body;
  const added = events.find((e) => e.kind === 'attachment_added');
  assert.ok(added, 'an attachment_added event');
  assert.equal(added.file_name, '现场照片.png');
  const result = events.find((e) => e.kind === 'result_submitted');
  assert.deepEqual(result.evidence, [added.id], 'the result carries the uploaded file as evidence');
  await page.locator('.timeline .tl-item[data-kind=attachment_added]').waitFor();
  assert.match(await page.locator('.timeline .tl-item[data-kind=attachment_added]').textContent(), /现场照片\.png/);
  await context.close();
});

test('the intake category search finds the 噪声 categories for 噪音, and dispatch shows one list of suggested units', async () => {
  const { page, context } = await newPage();
  await login(page, 'wb_agent');
  await page.waitForURL(/#\/intake/);
  await page.waitForSelector('[data-testid=intake-form]');
  const inp = page.locator('input[name=category_code]');
  await inp.click();
  await inp.fill('噪音');
  await page.waitForFunction(() => [...document.querySelectorAll('li[role=option]')].some((o) => o.textContent.includes('噪声')));
  const options = await page.locator('li[role=option]').allTextContents();
  assert.ok(options.some((o) => /噪声/.test(o)), `噪声 categories for 噪音: ${options.join(' | ')}`);
  await page.locator('li[role=option]', { hasText: '噪声' }).first().click();
  // the place: the street joins the one suggestion list (no separate chip)
  await page.selectOption('select[name=district_code]', DISTRICT);
  await page.waitForSelector(`select[name=street_code] option[value="${STREET}"]`, { state: 'attached' });
  await page.selectOption('select[name=street_code]', STREET);
  await page.fill('input[name=title]', '夜间施工噪音扰民');
  await page.fill('textarea[name=text]', '小区旁工地每天夜里十一点以后还在施工，噪音很大影响休息，请尽快处理。');
  const list = page.locator('.unit-picker [data-testid=unit-suggestions]');
  await list.locator(`li[data-unit="${STREET}"]`).waitFor();
  // the classifier's units (catalogue rule or model) join the same list, not a second one
  await page.waitForSelector('.unit-picker [data-testid=unit-suggestions] li:not([data-source=street])', { timeout: 30_000 });
  const items = await assertSuggestionList(page);
  assert.ok(items.length >= 2, 'the street and the classifier\'s units');
  assert.equal(await page.locator('[data-testid=classify] .cls-units').count(), 0, 'the assistant panel lists no units of its own');
  await assertLabelled(page);
  await shot(page, 'w04-intake-suggestions');
  // one click adds a suggested unit as lead
  const first = items[0].unit;
  await list.locator(`li[data-unit="${first}"] [data-testid=unit-accept]`).click();
  await page.locator(`.picked-units li[data-unit="${first}"]`).waitFor();
  assert.equal(await page.locator(`.picked-units li[data-unit="${first}"] select`).inputValue(), 'lead');
  await context.close();
});

/** One list: units once each, sources in order (rule, street, model), each with its source in words. */
async function assertSuggestionList(page) {
  assert.equal(await page.locator('.unit-picker [data-testid=unit-suggestions]').count(), 1, 'one suggestion list');
  assert.equal(await page.locator('[data-testid=unit-suggestions]').count(), 1, 'no second list beside it');
  const items = await page.locator('.unit-picker [data-testid=unit-suggestions] li').evaluateAll((els) =>
    els.map((e) => ({ unit: e.getAttribute('data-unit'), source: e.getAttribute('data-source'), text: e.textContent })),
  );
  const units = items.map((i) => i.unit);
  assert.deepEqual(units, [...new Set(units)], 'each unit once');
  const rank = { rule: 0, street: 1, model: 2 };
  const ranks = items.map((i) => rank[i.source]);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'catalogue rule, then street, then model');
  for (const i of items) assert.match(i.text, /派单目录规则|属地直派|模型/, 'the source in words');
  return items;
}

test('the ticket page\'s dispatch form merges the catalogue\'s units and the street into one list; one click adds a unit', async () => {
  const disp = await token('wb_disp');
  const agent = await token('wb_agent');
  // a leaf the catalogue sends straight to the street: the street is both the rule's unit and the 属地 one
  const res = await fetch(`${base}/api/v1/catalogue/export.csv`, { headers: { Authorization: `Bearer ${disp}` } });
  const csv = await res.text();
  const leaf = csv
    .split('\n')
    .map((l) => l.split(','))
    .find((f) => /^L\d{6}$/.test(f[0]) && f[5] === '*' && !f[6] && f[8] === 'lead:{street}')?.[4];
  assert.ok(leaf, 'the demo catalogue has a direct-to-street leaf rule');
  const c = await api('POST', '/api/v1/tickets', {
    channel: 'phone', type: 'complaint', category_code: leaf, title: '小区门口道路破损积水', text: '小区门口道路破损多日，雨后积水严重，请尽快处理。',
    district_code: DISTRICT, street_code: STREET, requester: { name: '赵立新', phone: '13698760000' },
  }, agent);
  assert.equal(c.status, 201, JSON.stringify(c.body));
  const route = (await api('GET', `/api/v1/tickets/${c.body.id}/route`, undefined, disp)).body;
  const { page, context } = await newPage();
  await login(page, 'wb_disp');
  await page.goto(`${base}/#/tickets/${c.body.id}`);
  await page.waitForSelector('form[data-action=dispatch]');
  await page.locator('[data-testid=suggestion-words]').waitFor();
  const list = page.locator('.unit-picker [data-testid=unit-suggestions]');
  await list.locator(`li[data-unit="${STREET}"]`).waitFor();
  const items = await assertSuggestionList(page);
  const expected = [...new Set([...route.assignments.map((a) => a.unit_code), STREET])];
  assert.deepEqual(items.map((i) => i.unit), expected, 'the rule\'s units first, then the street, each once');
  if (route.assignments.some((a) => a.unit_code === STREET)) {
    assert.equal(await list.locator(`li[data-unit="${STREET}"]`).getAttribute('data-sources'), 'rule street', 'the street once, with both sources');
  }
  await assertLabelled(page);
  await shot(page, 'w05-dispatch-suggestions');
  // one click adds it, and it leaves the list
  await list.locator(`li[data-unit="${STREET}"] [data-testid=unit-accept]`).click();
  await page.locator(`.picked-units li[data-unit="${STREET}"]`).waitFor();
  assert.equal(await list.locator(`li[data-unit="${STREET}"]`).count(), 0);
  await context.close();
});

test('"due soon" shows only in the last fifth of a clock: 13 minutes later on the server\'s clock', async () => {
  const urgent = made.urgent;
  const unsigned = made.unsigned;
  assert.ok(urgent && unsigned, 'needs the queue of the first test');
  // the server's test clock moves 13 minutes forward (an administrator's POST /api/v1/test-clock,
  // no sleeping): the 2-hour ticket's 15-minute sign clock is then past 80 %, the 15-day ticket's 2
  // hours are not
  const moved = await api('POST', '/api/v1/test-clock', { advance_seconds: 13 * 60 }, await token('wb_admin'));
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  const tok = await token('wb_handler');
  const list = (await api('GET', '/api/v1/tickets?mine=true&sort=deadline&page_size=100', undefined, tok)).body;
  const item = (t) => list.items.find((i) => i.number === t.number);
  assert.equal(item(urgent).next_clock.state, 'due_soon', JSON.stringify(item(urgent)));
  assert.equal(item(unsigned).next_clock.state, 'running', JSON.stringify(item(unsigned)));

  const { page, context } = await newPage();
  await login(page, 'wb_handler');
  await page.waitForURL(/#\/workbench/);
  await page.locator(`.queue-item[data-ticket="${urgent.number}"]`).waitFor();
  const cs = await cards(page);
  const card = (t) => cs.find((c) => c.number === t.number);
  assert.equal(card(urgent).soon, true, 'the 15-minute clock is due soon past 80 %');
  assert.equal(card(urgent).state, 'due_soon');
  assert.equal(card(unsigned).soon, false, 'the 2-hour clock is not');
  // the time left counts from the server's clock, not the browser's
  const at = Date.parse(list.at);
  const ok = [0, 30_000, 60_000].map((dt) => remainingZh(Date.parse(card(urgent).due), at + dt));
  assert.ok(ok.includes(card(urgent).left), `"${card(urgent).left}" is one of ${ok.join(' / ')}`);
  assert.match(await page.locator('.stat.soon .stat-n').textContent(), /^[1-9]\d*$/);
  await shot(page, 'w06-workbench-due-soon');
  await context.close();
});

test('no page raised a JavaScript error', () => {
  assert.deepEqual(city.pageErrors, []);
});
