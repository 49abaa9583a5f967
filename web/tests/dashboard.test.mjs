// The leader's dashboard (数据看板, #/dashboard) in a real headless Chromium against the real
// `jiesu` binary (harness.mjs), on a generated city of 14 months:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/dashboard.test.mjs
//
// A supervisor finds 数据看板 in the menu; on a 1280×900 desktop the trend, the district tile map,
// the top categories and the ledger render with the API's figures (the total, the first category,
// a district's per-10,000 figure, the ledger's first line, each compared with a direct API call);
// a ledger count and a category bar lead to #/tickets with filters; a click on a top-level category
// drills into its sub-categories and the breadcrumb goes back; the filters and the interval land in
// the URL and survive a reload; the print view hides the menu and shows the filters as text; the
// latest 日通报 (made through the API) is on its card and opens as HTML in a new tab. On a 390×844
// phone the page does not scroll sideways. A street handler gets neither the menu entry nor the
// page (no access). Boundaries an administrator loads (PUT /analytics/geojson) turn the tile
// grid into a map. The channel and type filters, read from the URL, reach every chart's request
// and the total leads to the ticket list under the same filters with the same count. A switch per
// kind of report subscribes the user (报告订阅), kept across a reload and in the API, keeping a
// webhook set through the API. Screenshots d01…d13 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, shots, startCity } from './harness.mjs';

let city;
let base;
const DESK = { width: 1280, height: 900 };

before(async () => {
  city = await startCity({
    name: 'dash',
    months: 14,
    scale: 0.001,
    seed: 11,
    users: [
      ['sup1', 'supervisor'],
      ['ad1', 'admin'],
      ['h1', 'unit_handler', '110105001'],
    ],
  });
  ({ base } = city);
});

after(async () => {
  await city?.close();
});

const nextDay = (d) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** The hash query of the page as an object. */
async function hashQuery(page) {
  return page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? '')));
}

/** The dashboard's period as the API takes it (`to` exclusive), read from its date fields. */
async function period(page) {
  const from = await page.inputValue('input[name=from]');
  const toIncl = await page.inputValue('input[name=to]');
  return { from, to: nextDay(toIncl) };
}

/** A GET of the analytics API as the supervisor. */
async function analytics(path, params) {
  const tok = await city.token('sup1');
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''));
  const { status, body } = await city.api('GET', `/api/v1/analytics/${path}?${q}`, undefined, tok);
  assert.equal(status, 200, `${path}?${q}: ${JSON.stringify(body)}`);
  return body;
}

/** Waits until every card of the dashboard has finished loading, and the charts are drawn. */
async function loaded(page) {
  await page.waitForSelector('[data-testid=dashboard]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=dashboard] .loading'), null, { timeout: 60_000 });
  await page.waitForSelector('[data-testid=trend-chart] svg');
  await page.waitForTimeout(300);
}

/**
 * Clicks the top bar of a ranked-bar chart (its SVG path in the bars' colour nearest the top; the
 * biggest category, as the bars are sorted).
 */
async function clickTopBar(page, testid) {
  await page.locator(`[data-testid=${testid}]`).scrollIntoViewIfNeeded();
  const at = await page.evaluate((id) => {
    const paths = [...document.querySelectorAll(`[data-testid=${id}] svg path`)];
    const rects = paths
      .filter((p) => (p.getAttribute('fill') ?? '').toLowerCase() === '#1b4f9c')
      .map((p) => p.getBoundingClientRect())
      .filter((r) => r.width > 2 && r.height > 4)
      .sort((a, b) => a.top - b.top);
    const r = rects[0];
    return r ? { x: r.left + Math.min(r.width / 2, 12), y: r.top + r.height / 2 } : null;
  }, testid);
  assert.ok(at, `${testid} has bars`);
  await page.mouse.click(at.x, at.y);
}

/**
 * Clicks the top bar until `done` holds in the page: on a loaded machine ECharts may still be
 * drawing the chart when the first click lands (then nothing happens, and the click is repeated).
 */
async function clickTopBarUntil(page, testid, done) {
  for (let i = 0; i < 4; i++) {
    await clickTopBar(page, testid);
    try {
      await page.waitForFunction(done, null, { timeout: 5000 });
      return;
    } catch {
      // not yet: the chart was still being drawn
    }
  }
  await page.waitForFunction(done);
}

