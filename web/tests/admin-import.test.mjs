// 历史数据导入 (#/admin, capability `legacy-import`) in a real headless Chromium against the real
// `jiesu` binary on a small generated city:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/admin-import.test.mjs
//
// The admin chooses a small CSV export (GBK, as Chinese offices write them) and its mapping file,
// runs it dry (the report: rows mapped fully / partly, the value no table maps; nothing written),
// imports it (2 tickets, then readable through the API), and a file with a date in another format
// is shown as its line-numbered problem. A unit manager sees no import section. On a 390×844
// phone the page does not scroll sideways. Screenshots i01…i03 go to tests/screenshots/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({
    name: 'admin-import',
    months: 1,
    scale: 0.002,
    seed: 7,
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

const MAPPING = `
source = "browser-test-hotline"
key = "编号"
[time]
format = "%Y-%m-%d %H:%M"
zone = "Asia/Shanghai"
created = "受理时间"
closed = "办结时间"
[text]
title = "{类别}：{内容}"
text = "{内容}"
result = "{办理结果}"
request_type = "complaint"
requester_name = "{姓名}"
requester_phone = "{电话}"
[status]
column = "状态"
default = "dispatched"
values = { "已办结" = "finished" }
[category]
column = "类别"
default = "0705"
values = { "噪音" = "1301" }
[unit]
column = "部门"
values = { "环保局" = "CD010", "交通委" = "CD013" }
[place]
default = { district = "110105", street = "110105001" }
[channel]
default = "phone"
[position]
latitude = "纬度"
longitude = "经度"
`;

const CSV =
  '编号,受理时间,办结时间,状态,类别,内容,办理结果,姓名,电话,部门,纬度,经度\n' +
  'W1,2024-05-01 08:00,2024-05-01 17:30,已办结,噪音,夜间施工噪音扰民,已责令停工整改,王先生,13812345678,环保局,39.9219,116.4436\n' +
  'W2,2024-05-02 09:15,,处理中,停车,小区门口乱停车,,李女士,010-65123456,交通委,,\n';

/** GBK bytes of the text, encoded by the browser-independent table the server decodes with. */
async function gbk(text) {
  // Node has no GBK encoder; the server's own CLI is not needed: GBK of CJK text round-trips
  // through TextDecoder('gbk') on the encoded bytes we build from the decoder's table.
  const dec = new TextDecoder('gbk');
  const table = new Map();
  for (let hi = 0x81; hi <= 0xfe; hi++)
    for (let lo = 0x40; lo <= 0xfe; lo++) {
      if (lo === 0x7f) continue;
      const ch = dec.decode(new Uint8Array([hi, lo]));
      if (ch.length === 1 && ch !== '\ufffd' && !table.has(ch)) table.set(ch, [hi, lo]);
    }
  const out = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else {
      const b = table.get(ch);
      assert.ok(b, `no GBK code for ${ch}`);
      out.push(...b);
    }
  }
  return Buffer.from(out);
}

test('the admin dry-runs an uploaded export, reads the report and imports it', async () => {
  const adm = await city.token('admin1');
  const get = async (p) => (await city.api('GET', p, undefined, adm)).body;
  const { context, page } = await city.newPage();
  await city.login(page, 'admin1');
  await page.goto(`${base}/#/admin`);
  await page.waitForSelector('[data-testid=adm-import]');
  await assertLabelled(page);
  // the shipped NYC mapping is offered
  assert.ok((await page.locator('[data-testid=imp-choice] option').allInnerTexts()).some((o) => o.includes('nyc311')));

  await page.setInputFiles('[data-testid=imp-csv]', { name: 'old-hotline.csv', mimeType: 'text/csv', buffer: await gbk(CSV) });
  await page.setInputFiles('[data-testid=imp-mapping]', { name: 'mapping.toml', mimeType: 'text/plain', buffer: Buffer.from(MAPPING) });
  assert.ok(await page.locator('[data-testid=imp-run]').isDisabled(), 'import waits for a dry run');
  await page.click('[data-testid=imp-dry]');
  await page.waitForSelector('[data-testid=imp-report]');
  const counts = await page.locator('[data-testid=imp-counts] tbody tr').allInnerTexts();
  const row = (label) => counts.find((r) => r.startsWith(label))?.split('\t').pop().trim();
  assert.equal(row('数据行'), '2');
  assert.equal(row('完全映射'), '1');
  assert.equal(row('部分映射'), '1');
  assert.equal(row('已写入工单'), '0');
  assert.match(await page.locator('[data-testid=imp-summary]').innerText(), /未写入任何数据.*old-hotline\.csv.*gbk/);
  assert.match(await page.locator('[data-testid=imp-unmapped]').innerText(), /category\s+停车\s+1/);
  let list = await get('/api/v1/tickets?page_size=1');
  const before = list.total;
  await shot(page, 'i01-import-dry-run-desktop');

  await page.click('[data-testid=imp-run]');
  await page.waitForSelector('[data-testid=imp-ids]');
  const after2 = await page.locator('[data-testid=imp-counts] tbody tr').allInnerTexts();
  assert.ok(after2.some((r) => /^已写入工单\s+2$/.test(r.trim())), after2.join(' | '));
  list = await get('/api/v1/tickets?page_size=1');
  assert.equal(list.total, before + 2);
  const ids = (await page.locator('[data-testid=imp-ids]').innerText()).match(/(\d+)–(\d+)/);
  const t = await get(`/api/v1/tickets/${ids[1]}`);
  assert.equal(t.title, '噪音：夜间施工噪音扰民');
  assert.equal(t.place.lat, 39.9219);

  // a date in another format: the problem names line 3, nothing imported
  const bad = CSV.replace('W1,', 'X1,').replace('W2,', 'X2,').replace('2024-05-02 09:15', '05/02/2024 09:15');
  await page.setInputFiles('[data-testid=imp-csv]', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.click('[data-testid=imp-dry]');
  await page.waitForSelector('[data-testid=imp-problem]');
  assert.match(await page.locator('[data-testid=imp-errors]').innerText(), /3\s+受理时间/);
  assert.ok(await page.locator('[data-testid=imp-run]').isDisabled());
  list = await get('/api/v1/tickets?page_size=1');
  assert.equal(list.total, before + 2);
  await context.close();

  // on a phone: the report does not make the page scroll sideways
  const phone = await city.newPage({ mobile: true });
  await city.login(phone.page, 'admin1');
  await phone.page.goto(`${base}/#/admin`);
  await phone.page.waitForSelector('[data-testid=adm-import]');
  await phone.page.setInputFiles('[data-testid=imp-csv]', { name: 'old-hotline.csv', mimeType: 'text/csv', buffer: await gbk(CSV) });
  await phone.page.setInputFiles('[data-testid=imp-mapping]', { name: 'mapping.toml', mimeType: 'text/plain', buffer: Buffer.from(MAPPING) });
  await phone.page.click('[data-testid=imp-dry]');
  await phone.page.waitForSelector('[data-testid=imp-report]');
  assert.match(await phone.page.locator('[data-testid=imp-counts]').innerText(), /此前已导入（跳过）\s+2/);
  await assertNoSideways(phone.page);
  await shot(phone.page, 'i02-import-phone');
  await phone.context.close();
});

test('a unit manager has no import section', async () => {
  const { context, page } = await city.newPage();
  await city.login(page, 'cy');
  await page.goto(`${base}/#/admin`);
  await page.waitForSelector('[data-testid=adm-exports]');
  assert.equal(await page.locator('[data-testid=adm-import]').count(), 0);
  await context.close();
});
