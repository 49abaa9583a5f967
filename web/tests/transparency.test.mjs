// The event log's proofs in a real headless Chromium against the real `jiesu` binary: the public
// transparency page (透明度) shows the signing key and the latest signed checkpoint and verifies
// it in the browser; on the tracking page 「验证时间线」 checks the ticket's inclusion proofs and
// the checkpoint's signature with WebCrypto — before the day's checkpoint it says the records are
// not in one yet, after it 已验证, and a tampered proof 验证失败.
//
//   JIESU_BIN=/path/to/jiesu node --test --test-concurrency=1 tests/transparency.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity, uniqueLeaf } from './harness.mjs';

let city;
let base;
let filed; // { number, code }

before(async () => {
  city = await startCity({ name: 'transparency', months: 1, scale: 0.001, seed: 5 });
  ({ base } = city);
  const leaf = await uniqueLeaf(base);
  const { status, body } = await city.api('POST', '/api/v1/public/tickets', {
    type: 'complaint', category_code: leaf.code, title: '楼道灯坏了', text: '三号楼楼道灯坏了一周，晚上看不清台阶，请尽快修理。',
    district_code: '110105', street_code: '110105001', requester: { name: '李红', phone: '13911113333' },
  });
  assert.equal(status, 201, JSON.stringify(body));
  filed = { number: body.number, code: body.tracking_code };
});

after(async () => {
  assert.deepEqual(city?.pageErrors ?? [], []);
  await city?.close();
});

async function trackAndVerify(page) {
  await page.goto(`${base}/#/track?number=${encodeURIComponent(filed.number)}`);
  await page.fill('input[name=code]', filed.code);
  await page.click('[data-testid=track-form] button[type=submit]');
  await page.waitForSelector('[data-testid=track-result]');
  await page.click('[data-testid=tr-verify-timeline]');
  const verdict = page.locator('[data-testid=tr-timeline-verdict]');
  await verdict.waitFor();
  return verdict;
}

test('phone: before the day’s checkpoint the timeline is not in one yet; after it, verified in the browser', async () => {
  const { page, context } = await city.newPage({ mobile: true });
  let verdict = await trackAndVerify(page);
  assert.equal(await verdict.getAttribute('data-ok'), 'false');
  assert.match(await verdict.innerText(), /验证失败.*尚未进入/s);
  assert.match(await page.locator('[data-testid=tr-pending]').innerText(), /尚未进入检查点/);

  // the day's checkpoint (what the server's daily pass makes), made now from the command line
  const note = city.jiesu(['checkpoint', '--db', city.db]);
  assert.match(note, /\n\n\u2014 \S+ \S+\n$/);

  verdict = await trackAndVerify(page);
  assert.equal(await verdict.getAttribute('data-ok'), 'true', await verdict.innerText());
  assert.match(await verdict.innerText(), /已验证/);
  assert.equal(await page.locator('[data-testid=tr-pending]').count(), 0);
  await assertNoSideways(page);
  await assertLabelled(page);
  await page.locator('[data-testid=tr-verify-timeline]').scrollIntoViewIfNeeded();
  await shot(page, 'tr01-timeline-verified-phone');
  await context.close();
});

test('desktop: a tampered proof or checkpoint fails in the browser', async () => {
  const { page, context } = await city.newPage();
  let verdict = await trackAndVerify(page);
  assert.equal(await verdict.getAttribute('data-ok'), 'true', await verdict.innerText());
  await shot(page, 'tr02-timeline-verified-desktop');

  // the server (or someone between) changes one leaf hash: the inclusion proof no longer holds
  await page.route('**/proof?*', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.events[0].leaf_hash = Buffer.alloc(32, 7).toString('base64');
    await route.fulfill({ response: res, json: body });
  });
  verdict = await trackAndVerify(page);
  assert.equal(await verdict.getAttribute('data-ok'), 'false');
  assert.match(await verdict.innerText(), /验证失败/);
  await page.unroute('**/proof?*');

  // a checkpoint whose tree size was edited: the signature fails
  await page.route('**/proof?*', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    const lines = body.checkpoint.note.split('\n');
    lines[1] = String(Number(lines[1]) + 1);
    body.checkpoint.note = lines.join('\n');
    await route.fulfill({ response: res, json: body });
  });
  verdict = await trackAndVerify(page);
  assert.equal(await verdict.getAttribute('data-ok'), 'false');
  assert.match(await verdict.innerText(), /signature/);
  await shot(page, 'tr03-timeline-tampered-desktop');
  await context.close();
});

test('the transparency page shows the key and the latest checkpoint and verifies it, desktop and phone', async () => {
  const key = (await city.api('GET', '/api/v1/transparency/key')).body;
  const cps = (await city.api('GET', '/api/v1/transparency/checkpoints')).body;
  assert.ok(cps.items.length >= 2, 'the start-up checkpoint and the one made above');
  for (const mobile of [false, true]) {
    const { page, context } = await city.newPage({ mobile });
    await page.goto(`${base}/#/`);
    if (mobile) await page.click('[data-testid=public-menu]');
    await page.click('[data-testid=public-menu-links] a[href="#/transparency"]');
    await page.waitForSelector('[data-testid=transparency]');
    assert.equal((await page.locator('[data-testid=tr-public-key]').innerText()).trim(), key.public_key);
    assert.equal((await page.locator('[data-testid=tr-verifier-key]').innerText()).trim(), key.verifier_key);
    assert.equal((await page.locator('[data-testid=tr-note]').innerText()).trim(), cps.latest.note.trim());
    await page.click('[data-testid=tr-check]');
    const verdict = page.locator('[data-testid=tr-verdict]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-ok'), 'true', await verdict.innerText());
    assert.match(await verdict.innerText(), /已验证.*延续/s);
    await assertNoSideways(page);
    await assertLabelled(page);
    await shot(page, `tr04-transparency-${mobile ? 'phone' : 'desktop'}`);
    await context.close();
  }
});