/** The number in a cell's text ("1,234" → 1234). */
const n = (s) => Number(String(s).replace(/[^\d.-]/g, ''));

test('a supervisor opens 数据看板 from the menu; the charts and the ledger show the API’s figures', async () => {
  // the latest 日通报: computed now (the last complete day)
  const made = await city.api('POST', '/api/v1/analytics/reports', { kind: 'daily' }, await city.token('sup1'));
  assert.ok([200, 201].includes(made.status), `a daily bulletin is made: ${made.status} ${JSON.stringify(made.body)}`);
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'sup1');
  const entry = page.locator('[data-testid=staff-menu-links] a[href="#/dashboard"]');
  assert.equal(await entry.textContent(), '数据看板');
  await entry.click();
  await loaded(page);
  assert.equal(await page.locator('h1').textContent(), '数据看板');
  const p = await period(page);

  // the total
  const month = await analytics('series', { ...p, interval: 'month' });
  assert.equal(Number(await page.getAttribute('[data-testid=dash-total]', 'data-value')), month.counted.tickets, 'the total is the API’s');
  assert.ok(month.counted.tickets > 0, 'the city has tickets in the period');
  // the trend: one point per month, the last one's figure and changes shown
  const last = month.points[month.points.length - 1];
  assert.equal(await page.getAttribute('[data-testid=trend-last]', 'data-period'), last.period);
  assert.equal(Number(await page.getAttribute('[data-testid=trend-last]', 'data-count')), last.count);
  assert.equal(await page.locator('[data-testid=trend-table] tbody tr').count(), month.points.length);
  assert.ok((await page.locator('[data-testid=trend-chart] svg path').count()) > 2, 'the trend line is drawn');

  // the top categories: the first bar's figure, "others" last
  const cats = await analytics('group', { ...p, by: 'category_l1', top: 10 });
  const catRows = page.locator('[data-testid=categories-table] tbody tr');
  assert.equal(await catRows.count(), cats.rows.length + (cats.others && cats.others.count > 0 ? 1 : 0));
  assert.equal(n(await catRows.first().locator('td').nth(2).textContent()), cats.rows[0].count);
  assert.equal(await catRows.first().locator('td').nth(1).textContent(), cats.rows[0].keys[0].label_zh);

  // the district tile map (no boundaries loaded): 16 tiles, a district's per-10,000 figure
  assert.equal(await page.getAttribute('[data-testid=district-map]', 'data-kind'), 'tiles');
  const dist = await analytics('group', { ...p, by: 'district' });
  assert.equal(dist.rows.length, 16, 'the city has 16 districts with requests');
  const top = [...dist.rows].sort((a, b) => (b.per_10k ?? -1) - (a.per_10k ?? -1))[0];
  const dRow = page.locator('[data-testid=district-table] tbody tr').first();
  assert.equal(await dRow.locator('td').first().textContent(), top.keys[0].label_zh);
  assert.equal(await dRow.locator('td').nth(2).textContent(), top.per_10k.toFixed(1));
  const mapText = await page.locator('[data-testid=district-map] svg').textContent();
  assert.ok(mapText.includes(top.per_10k.toFixed(1)), 'the tile shows the per-10,000 figure');
  assert.ok(mapText.includes('朝阳'), 'the tiles are named');

  // the street heat grid, seasonality, the rates and the handling times are drawn
  for (const id of ['street-heat', 'season-chart', 'rates-chart', 'channel-chart', 'type-chart']) {
    assert.ok(await page.locator(`[data-testid=${id}] svg`).count(), `${id} is drawn`);
  }

  // the ledger
  const ledger = await analytics('ledger', { ...p, top: 20 });
  assert.ok(ledger.rows.length > 0, 'the ledger has lines');
  const lRows = page.locator('[data-testid=ledger-row]');
  assert.equal(await lRows.count(), ledger.rows.length);
  assert.equal(n(await lRows.first().locator('[data-testid=ledger-count]').textContent()), ledger.rows[0].count);
  assert.equal(await lRows.first().getAttribute('data-street'), ledger.rows[0].street.code);

  // the latest daily bulletin, opened in a new tab
  const report = page.locator('[data-testid=dash-report-link]');
  assert.equal(await report.textContent(), made.body.title_zh);
  await assertLabelled(page);
  await assertNoSideways(page);
  await shot(page, 'd01-dashboard-desktop');
  const [tab] = await Promise.all([context.waitForEvent('page'), report.click()]);
  await tab.waitForFunction(() => /日通报/.test(document.body?.textContent ?? ''));
  // styled: the masthead's red title (the bulletin's own style sheet, under the page's CSP)
  assert.equal(await tab.evaluate(() => getComputedStyle(document.querySelector('h1')).color), 'rgb(192, 57, 43)');
  await tab.screenshot({ path: `${shots}/d09-daily-bulletin.png`, fullPage: true });
  await tab.close();

  // a ledger count leads to the tickets behind it
  const drill = await lRows.first().locator('[data-testid=ledger-count]').getAttribute('href');
  assert.equal(drill, ledger.rows[0].drill);
  assert.match(drill, /^#\/tickets\?/);
  await lRows.first().locator('[data-testid=ledger-count]').click();
  await page.waitForFunction(() => location.hash.startsWith('#/tickets?'));
  const tq = await hashQuery(page);
  assert.ok(Object.keys(tq).length > 0, `the ticket list gets filters: ${JSON.stringify(tq)}`);
  assert.equal(tq.street, ledger.rows[0].street.code, 'the street is a filter of the list');
  assert.equal(await page.getAttribute('[data-testid=street-filter]', 'data-street'), ledger.rows[0].street.code, 'shown as a chip');
  await page.waitForSelector('[data-testid=ticket-table]');
  if (ledger.rows[0].count <= 20) {
    assert.equal(await page.locator('[data-testid=ticket-table] tbody tr').count(), ledger.rows[0].count, 'the list holds the tickets behind the figure');
  }
  await shot(page, 'd02-ledger-drill');
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});

