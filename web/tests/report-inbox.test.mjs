// 报告收件箱 (#/reports) in a real headless Chromium against the real `jiesu` binary on a generated
// city of 1 month:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/report-inbox.test.mjs
//
// A leader (a supervisor) who subscribes to the daily bulletin gets a new one in their report
// inbox: the 报告 link in the navigation carries the server's unread count; the inbox lists the
// report unread; opening it (its printable HTML, in a new tab) marks it read and the badge drops,
// down to none. Another leader's count is their own, and "全部标为已读" clears it. A unit manager
// (who has the unit inbox too) reaches the reports as the inbox's second tab. At 390×844 the page
// does not scroll sideways. Screenshots ri01…ri04.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, PHONE, shot, sleep, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({
    name: 'reportinbox',
    months: 1,
    scale: 0.002,
    seed: 7,
    users: [
      ['lead1', 'supervisor'],
      ['lead2', 'supervisor'],
      ['mgr1', 'unit_manager', '110105'],
    ],
  });
  ({ base } = city);
  // the scheduler's first pass (at start-up) makes the last complete day's, week's and month's
  // reports, the monthly last; wait for it, so that it does not make a report again under a test
  const tok = await city.token('lead1');
  for (let tries = 0; ; tries++) {
    const r = await city.api('GET', '/api/v1/analytics/reports?kind=monthly', undefined, tok);
    if (r.status === 200 && r.body.total > 0) break;
    assert.ok(tries < 300, `the scheduler made no monthly report: ${JSON.stringify(r.body)}`);
    await sleep(200);
  }
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

async function subscribe(tok, kind) {
  const r = await city.api('PUT', '/api/v1/analytics/reports/subscriptions', { subscriptions: [{ kind }] }, tok);
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function unread(tok) {
  const r = await city.api('GET', '/api/v1/inbox/reports/unread', undefined, tok);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.unread;
}

/** The number on the 报告 link (0 when it has no badge). */
async function badge(page) {
  const b = page.locator('nav a[href="#/reports"] [data-testid=reports-badge]');
  return (await b.count()) ? Number(await b.innerText()) : 0;
}

test('a leader sees the unread badge, opens the new report from the inbox, and the badge clears', async () => {
  const [lead1, lead2] = [await city.token('lead1'), await city.token('lead2')];
  await subscribe(lead1, 'daily');
  await subscribe(lead2, 'daily');
  // a new daily bulletin (the last complete day), made now: in both leaders' inboxes, unread
  const made = await city.api('POST', '/api/v1/analytics/reports', { kind: 'daily' }, lead1);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;
  const n = await unread(lead1);
  assert.ok(n >= 1, `lead1 has ${n} unread`);
  assert.equal(await unread(lead2), n, 'the same reports reached both');

  const { context, page } = await city.newPage();
  await city.login(page, 'lead1');
  await page.waitForSelector('nav a[href="#/reports"] [data-testid=reports-badge]');
  assert.equal(await badge(page), n, 'the badge is the server count');
  await page.click('nav a[href="#/reports"]');
  await page.waitForSelector('[data-testid=ri-list]');
  const item = page.locator(`[data-testid=ri-list] li[data-report="${id}"]`);
  assert.equal(await item.getAttribute('data-unread'), 'true');
  assert.equal(await item.locator('[data-testid=ri-unread]').count(), 1, 'marked unread');
  assert.equal(await page.locator('[data-testid=ri-list] li[data-unread=true]').count(), n);
  assert.match(await page.locator('[data-testid=ri-status]').innerText(), new RegExp(`${n} 份未读`));
  await assertLabelled(page);
  await shot(page, 'ri01-report-inbox-unread');

  // open each unread report (the new one first): a new tab with the bulletin; the badge drops by one
  let left = n;
  for (const target of [item, ...Array.from({ length: n - 1 }, () => page.locator('[data-testid=ri-list] li[data-unread=true]').first())]) {
    const title = await target.locator('[data-testid=ri-open]').innerText();
    const [tab] = await Promise.all([context.waitForEvent('page'), target.locator('[data-testid=ri-open]').click()]);
    await tab.waitForFunction((t) => document.body && document.body.innerText.includes(t), title);
    await tab.close();
    left -= 1;
    await page.waitForFunction((want) => {
      const b = document.querySelector('nav a[href="#/reports"] [data-testid=reports-badge]');
      return (b ? Number(b.textContent) : 0) === want;
    }, left);
  }
  assert.equal(await item.getAttribute('data-unread'), 'false', 'opened: read');
  assert.equal(await item.locator('[data-testid=ri-unread]').count(), 0);
  assert.match(await item.innerText(), /已读于/);
  assert.equal(await badge(page), 0, 'the badge cleared');
  assert.equal(await unread(lead1), 0, 'read on the server');
  assert.equal(await unread(lead2), n, "lead2's reports stay unread");
  await shot(page, 'ri02-report-inbox-read');

  // after a reload the state is the server's: no badge, nothing unread
  await page.reload();
  await page.waitForSelector('[data-testid=ri-list]');
  assert.equal(await page.locator('[data-testid=ri-list] li[data-unread=true]').count(), 0);
  assert.equal(await badge(page), 0);
  await context.close();
});

test('mark all read clears another leader’s badge; at phone width nothing scrolls sideways', async () => {
  const lead2 = await city.token('lead2');
  const n = await unread(lead2);
  assert.ok(n >= 1, `lead2 has ${n} unread`);
  const { context, page } = await city.newPage({ mobile: true });
  await city.login(page, 'lead2');
  await page.goto(`${base}/#/reports`);
  await page.waitForSelector('[data-testid=ri-list]');
  assert.equal(await page.locator('[data-testid=ri-list] li[data-unread=true]').count(), n);
  await assertNoSideways(page);
  await shot(page, 'ri03-report-inbox-phone');
  // the phone menu shows the count on its 报告 link
  await page.click('[data-testid=staff-menu]');
  assert.equal(await badge(page), n);
  await page.keyboard.press('Escape');
  await page.click('[data-testid=ri-mark-all]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=ri-list] li[data-unread=true]'));
  assert.equal(await badge(page), 0);
  assert.equal(await unread(lead2), 0);
  assert.ok(await page.locator('[data-testid=ri-mark-all]').isDisabled(), 'nothing left to mark');
  assert.equal(page.viewportSize().width, PHONE.width);
  await context.close();
});

test('a unit manager reaches the reports as the second tab of the inbox', async () => {
  const { context, page } = await city.newPage();
  await city.login(page, 'mgr1');
  await page.goto(`${base}/#/inbox`);
  await page.waitForSelector('[data-testid=inbox-tab-reports]');
  await page.click('[data-testid=inbox-tab-reports]');
  // mgr1 subscribes to nothing: the page says so and points at the dashboard's switches
  await page.waitForSelector('[data-testid=ri-not-subscribed]');
  assert.equal(await page.locator('[data-testid=inbox-tab-reports]').getAttribute('aria-current'), 'page');
  await shot(page, 'ri04-unit-manager-reports-tab');
  await context.close();
});
