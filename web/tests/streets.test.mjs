// 治理类街乡镇 (#/streets) in a real headless Chromium against the real `jiesu` binary on a
// generated city of 3 months:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/streets.test.mjs
//
// A supervisor reaches 治理类街乡镇 from the dashboard's 主动治理 links; the last month's table lists every street once by
// volume rank with its class, matching the API; the 治理 tab shows only listed streets and the
// summary counts them; changing the month lands in the URL. A district's unit manager sees only
// their district's streets; a street handler has neither the menu entry nor the table. On a
// 390×844 phone the page does not scroll sideways. A listed or pre-warned street's row opens its
// file (工作台账): standing, pre-warnings, monitoring by day / week / month; the district's manager
// files an interview (约谈) and keeps the project list there, each change recorded; the street's
// own handler has no file. Screenshots s01…s03, s05…s07 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, sleep, startCity } from './harness.mjs';

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

test('工作台账: a flagged street opens its file; the district files an interview and keeps the project list', async () => {
  const sup = await city.token('sup1');
  const api = await city.api('GET', `/api/v1/governance/streets/${period}`, undefined, sup);
  const flagged = api.body.streets.filter((s) => s.listed || s.tracked_until || s.pre_warning);
  assert.ok(flagged.length > 0, 'a busy month flags some street');
  // the pre-warning pass runs beside the scheduler at start-up: up to 150 tries (a count)
  let warned = [];
  for (let tries = 0; tries < 150; tries++) {
    const a = await city.api('GET', '/api/v1/alerts?page_size=200', undefined, sup);
    warned = a.body.items.filter((x) => x.level === 'pre_warning');
    if (warned.length === api.body.pre_warnings) break;
    await sleep(200);
  }
  assert.equal(warned.length, api.body.pre_warnings, 'one pre-warning alert per pre-warned street');
  const { context, page } = await city.newPage();
  await city.login(page, 'sup1');
  if (warned.length > 0) {
    await page.goto(`${base}/#/alerts`);
    await page.waitForSelector(`[data-testid=alert-row][data-level=pre_warning]`);
    assert.match(await page.locator('[data-testid=alert-row][data-level=pre_warning] [data-testid=alert-figures]').first().innerText(), /诉求量 \d+，全市第 \d+ 位/);
  }
  await page.goto(`${base}/#/streets?period=${period}`);
  await page.waitForSelector('[data-testid=st-table]');
  const target = flagged[0];
  await page.locator(`[data-testid=st-row][data-code="${target.code}"] [data-testid=st-file]`).click();
  await page.waitForSelector('[data-testid=sw-standing]');
  assert.match(await page.locator('[data-testid=sw-standing]').innerText(), new RegExp(target.name));
  assert.equal(await page.locator('[data-testid=sw-class]').getAttribute('data-class'), target.class);
  assert.equal(await page.locator('[data-testid=sw-monitor-month] [data-testid=sw-point]').count(), 13);
  await page.click('[data-testid=sw-grain-day]');
  assert.equal(await page.locator('[data-testid=sw-monitor-day] [data-testid=sw-point]').count(), 30);
  await assertLabelled(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: 'tests/screenshots/s05-street-file.png', fullPage: true });
  await context.close();

  // the district's manager: files an interview and adds and updates a project for one of its streets
  const street = '110105001';
  const cy = await city.newPage();
  await city.login(cy.page, 'cy');
  await cy.page.goto(`${base}/#/streets/work/${street}`);
  await cy.page.waitForSelector('[data-testid=sw-interview-form]', { state: 'attached' });
  await cy.page.locator('details.sw-form summary').first().click();
  await cy.page.fill('[data-testid=sw-held-on]', '2026-01-05');
  await cy.page.fill('[data-testid=sw-attendees]', '区委副书记、街道工委书记');
  await cy.page.fill('[data-testid=sw-findings]', '物业管理类诉求集中，限期提出整改方案');
  await cy.page.click('[data-testid=sw-file-interview]');
  await cy.page.waitForSelector('[data-testid=sw-interview]');
  assert.match(await cy.page.locator('[data-testid=sw-interview]').innerText(), /区委副书记、街道工委书记/);
  await cy.page.locator('[data-testid=sw-projects] details.sw-form summary').click();
  await cy.page.fill('[data-testid=sw-project-title]', '老旧小区物业接管');
  await cy.page.fill('[data-testid=sw-project-owner]', '街道城管办');
  await cy.page.fill('[data-testid=sw-project-due]', '2099-12-31');
  await cy.page.click('[data-testid=sw-add-project-submit]');
  await cy.page.waitForSelector('[data-testid=sw-projects] [data-testid=sw-item][data-status=open]');
  await cy.page.click('[data-testid=sw-projects] [data-testid=sw-edit]');
  await cy.page.selectOption('[data-testid=sw-edit-status]', 'done');
  await cy.page.fill('[data-testid=sw-edit-progress]', '3 个小区已接管');
  await cy.page.click('[data-testid=sw-save]');
  await cy.page.waitForSelector('[data-testid=sw-projects] [data-testid=sw-item][data-status=done]');
  assert.match(await cy.page.locator('[data-testid=sw-project-progress]').innerText(), /已完成 1\/1/);
  assert.equal(await cy.page.locator('[data-testid=sw-changes] li').count(), 3);
  await cy.page.setViewportSize({ width: 1280, height: 900 });
  await cy.page.screenshot({ path: 'tests/screenshots/s06-street-file-kept.png', fullPage: true });
  // the same, in English
  await cy.page.click('[data-testid=lang-toggle]');
  await cy.page.waitForFunction(() => document.querySelector('[data-testid=sw-projects] h2')?.textContent === 'Project list');
  await cy.context.close();
  const cyToken = await city.token('cy');
  const file = await city.api('GET', `/api/v1/governance/street-work/${street}`, undefined, cyToken);
  assert.deepEqual(
    file.body.changes.map((c) => c.action),
    ['updated', 'created', 'filed'],
  );
  assert.equal(file.body.projects[0].status, 'done');

  const phone = await city.newPage({ mobile: true });
  await city.login(phone.page, 'cy');
  await phone.page.goto(`${base}/#/streets/work/${street}`);
  await phone.page.waitForSelector('[data-testid=sw-standing]');
  await assertNoSideways(phone.page);
  await shot(phone.page, 's07-street-file-phone');
  await phone.context.close();

  // the street's handler has no file
  const h1 = await city.token('h1');
  const denied = await city.api('GET', `/api/v1/governance/street-work/${street}`, undefined, h1);
  assert.equal(denied.status, 403);
});