test('a click on a top-level category drills into its sub-categories; a sub-category opens its tickets', async () => {
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await loaded(page);
  const p = await period(page);
  const cats = await analytics('group', { ...p, by: 'category_l1', top: 10 });
  const box = page.locator('[data-testid=categories-chart]');
  assert.equal(await box.getAttribute('data-level'), '1');
  await clickTopBarUntil(page, 'categories-chart', () => document.querySelector('[data-testid=categories-chart]')?.getAttribute('data-level') === '2' && !document.querySelector('[data-testid=dash-categories] .loading'));
  assert.equal((await hashQuery(page)).drill, cats.rows[0].keys[0].code, 'the drill is in the URL');
  assert.match(await page.textContent('[data-testid=cat-crumbs]'), new RegExp(cats.rows[0].keys[0].label_zh));
  const sub = await analytics('group', { ...p, category: cats.rows[0].keys[0].code, by: 'category_l2', top: 10 });
  const subRows = page.locator('[data-testid=categories-table] tbody tr');
  assert.equal(n(await subRows.first().locator('td').nth(2).textContent()), sub.rows[0].count);
  await page.waitForSelector('[data-testid=categories-chart] svg');
  await shot(page, 'd03-category-drill');
  // a sub-category bar opens the ticket list of that category
  await clickTopBarUntil(page, 'categories-chart', () => location.hash.startsWith('#/tickets?'));
  // the top bar is the biggest sub-category; sub-categories tied on the count may be drawn in
  // either order (how many there are depends on the generated city's dates), so any of them
  const top = sub.rows.filter((r) => r.count === sub.rows[0].count).map((r) => r.drill);
  const opened = `#${(await page.evaluate(() => location.hash)).slice(1)}`;
  assert.ok(top.includes(opened), `${opened} is not one of the biggest sub-categories ${top.join(', ')}`);
  await page.waitForSelector('[data-testid=ticket-table], .empty-state');
  // back on the dashboard, the breadcrumb returns to all categories
  await page.goBack();
  await loaded(page);
  assert.equal(await page.getAttribute('[data-testid=categories-chart]', 'data-level'), '2');
  await page.click('[data-testid=cat-back]');
  await page.waitForFunction(() => document.querySelector('[data-testid=categories-chart]')?.getAttribute('data-level') === '1');
  assert.equal((await hashQuery(page)).drill, undefined);
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});

