// Tracking that cannot be tried out, on a phone, in a real headless Chromium against the real
// `jiesu` binary: the submit page's confirmation shows the request's random tracking code (查询码),
// the tracking page asks for it, a wrong code says so in plain words, and after too many wrong codes
// the page says to wait (the server's 429) instead of "not found".
//
//   JIESU_BIN=/path/to/jiesu node --test --test-concurrency=1 tests/trust-public.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, fillPublicRequest, shot, startCity, uniqueLeaf } from './harness.mjs';

const STREET = '110105001';
const DISTRICT = '110105';

let city;
let base;
let filed; // { number, code }

before(async () => {
  city = await startCity({ name: 'trust-public', months: 1, scale: 0.001, seed: 3 });
  ({ base } = city);
});

after(async () => {
  await city?.close();
});

async function track(page, number, code) {
  await page.fill('input[name=number]', number);
  await page.fill('input[name=code]', code);
  await page.click('[data-testid=track-form] button[type=submit]');
}

test('phone: the confirmation shows the tracking code and tracking with it shows the request', async () => {
  const leaf = await uniqueLeaf(base);
  const { page, context } = await city.newPage({ mobile: true });
  await page.goto(`${base}/#/submit`);
  await fillPublicRequest(page, {
    leaf, district: DISTRICT, street: STREET, title: '小区门口路灯不亮',
    text: '小区门口路灯连续三晚不亮，夜里出行不便，请尽快维修。', name: '周敏', phone: '13911112222',
  });
  await page.click('[data-testid=public-submit]');
  await page.waitForSelector('[data-testid=submit-done]');
  const number = (await page.locator('[data-testid=public-number]').innerText()).trim();
  const code = (await page.locator('[data-testid=public-code]').innerText()).trim();
  assert.match(code, /^[2-9A-HJKMNP-Z]{10}$/, `a tracking code is shown (${code})`);
  assert.match(await page.locator('[data-testid=submit-done]').innerText(), /查询码/);
  await assertNoSideways(page);
  await shot(page, 'tp01-submit-code-phone');
  filed = { number, code };

  // "track it" carries the number and the code to the tracking page
  await page.click('[data-testid=submit-done] .btn.primary');
  const result = page.locator('[data-testid=track-result]');
  await result.waitFor();
  assert.ok((await result.innerText()).includes(number));
  assert.ok(!page.url().includes(code), 'the code is not put in the address bar');
  await context.close();
});

test('phone: a wrong code says so, the right one (typed in lower case) shows the timeline', async () => {
  assert.ok(filed, 'needs the filed request');
  const { page, context } = await city.newPage({ mobile: true });
  await page.goto(`${base}/#/track`);
  await page.waitForSelector('[data-testid=track-form]');
  await assertLabelled(page);
  await track(page, filed.number, filed.code === '2222222222' ? '3333333333' : '2222222222');
  const err = page.locator('[data-testid=track-form] .form-error');
  await page.waitForFunction(() => /查询码/.test(document.querySelector('[data-testid=track-form] .form-error')?.textContent ?? ''));
  assert.match(await err.innerText(), /核对编号和查询码/);
  assert.equal(await page.locator('[data-testid=track-result]').count(), 0);
  await assertNoSideways(page);
  await shot(page, 'tp02-track-wrong-code-phone');

  await track(page, filed.number, filed.code.toLowerCase());
  const result = page.locator('[data-testid=track-result]');
  await result.waitFor();
  assert.ok((await result.innerText()).includes('小区门口路灯不亮'));
  assert.ok(!(await page.content()).includes('13911112222'), 'no phone number on the tracking page');
  await shot(page, 'tp03-track-found-phone');
  await context.close();
});

test('desktop: after too many wrong codes the page says to wait, not "not found"', async () => {
  assert.ok(filed, 'needs the filed request');
  const { page, context } = await city.newPage();
  await page.goto(`${base}/#/track`);
  await page.waitForSelector('[data-testid=track-form]');
  // the server counts failed look-ups per number (5 an hour by default); one was made above
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${base}/api/v1/track/${encodeURIComponent(filed.number)}?code=ZZZZZZZZZZ`);
    assert.equal(res.status, 404);
  }
  await track(page, filed.number, filed.code);
  await page.waitForFunction(() => /分钟后再试/.test(document.querySelector('[data-testid=track-form] .form-error')?.textContent ?? ''));
  assert.match(await page.locator('[data-testid=track-form] .form-error').innerText(), /查询失败次数过多/);
  await shot(page, 'tp04-track-limited-desktop');
  await context.close();
});
