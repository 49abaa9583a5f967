// 办理质量审计 (#/audit) in a real headless Chromium against the real `jiesu` binary on a
// generated city of 2 months:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/audit.test.mjs
//
// A supervisor reaches the audit from the supervision page; the page shows the period's results
// and flagged counts and one row per unit as the API answers them; a flagged result is sent back
// to its unit (督办 → 重办) with a note, and the ticket's log records the reopen with the flags in
// the reason; English on the language switch; a dispatcher has neither the link nor the page; on
// a 390×844 phone the page does not scroll sideways. Screenshots a01…a02 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({
    name: 'audit',
    months: 2,
    scale: 0.002,
    seed: 5,
    users: [
      ['sup1', 'supervisor'],
      ['disp1', 'dispatcher'],
    ],
  });
  ({ base } = city);
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

test('a supervisor sees the rates per unit and sends a flagged result back to its unit', async () => {
  const sup = await city.token('sup1');
  // the page lists what the nightly pass stored: a new server's first pass audits the last 7
  // days (in the background; a debug build takes a while)
  const t0 = Date.now();
  let api = await city.api('GET', '/api/v1/audit/replies', undefined, sup);
  while (api.status === 200 && api.body.audited_days === 0 && Date.now() - t0 < 240_000) {
    await new Promise((r) => setTimeout(r, 1000));
    api = await city.api('GET', '/api/v1/audit/replies', undefined, sup);
  }
  console.log(`stored audit of ${api.body.results} results: ${Date.now() - t0} ms`);
  assert.equal(api.status, 200, JSON.stringify(api.body));
  assert.ok(api.body.results > 0, 'the generated month has results');
  const { context, page } = await city.newPage();
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/supervision`);
  await page.click('[data-testid=sup-audit-link]');
  await page.waitForSelector('[data-testid=au-summary]', { timeout: 120_000 });
  assert.match(await page.locator('[data-testid=au-summary]').innerText(), new RegExp(`办理结果 ${api.body.results} 件，存在问题 ${api.body.flagged} 件`));
  assert.equal(await page.locator('[data-testid=au-unit]').count(), api.body.units.length);
  const top = api.body.units[0];
  assert.equal(await page.locator('[data-testid=au-unit]').first().getAttribute('data-unit'), top.unit);
  assert.equal(await page.locator('[data-testid=au-unit]').first().locator('[data-testid=au-rate]').innerText(), `${(top.flagged_rate * 100).toFixed(1)}%`);
  await assertLabelled(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: 'tests/screenshots/a01-audit.png', timeout: 60_000 });

  const target = api.body.items.find((i) => i.can_supervise);
  assert.ok(target, 'some flagged result may be sent back');
  const row = page.locator(`[data-testid=au-item][data-ticket="${target.ticket}"]`);
  await row.locator('[data-testid=au-supervise]').click();
  await row.locator('[data-testid=au-note]').fill('答复未回应诉求，请重新核实处理');
  await row.locator('[data-testid=au-submit]').click();
  await page.waitForSelector('.toast');
  const events = await city.api('GET', `/api/v1/tickets/${target.ticket}/events`, undefined, sup);
  const reopened = events.body.filter((e) => e.kind === 'reopened');
  assert.equal(reopened.length, 1, JSON.stringify(events.body.map((e) => e.kind)));
  assert.match(reopened[0].reason, /^办理质量督办（.+）：答复未回应诉求，请重新核实处理$/);
  // the same, in English
  await page.click('[data-testid=lang-toggle]');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Reply-quality audit');
  await context.close();

  const phone = await city.newPage({ mobile: true });
  await city.login(phone.page, 'sup1');
  await phone.page.goto(`${base}/#/audit`);
  await phone.page.waitForSelector('[data-testid=au-units]', { timeout: 120_000 });
  await assertNoSideways(phone.page);
  // the viewport only: a full page of 200 flagged results as cards is very tall
  await phone.page.screenshot({ path: 'tests/screenshots/a02-audit-phone.png', timeout: 60_000 });
  await phone.context.close();
});

test('a dispatcher has no audit', async () => {
  const { context, page } = await city.newPage();
  await city.login(page, 'disp1');
  await page.goto(`${base}/#/supervision`);
  await page.waitForSelector('main nav.tabs');
  assert.equal(await page.locator('[data-testid=sup-audit-link]').count(), 0);
  await page.goto(`${base}/#/audit`);
  await page.waitForSelector('main');
  assert.equal(await page.locator('[data-testid=au-units]').count(), 0);
  await context.close();
  const disp = await city.token('disp1');
  assert.equal((await city.api('GET', '/api/v1/audit/replies', undefined, disp)).status, 403);
});