test('the filters and the interval land in the URL, survive a reload and change the figures', async () => {
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await loaded(page);
  const p = await period(page);
  // a district, a type and a later start
  await page.selectOption('select[name=district]', '110105');
  await page.waitForFunction(() => location.hash.includes('district=110105'));
  await page.selectOption('select[name=type]', 'complaint');
  await page.waitForFunction(() => location.hash.includes('type=complaint'));
  // the first day of the month after the default start
  const [y, m] = p.from.split('-').map(Number);
  const from = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  assert.notEqual(from, p.from);
  await page.fill('input[name=from]', from);
  await page.dispatchEvent('input[name=from]', 'change');
  await page.waitForFunction((f) => location.hash.includes(`from=${f}`), from);
  await page.click('[data-testid=trend-interval] input[value=week]', { force: true });
  await page.waitForFunction(() => location.hash.includes('interval=week'));
  await loaded(page);
  const q = await hashQuery(page);
  assert.deepEqual({ district: q.district, type: q.type, from: q.from, to: q.to, interval: q.interval }, { district: '110105', type: 'complaint', from, to: p.to, interval: 'week' });
  const filtered = await analytics('series', { from, to: p.to, district: '110105', type: 'complaint', interval: 'week' });
  assert.equal(await page.locator('[data-testid=trend-table] tbody tr').count(), filtered.points.length, 'one row a week');
  // a reload shows the same view
  await page.reload();
  await loaded(page);
  assert.equal(await page.inputValue('select[name=district]'), '110105');
  assert.equal(await page.inputValue('select[name=type]'), 'complaint');
  assert.equal(await page.inputValue('input[name=from]'), from);
  assert.equal(await page.isChecked('[data-testid=trend-interval] input[value=week]'), true);
  const month = await analytics('series', { from, to: p.to, district: '110105', type: 'complaint', interval: 'month' });
  assert.equal(Number(await page.getAttribute('[data-testid=dash-total]', 'data-value')), month.counted.tickets, 'the filtered total is the API’s');
  assert.match(await page.textContent('[data-testid=dash-filter-text]'), /朝阳区/);
  await shot(page, 'd04-filtered-weekly');
  // the print view: no menu, no filter form, the filters as text
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.topbar').isVisible(), false, 'no menu on paper');
  assert.equal(await page.locator('[data-testid=dash-filters]').isVisible(), false, 'no filter form on paper');
  assert.equal(await page.locator('[data-testid=dash-filter-text]').isVisible(), true, 'the filters as text');
  await shot(page, 'd05-print');
  await page.emulateMedia({ media: 'screen' });
  assert.equal(await page.locator('[data-testid=dash-print]').textContent(), '打印');
  // in English
  await page.click('[data-testid=lang-toggle]');
  await loaded(page);
  assert.equal(await page.locator('h1').textContent(), 'Dashboard');
  assert.match(await page.textContent('[data-testid=dash-ledger] h2'), /City problem ledger/);
  await shot(page, 'd06-english');
  await page.click('[data-testid=lang-toggle]');
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});

