// Sessions and the Content-Security-Policy in a real headless Chromium against the real `jiesu`
// binary (harness.mjs):
//
//   JIESU_BIN=/path/to/jiesu node --test --test-concurrency=1 tests/trust.test.mjs
//
// 退出登录 (desktop and phone) ends the session on the server: the token the page held is refused
// at once. The pages run under the server's Content-Security-Policy (no inline script or <style>)
// without a single violation: the staff overview, the ticket list and the public scorecard with
// its chart and tooltip.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { shot, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({ name: 'trust', months: 1, scale: 0.002, seed: 5, users: [['sup1', 'supervisor']] });
  ({ base } = city);
});

after(async () => {
  await city?.close();
});

/** A page that records every CSP violation (the browser's own event) in `window.__csp`. */
async function watchedPage(opts = {}) {
  const p = await city.newPage(opts);
  await p.page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective}: ${e.blockedURI || 'inline'} ${e.sample || ''}`));
  });
  return p;
}

for (const mobile of [false, true]) {
  const size = mobile ? 'phone' : 'desktop';
  test(`退出登录 on a ${size} ends the session on the server at once`, async () => {
    const { context, page } = await watchedPage({ mobile });
    await city.login(page, 'sup1');
    const token = await page.evaluate(() => localStorage.getItem('jiesu.token'));
    assert.ok(token, 'the page holds a token');
    assert.equal((await city.api('GET', '/api/v1/me', undefined, token)).status, 200);
    if (mobile) await page.click('[data-testid=staff-menu]');
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForSelector('form.login-card');
    assert.equal(await page.evaluate(() => localStorage.getItem('jiesu.token')), null);
    const after = await city.api('GET', '/api/v1/me', undefined, token);
    assert.equal(after.status, 401, 'the old token is refused');
    assert.equal(after.body.code, 'unauthorized');
    await shot(page, `trust-logged-out-${size}`);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    await context.close();
  });
}

test('the staff pages and the public scorecard run under the CSP without a violation', async () => {
  const { context, page } = await watchedPage();
  const res = await page.goto(`${base}/`);
  const csp = res.headers()['content-security-policy'];
  // no inline script or <style> (style attributes only, which ECharts writes)
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /style-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-eval/);
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/tickets`);
  await page.waitForSelector('table, .empty');
  await page.goto(`${base}/#/scores?level=district`);
  await page.waitForSelector('[data-testid=scores-chart] svg, [data-testid=scores-table]');
  const chart = page.locator('[data-testid=scores-chart] svg');
  if (await chart.count()) {
    const box = await chart.first().boundingBox();
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
    await page.waitForTimeout(300);
  }
  await shot(page, 'trust-scores-under-csp');
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  assert.deepEqual(city.pageErrors, []);
  await context.close();
});
