// 治理类街乡镇 (#/streets) in a real headless Chromium against the real `jiesu` binary on a
// generated city of 3 months:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/streets.test.mjs
//
// A supervisor reaches 治理类街乡镇 from the dashboard's 主动治理 links; the last month's table lists every street once by
// volume rank with its class, matching the API; the 治理 tab shows only listed streets and the
// summary counts them; changing the month lands in the URL. A district's unit manager sees only
// their district's streets; a street handler has neither the menu entry nor the table. On a
// 390×844 phone the page does not scroll sideways. Screenshots s01…s03 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

let city;
let base;
let period;

before(async () => {
  city = await startCity({
    name: 'streets',
    months: 3,
    scale: 0.006,
    seed: 3,
    users: [
      ['sup1', 'supervisor'],
      ['cy', 'unit_manager', '110105'],
      ['h1', 'unit_handler', '110105001'],
    ],
  });
  ({ base } = city);
  const d = new Date(Date.now() - 31 * 86_400_000);
  period = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' }).format(d).slice(0, 7);
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

test('a supervisor sees every street classed, filters the list and changes the month', async () => {
  const sup = await city.token('sup1');
  const api = await city.api('GET', `/api/v1/governance/streets/${period}`, undefined, sup);
  assert.equal(api.status, 200, JSON.stringify(api.body));
  const { context, page } = await city.newPage();
  await city.login(page, 'sup1');
  // reached from the dashboard's 主动治理 links (the top menu must fit a 1366 px screen)
  await page.goto(`${base}/#/dashboard`);
  await page.locator('[data-testid=dash-governance] a[href="#/streets"]').click();
  await page.waitForSelector('[data-testid=st-table], [data-testid=st-empty]');
  await page.goto(`${base}/#/streets?period=${period}`);
  await page.waitForSelector('[data-testid=st-table]');
  const rows = page.locator('[data-testid=st-row]');
  assert.equal(await rows.count(), api.body.streets.length);
  const first = api.body.streets[0];
  const firstRow = page.locator(`[data-testid=st-row][data-code="${first.code}"]`);
  assert.equal(await firstRow.getAttribute('data-class'), first.class);
  assert.match(await firstRow.innerText(), new RegExp(first.name));
  assert.match(await page.locator('[data-testid=st-summary]').innerText(), new RegExp(`治理类 ${api.body.listed} 个`));
  await assertLabelled(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: 'tests/screenshots/s01-streets.png' });

  await page.click('[data-testid=st-tab-advanced]');
  await page.waitForFunction(() => location.hash.includes('class=advanced'));
  await page.waitForSelector('[data-testid=st-row][data-class=advanced]');
  await shot(page, 's02-streets-advanced');
  await page.click('[data-testid=st-tab-govern]');
  await page.waitForFunction(() => location.hash.includes('class=govern'));
  await page.waitForSelector('[data-testid=st-table]');
  await page.waitForSelector('[data-testid=st-row], [data-testid=st-empty]');
  const classes = await page.locator('[data-testid=st-row]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-class')));
  assert.equal(classes.length, api.body.listed);
  assert.ok(classes.every((c) => c === 'govern'));
  // ranked streets: the best tenth are 先进, the worst tenth 整改 (or on the list)
  assert.ok(api.body.streets.some((s) => s.class === 'advanced'), 'some street is 先进');
  assert.ok(api.body.streets.some((s) => s.class === 'rectify' || s.class === 'govern'), 'some street is 整改 or 治理');
  await shot(page, 's02b-streets-govern');

  await page.fill('[data-testid=st-period]', '2020-01');
  await page.dispatchEvent('[data-testid=st-period]', 'change');
  await page.waitForFunction(() => location.hash.includes('period=2020-01'));
  await context.close();
});

test('a district sees its streets, a handler has no page, the phone fits', async () => {
  const cy = await city.newPage({ mobile: true });
  await city.login(cy.page, 'cy');
  await cy.page.goto(`${base}/#/streets?period=${period}`);
  await cy.page.waitForSelector('[data-testid=st-table]');
  const codes = await cy.page.locator('[data-testid=st-row]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-code')));
  assert.ok(codes.length > 0 && codes.every((c) => c.startsWith('110105')), codes.join(','));
  await assertNoSideways(cy.page);
  await shot(cy.page, 's03-streets-phone');
  await cy.context.close();

  const h1 = await city.newPage();
  await city.login(h1.page, 'h1');
  assert.equal(await h1.page.locator('a[href="#/streets"]').count(), 0);
  await h1.page.goto(`${base}/#/streets`);
  await h1.page.waitForSelector('main');
  assert.equal(await h1.page.locator('[data-testid=st-table]').count(), 0);
  await h1.context.close();
});

test('季节性预判: next month per district and category with its range and backtest', async () => {
  const sup = await city.token('sup1');
  const api = await city.api('GET', '/api/v1/governance/foresight', undefined, sup);
  assert.equal(api.status, 200, JSON.stringify(api.body));
  const { context, page } = await city.newPage();
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await page.locator('[data-testid=dash-governance] a[href="#/foresight"]').click();
  await page.waitForSelector('[data-testid=fs-table], [data-testid=fs-empty]');
  await page.goto(`${base}/#/foresight`);
  await page.waitForSelector('[data-testid=fs-table]');
  assert.equal(await page.locator('[data-testid=fs-row]').count(), Math.min(200, api.body.cells.length));
  const first = api.body.cells[0];
  assert.match(await page.locator('[data-testid=fs-row]').first().innerText(), new RegExp(first.district_name));
  assert.match(await page.locator('[data-testid=fs-basis]').innerText(), new RegExp(api.body.month));
  await assertLabelled(page);
  await page.screenshot({ path: 'tests/screenshots/s04-foresight.png' });
  await page.selectOption('[data-testid=fs-district]', '110105');
  await page.waitForFunction(() => location.hash.includes('district=110105'));
  await page.waitForSelector('[data-testid=fs-row]');
  const ds = await page.locator('[data-testid=fs-row]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-district')));
  assert.ok(ds.length > 0 && ds.every((d) => d === '110105'), ds.join(','));
  await context.close();
});