test('the channel and type filters from the URL reach every chart and the total leads to the same tickets', async () => {
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'sup1');
  // every analytics request the page makes
  const asked = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/^\/api\/v1\/analytics\/(group|series|durations|ledger)$/.test(u.pathname)) asked.push(u);
  });
  await page.goto(`${base}/#/dashboard?channel=phone&type=complaint`);
  await loaded(page);
  assert.equal(await page.inputValue('select[name=channel]'), 'phone');
  assert.equal(await page.inputValue('select[name=type]'), 'complaint');
  const kinds = new Set(asked.map((u) => u.pathname.split('/').pop()));
  assert.deepEqual([...kinds].sort(), ['durations', 'group', 'ledger', 'series'], 'every kind of chart asked');
  for (const u of asked) {
    assert.equal(u.searchParams.get('channel'), 'phone', `${u.pathname}?${u.searchParams}`);
    assert.equal(u.searchParams.get('type'), 'complaint', `${u.pathname}?${u.searchParams}`);
  }
  // the figures are the filtered ones: the total and the channel mix (one bar, the filter's)
  const p = await period(page);
  const month = await analytics('series', { ...p, channel: 'phone', type: 'complaint', interval: 'month' });
  const total = Number(await page.getAttribute('[data-testid=dash-total]', 'data-value'));
  assert.equal(total, month.counted.tickets);
  assert.ok(total > 0, 'the generated city has phoned-in complaints');
  const all = await analytics('series', { ...p, interval: 'month' });
  assert.ok(total < all.counted.tickets, 'the filters narrow the total');
  const mix = await analytics('group', { ...p, channel: 'phone', type: 'complaint', by: 'channel' });
  assert.deepEqual(mix.rows.map((r) => r.keys[0].code), ['phone']);
  assert.match(await page.textContent('[data-testid=dash-filter-text]'), /电话/);
  await shot(page, 'd11-channel-type-filters');
  // changing the channel in the form rewrites the URL and asks again with it
  asked.length = 0;
  await page.selectOption('select[name=channel]', 'web');
  await page.waitForFunction(() => location.hash.includes('channel=web'));
  await loaded(page);
  assert.ok(asked.length > 0 && asked.every((u) => u.searchParams.get('channel') === 'web' && u.searchParams.get('type') === 'complaint'));
  await page.selectOption('select[name=channel]', 'phone');
  await page.waitForFunction(() => location.hash.includes('channel=phone'));
  await loaded(page);
  // the total leads to the ticket list under the same filters, with the same count
  await page.click('[data-testid=dash-total]');
  await page.waitForFunction(() => location.hash.startsWith('#/tickets?'));
  const tq = await hashQuery(page);
  assert.equal(tq.channel, 'phone');
  assert.equal(tq.type, 'complaint');
  await page.waitForSelector('[data-testid=pager]');
  assert.equal(await page.inputValue('select[name=channel]'), 'phone');
  assert.equal(await page.inputValue('select[name=type]'), 'complaint');
  assert.equal(Number(await page.getAttribute('[data-testid=pager]', 'data-total')), total, 'the list holds the tickets behind the total');
  await shot(page, 'd12-total-drill-channel-type');
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});

test('a switch on the dashboard subscribes to a kind of report, kept across a reload and in the API', async () => {
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await loaded(page);
  const daily = page.locator('[data-testid=dash-sub-daily] input:not([disabled])');
  await daily.waitFor();
  assert.equal(await daily.isChecked(), false);
  assert.match(await page.textContent('[data-testid=dash-subs]'), /日通报.*周汇总.*月分析/);
  await daily.check();
  await page.waitForFunction(() => document.querySelector('[data-testid=dash-sub-daily] input')?.checked === true && /已订阅/.test(document.body.textContent ?? ''));
  const tok = await city.token('sup1');
  let subs = await city.api('GET', '/api/v1/analytics/reports/subscriptions', undefined, tok);
  assert.deepEqual(subs.body.items.filter((i) => i.subscribed).map((i) => i.kind), ['daily']);
  await shot(page, 'd13-report-subscription');
  await page.reload();
  await loaded(page);
  await page.locator('[data-testid=dash-sub-daily] input:not([disabled])').waitFor();
  assert.equal(await page.locator('[data-testid=dash-sub-daily] input').isChecked(), true, 'kept across a reload');
  // a webhook set through the API is kept when another switch is flipped here
  const put = await city.api('PUT', '/api/v1/analytics/reports/subscriptions', { subscriptions: [{ kind: 'daily', webhook_url: 'http://127.0.0.1:9/hook' }] }, tok);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await page.reload();
  await loaded(page);
  await page.locator('[data-testid=dash-sub-monthly] input:not([disabled])').check();
  await page.waitForFunction(() => document.querySelector('[data-testid=dash-sub-monthly] input')?.checked === true);
  for (let i = 0; i < 50; i++) {
    subs = await city.api('GET', '/api/v1/analytics/reports/subscriptions', undefined, tok);
    if (subs.body.items.find((x) => x.kind === 'monthly').subscribed) break;
    await page.waitForTimeout(100);
  }
  const byKind = Object.fromEntries(subs.body.items.map((i) => [i.kind, i]));
  assert.equal(byKind.monthly.subscribed, true);
  assert.equal(byKind.daily.webhook_url, 'http://127.0.0.1:9/hook');
  // in English
  await page.click('[data-testid=lang-toggle]');
  await loaded(page);
  await page.locator('[data-testid=dash-sub-daily]').waitFor();
  assert.match(await page.textContent('[data-testid=dash-subs]'), /Daily bulletin/);
  await page.click('[data-testid=lang-toggle]');
  // unsubscribe everything again (the other tests see no subscriptions)
  await city.api('PUT', '/api/v1/analytics/reports/subscriptions', { subscriptions: [] }, tok);
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});

