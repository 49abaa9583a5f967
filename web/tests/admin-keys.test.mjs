// 接口与导出 (#/admin) in a real headless Chromium against the real `jiesu` binary on a small
// generated city:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/admin-keys.test.mjs
//
// The admin reaches the page from the menu (Chinese by default), adds an Open311 partner (its key
// shown once) and revokes it, creates a district's department key (shown once), which then reads
// the API, and sees its use and audited reads; an unknown unit is refused at the field; subscribes
// a webhook; saves an export, runs it and downloads the file. English is one click away. On a
// 390×844 phone the page does not scroll sideways. A unit manager sees only the saved exports
// and their own unit's webhooks, and subscribes one.
// Screenshots a01…a04 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({
    name: 'admin-keys',
    months: 1,
    scale: 0.002,
    seed: 5,
    users: [
      ['admin1', 'admin'],
      ['cy', 'unit_manager', '110105'],
    ],
  });
  ({ base } = city);
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

test('the admin manages partners, department keys, webhooks and saved exports', async () => {
  const { context, page } = await city.newPage();
  page.on('dialog', (d) => d.accept());
  await city.login(page, 'admin1');
  await page.locator('a[href="#/admin"]').first().click();
  await page.waitForSelector('[data-testid=adm-keys] form');
  assert.equal(await page.locator('h1').first().innerText(), '接口与导出');
  await assertLabelled(page);

  // a partner: its key shown once, then revoked
  await page.fill('[data-testid=adm-partner-name]', '朝阳区政务微信');
  await page.click('[data-testid=adm-partner-add]');
  const pkey = await page.locator('[data-testid=adm-partner-key-value]').innerText();
  assert.match(pkey, /^o311_[0-9a-f]{64}$/);
  const prow = page.locator('[data-testid=adm-partner-row]', { hasText: '朝阳区政务微信' });
  await prow.locator('[data-testid=adm-partner-revoke]').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=adm-partner-row]')].some((r) => r.textContent.includes('已吊销')));

  // a department key: an unknown unit is refused at its field
  await page.fill('[data-testid=adm-key-name]', '朝阳区数据接口');
  await page.fill('[data-testid=adm-key-unit]', '999999');
  await page.click('[data-testid=adm-key-add]');
  await page.waitForSelector('[data-field=unit_code] .field-error:not(:empty)');
  assert.match(await page.locator('[data-field=unit_code] .field-error').first().innerText(), /不存在/);
  await page.fill('[data-testid=adm-key-unit]', '110105');
  await page.selectOption('[data-testid=adm-keys] select[name=role]', 'unit_manager');
  await page.click('[data-testid=adm-key-add]');
  const key = await page.locator('[data-testid=adm-new-key-value]').innerText();
  assert.match(key, /^jdk_[0-9a-f]{64}$/);
  // the key reads its district's tickets; the admin sees the use and the read
  const r = await fetch(`${base}/api/v1/tickets?page_size=5`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(r.status, 200);
  await page.reload();
  await page.waitForSelector('[data-testid=adm-key-row]');
  const krow = page.locator('[data-testid=adm-key-row]', { hasText: '朝阳区数据接口' });
  assert.equal(await krow.locator('[data-testid=adm-key-uses]').innerText(), '1');
  assert.equal(await page.locator('[data-testid=adm-new-key-value]').count(), 0, 'a key is never shown again');
  await krow.locator('[data-testid=adm-key-show-reads]').click();
  await page.waitForSelector('[data-testid=adm-read]');
  assert.match(await page.locator('[data-testid=adm-read]').first().innerText(), /GET \/api\/v1\/tickets\?page_size=5/);

  // a webhook subscription: its secret shown once
  await page.fill('[data-testid=adm-hook-unit]', '110105');
  await page.fill('[data-testid=adm-hook-url]', 'http://127.0.0.1:9/hook');
  await page.click('[data-testid=adm-hook-add]');
  assert.match(await page.locator('[data-testid=adm-new-secret-value]').innerText(), /^[0-9a-f]{64}$/);
  await page.waitForSelector('[data-testid=adm-hook-row]');

  // a saved export: run now, then download its file
  await page.fill('[data-testid=adm-exp-name]', '朝阳区月度明细');
  await page.fill('[data-testid=adm-exp-unit]', '110105');
  await page.click('[data-testid=adm-exp-add]');
  const erow = page.locator('[data-testid=adm-exp-row]', { hasText: '朝阳区月度明细' });
  await erow.waitFor();
  await erow.locator('[data-testid=adm-exp-run]').click();
  await page.waitForSelector('[data-testid=adm-exp-file]');
  await page.setViewportSize({ width: 1366, height: 900 });
  await shot(page, 'a01-admin-desktop');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=adm-exp-file]').first().click()]);
  assert.match(download.suggestedFilename(), /^朝阳区月度明细-now-.*\.csv$/, `the file's name (download from ${download.url()})`);
  const file = await download.path();
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync(file, 'utf8').split('\n')[0], /^ticket_id,created_date,category,status$/);

  // English
  await page.click('[data-testid=lang-toggle]');
  await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'APIs and exports');
  await shot(page, 'a02-admin-en');
  await page.click('[data-testid=lang-toggle]');
  await context.close();

  // on a phone: nothing wider than the screen
  const phone = await city.newPage({ mobile: true });
  await city.login(phone.page, 'admin1');
  await phone.page.goto(`${base}/#/admin`);
  await phone.page.waitForSelector('[data-testid=adm-exp-row]');
  await assertNoSideways(phone.page);
  await shot(phone.page, 'a03-admin-phone');
  await phone.context.close();
});

test('a unit manager sees only the saved exports and webhooks of their unit', async () => {
  const { context, page } = await city.newPage({ mobile: true });
  await city.login(page, 'cy');
  await page.goto(`${base}/#/admin`);
  await page.waitForSelector('[data-testid=adm-exports]');
  assert.equal(await page.locator('[data-testid=adm-keys]').count(), 0);
  assert.equal(await page.locator('[data-testid=adm-partners]').count(), 0);
  const rows = page.locator('[data-testid=adm-exp-row]');
  await rows.first().waitFor();
  assert.match(await rows.first().innerText(), /朝阳区月度明细/);
  // their own unit's webhooks (dept-webhooks): the unit prefilled, the secret shown once
  await page.waitForSelector('[data-testid=adm-own-hooks]');
  assert.equal(await page.locator('[data-testid=adm-own-hooks] [data-testid=adm-hook-unit]').inputValue(), '110105');
  await page.fill('[data-testid=adm-own-hooks] [data-testid=adm-hook-url]', 'http://127.0.0.1:9/chaoyang');
  await page.click('[data-testid=adm-own-hooks] [data-testid=adm-hook-add]');
  assert.match(await page.locator('[data-testid=adm-new-secret-value]').innerText(), /^[0-9a-f]{64}$/);
  const own = page.locator('[data-testid=adm-own-hooks] [data-testid=adm-hook-row]');
  await own.first().waitFor();
  // listed with the admin's subscription of their district (made above), no other unit's
  const ownRows = await own.allInnerTexts();
  assert.ok(ownRows.some((r) => r.includes('http://127.0.0.1:9/chaoyang')), ownRows.join(' | '));
  assert.ok(ownRows.every((r) => r.includes('110105')), ownRows.join(' | '));
  await assertNoSideways(page);
  await shot(page, 'a04-admin-unit-manager-phone');
  await context.close();
});