test('on a 390×844 phone the dashboard stacks its charts and does not scroll sideways', async () => {
  const { page, context } = await city.newPage({ mobile: true });
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await loaded(page);
  for (const id of ['trend-chart', 'district-map', 'categories-chart', 'street-heat']) assert.ok(await page.locator(`[data-testid=${id}] svg`).count(), `${id} is drawn`);
  assert.ok((await page.locator('[data-testid=ledger-row]').count()) > 0);
  await assertNoSideways(page);
  // the cards are one column
  const xs = await page.locator('.dash-grid > .card').evaluateAll((els) => [...new Set(els.map((e) => Math.round(e.getBoundingClientRect().left)))]);
  assert.equal(xs.length, 1, `one column of cards: ${xs}`);
  await page.locator('[data-testid=dash-sub-daily]').waitFor();
  await shot(page, 'd07-dashboard-phone');
  // the filters open behind their button
  await page.click('.dash-filters .filter-toggle');
  assert.ok(await page.locator('select[name=district]').isVisible());
  await assertLabelled(page);
  await assertNoSideways(page);
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});

test('a street handler gets neither the menu entry nor the dashboard', async () => {
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'h1');
  const hrefs = await page.locator('[data-testid=staff-menu-links] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(!hrefs.includes('#/dashboard'), `no 数据看板 in ${hrefs}`);
  await page.goto(`${base}/#/dashboard`);
  await page.waitForSelector('[data-testid=forbidden], [data-testid=dash-forbidden]');
  assert.match(await page.textContent('main'), /无权/);
  assert.equal(await page.locator('[data-testid=trend-chart]').count(), 0);
  const tok = await city.token('h1');
  const { status } = await city.api('GET', '/api/v1/analytics/group?by=district', undefined, tok);
  assert.equal(status, 403, 'the API refuses a street handler too');
  await shot(page, 'd08-handler-no-access');
  await context.close();
});

test('a city that loads its own district boundaries gets a map instead of the tile grid', async () => {
  // 16 squares standing in for the districts' shapes, each with the district's code
  const dist = await analytics('group', { by: 'district' });
  const features = dist.rows.map((r, i) => {
    const [x, y] = [116 + (i % 4) * 0.12, 40.4 - Math.floor(i / 4) * 0.12];
    const ring = [[x, y], [x + 0.1, y], [x + 0.1, y - 0.1], [x, y - 0.1], [x, y]];
    return { type: 'Feature', properties: { code: r.keys[0].code, name: r.keys[0].label_zh }, geometry: { type: 'Polygon', coordinates: [ring] } };
  });
  const put = await city.api('PUT', '/api/v1/analytics/geojson', { type: 'FeatureCollection', features }, await city.token('ad1'));
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.districts, 16);
  const { page, context } = await city.newPage({ viewport: DESK });
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await loaded(page);
  await page.waitForSelector('[data-testid=district-map][data-kind=map] svg');
  const top = [...dist.rows].sort((a, b) => (b.per_10k ?? -1) - (a.per_10k ?? -1))[0];
  const mapText = await page.locator('[data-testid=district-map] svg').textContent();
  assert.ok(mapText.includes(top.per_10k.toFixed(1)) && mapText.includes('朝阳'), 'the regions are named with their figure');
  await page.locator('[data-testid=dash-districts]').scrollIntoViewIfNeeded();
  await page.locator('[data-testid=dash-districts]').screenshot({ path: `${shots}/d10-district-boundaries.png` });
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});
