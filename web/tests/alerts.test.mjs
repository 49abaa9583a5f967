// Early-warning alerts (预警处置, #/alerts) in a real headless Chromium against the real `jiesu`
// binary (harness.mjs) on a generated city served on a test clock:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/alerts.test.mjs
//
// Five requests about one problem in one street in a few minutes make a spike; the test clock's
// move runs the early-warning pass. The street's handler finds 预警 in the menu, the alert in the
// list with the requests against the expected count, opens it, sees the five tickets behind it,
// tries 已处置 without a reason (the field says why), then acknowledges and handles it with a
// reason; the list then counts it as handled and the useful-alert rate is 100 %. A handler of
// another street does not see it; an agent has no such page. On a 390×844 phone the list does not
// scroll sideways. Screenshots a01…a05 go to tests/screenshots/.
//
// 风险推送: the five reports in one street within minutes are also one incident (突发事件); a gas
// smell filed at intake is a risk alert for the street. The agent typing a gas smell into the
// intake form sees the banner to transfer the caller to 119 (desktop and phone); the street's
// handler sees the risk alert (with 119) and the incident (5 reports) on the alerts page and the
// banner on the risk alert's page; filed, the done card records the emergency transfer (特殊处置 ·
// 紧急转接). Screenshots a06…a10.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

let city;
let base;
let alertId;
let riskId;
let incidentId;
let leafNode;

before(async () => {
  city = await startCity({
    name: 'alerts',
    months: 1,
    scale: 0.001,
    seed: 5,
    users: [
      ['agent1', 'agent'],
      ['ad1', 'admin'],
      ['h1', 'unit_handler', '110105001'],
      ['h2', 'unit_handler', '110108001'],
    ],
    serveArgs: ['--test-clock', new Date().toISOString()],
  });
  ({ base } = city);
  const tree = await (await fetch(`${base}/api/v1/categories`)).json();
  let leaf = null;
  const walk = (ns) => ns.forEach((n) => (n.children?.length ? walk(n.children) : (leafNode ??= n)));
  walk(tree);
  leaf = leafNode.code;
  const agent = await city.token('agent1');
  for (let i = 0; i < 5; i++) {
    const r = await city.api(
      'POST',
      '/api/v1/tickets',
      {
        channel: 'phone',
        type: 'complaint',
        category_code: leaf,
        title: '小区停水',
        text: '小区从早上开始停水，没有任何通知。',
        district_code: '110105',
        street_code: '110105001',
        requester: { name: '王先生', phone: `1380000${1000 + i}` },
      },
      agent,
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  // the clock's move runs the early-warning pass at once
  const admin = await city.token('ad1');
  const r = await city.api('POST', '/api/v1/test-clock', { advance_seconds: 60 }, admin);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // filed after the pass, so the spike's tickets stay the five
  const gas = await city.api(
    'POST',
    '/api/v1/tickets',
    {
      channel: 'phone',
      type: 'complaint',
      category_code: leaf,
      title: '楼道煤气味很重',
      text: '我家楼道里一股很浓的煤气味，敲邻居家门没人应，请赶快派人来看看。',
      district_code: '110105',
      street_code: '110105001',
      community_code: '110105001024',
      requester: { name: '李女士', phone: '13800009999' },
    },
    agent,
  );
  assert.equal(gas.status, 201, JSON.stringify(gas.body));
  assert.deepEqual(gas.body.risk?.transfer_to, ['119'], JSON.stringify(gas.body));
  riskId = gas.body.risk_alert;
  assert.ok(riskId, 'a risk alert at once');
  const h1 = await city.token('h1');
  const list = await city.api('GET', '/api/v1/alerts', undefined, h1);
  const street = list.body.items.find((a) => a.level === 'street×category' && a.place === '110105001');
  assert.ok(street, `a street alert: ${JSON.stringify(list.body)}`);
  assert.ok(street.observed >= 5, `the spike counts the five: ${JSON.stringify(street)}`);
  alertId = street.id;
  const incident = list.body.items.find((a) => a.level === 'incident');
  assert.ok(incident && incident.ticket_count === 5, `one incident of the five: ${JSON.stringify(list.body)}`);
  incidentId = incident.id;
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

test('the street handler sees the alert, opens it and handles it with a reason', async () => {
  const { context, page } = await city.newPage();
  await city.login(page, 'h1');
  await page.click('[data-testid=staff-menu] >> text=菜单').catch(() => {});
  assert.ok(await page.locator('a[href="#/alerts"]').count(), 'the menu has 预警');
  await page.goto(`${base}/#/alerts`);
  const row = page.locator(`[data-testid=alert-row][data-id="${alertId}"]`);
  await row.waitFor();
  const fig = await row.locator('[data-testid=alert-figures] strong').innerText();
  assert.ok(Number(fig) >= 5, `requests shown: ${fig}`);
  assert.match(await row.innerText(), /待处置/);
  await shot(page, 'a01-alerts-list');

  await row.locator('a[href^="#/alerts/"]').click();
  await page.waitForSelector('[data-testid=alert-tickets]');
  assert.equal(await page.locator('[data-testid=alert-tickets] li').count(), 5);
  await assertLabelled(page);
  // handling without a reason: the field says why, nothing changes
  await page.click('[data-testid=alert-do-handle]');
  await page.waitForSelector('[data-field=reason] .field-error:not(:empty)');
  await shot(page, 'a02-alert-reason-required');
  await page.click('[data-testid=alert-do-acknowledge]');
  await page.waitForSelector('[data-testid=alert-facts] [data-status=acknowledged]');
  await page.fill('[data-testid=alert-reason]', '已协调自来水公司抢修，当日恢复供水');
  await page.click('[data-testid=alert-do-handle]');
  await page.waitForSelector('[data-testid=alert-facts] [data-status=handled]');
  assert.equal(await page.locator('[data-testid=alert-actions]').count(), 0, 'a handled alert takes no further step');
  assert.match(await page.locator('.timeline').innerText(), /已协调自来水公司抢修/);
  await shot(page, 'a03-alert-handled');

  await page.goto(`${base}/#/alerts?status=handled`);
  await page.locator(`[data-testid=alert-row][data-id="${alertId}"]`).waitFor();
  assert.match(await page.locator('[data-testid=alert-useful]').innerText(), /100\.0%/);
  await context.close();
});

test('another street does not see it; an agent has no alerts page; the phone list fits', async () => {
  const other = await city.newPage();
  await city.login(other.page, 'h2');
  await other.page.goto(`${base}/#/alerts`);
  await other.page.waitForSelector('[data-testid=alerts-empty], [data-testid=alerts-table]');
  assert.equal(await other.page.locator(`[data-testid=alert-row][data-id="${alertId}"]`).count(), 0);
  await other.context.close();

  const agent = await city.newPage();
  await city.login(agent.page, 'agent1');
  assert.equal(await agent.page.locator('a[href="#/alerts"]').count(), 0, 'no menu entry');
  await agent.page.goto(`${base}/#/alerts`);
  await agent.page.waitForSelector('main');
  assert.equal(await agent.page.locator('[data-testid=alerts-table]').count(), 0);
  await shot(agent.page, 'a04-alerts-agent');
  await agent.context.close();

  const phone = await city.newPage({ mobile: true });
  await city.login(phone.page, 'h1');
  await phone.page.goto(`${base}/#/alerts`);
  await phone.page.locator(`[data-testid=alert-row][data-id="${alertId}"]`).waitFor();
  await assertNoSideways(phone.page);
  await shot(phone.page, 'a05-alerts-phone');
  await phone.context.close();
});

test('intake warns to transfer a gas smell to 119; the alerts page shows the risk push and the incident', async () => {
  for (const mobile of [false, true]) {
    const { context, page } = await city.newPage({ mobile });
    await city.login(page, 'agent1');
    await page.goto(`${base}/#/intake`);
    await page.waitForSelector('[data-testid=intake-form]');
    assert.equal(await page.locator('[data-testid=risk-banner]').count(), 0, 'no banner before anything is typed');
    await page.fill('textarea[name=text]', '楼下三单元着火了，浓烟很大，有人被困在楼上');
    const banner = page.locator('[data-testid=risk-banner]');
    await banner.waitFor();
    assert.match(await banner.innerText(), /119/);
    assert.match(await banner.innerText(), /请立即转接/);
    await assertNoSideways(page);
    await shot(page, mobile ? 'a07-intake-risk-phone' : 'a06-intake-risk');
    // a harmless request clears it
    await page.fill('textarea[name=text]', '咨询煤气费怎么在网上缴纳');
    await page.waitForSelector('[data-testid=risk-banner]', { state: 'detached' });
    if (!mobile) {
      // filed: the done card keeps the banner, says where it was pushed, and records the transfer
      await page.fill('textarea[name=text]', '楼下三单元着火了，浓烟很大，有人被困在楼上');
      await page.fill('input[name=title]', '居民楼着火');
      const inp = page.locator('input[name=category_code]');
      await inp.click();
      await inp.fill(leafNode.name);
      await page.locator(`li[role=option][data-key="${leafNode.code}"]`).click();
      await page.selectOption('select[name=district_code]', '110105');
      await page.waitForSelector('select[name=street_code] option[value="110105001"]', { state: 'attached' });
      await page.selectOption('select[name=street_code]', '110105001');
      // in the gas report's community (the street's five outage reports are another place)
      await page.waitForSelector('select[name=community_code] option[value="110105001024"]', { state: 'attached' });
      await page.selectOption('select[name=community_code]', '110105001024');
      await page.fill('input[name="requester.name"]', '赵先生');
      await page.fill('input[name="requester.phone"]', '13700001111');
      await page.check('input[name=mode][value=later]');
      await page.click('[data-testid=intake-submit]');
      await page.waitForSelector('[data-testid=intake-done]');
      const done = page.locator('[data-testid=intake-done] [data-testid=risk-banner]');
      assert.match(await done.innerText(), /119/);
      await page.waitForSelector('[data-testid=risk-pushed]');
      await page.click('[data-testid=risk-record-transfer]');
      await page.waitForSelector('[data-testid=risk-recorded]');
      await shot(page, 'a10-intake-risk-done');
      const id = (await page.getAttribute('[data-testid=open-ticket]', 'href')).split('/').pop();
      const tk = await city.api('GET', `/api/v1/tickets/${id}`, undefined, await city.token('agent1'));
      assert.equal(tk.body.status, 'special_handled', JSON.stringify(tk.body.status));
      assert.deepEqual(tk.body.risk.transfer_to, ['119']);
      // a transfer record per marked number, waiting for the service's reply
      assert.deepEqual(tk.body.transfers.map((x) => [x.to, x.by, x.replies.length]), [['119', 'agent1', 0]]);
      assert.deepEqual(tk.body.transfers_pending, []);
    }
    await context.close();
  }

  for (const mobile of [false, true]) {
    const { context, page } = await city.newPage({ mobile });
    await city.login(page, 'h1');
    await page.goto(`${base}/#/alerts`);
    const risk = page.locator(`[data-testid=alert-row][data-id="${riskId}"]`);
    await risk.waitFor();
    assert.equal(await risk.getAttribute('data-level'), 'risk');
    assert.match(await risk.innerText(), /119/);
    const incident = page.locator(`[data-testid=alert-row][data-id="${incidentId}"]`);
    await incident.waitFor();
    assert.match(await incident.locator('[data-testid=alert-figures]').innerText(), /5/);
    await assertNoSideways(page);
    await shot(page, mobile ? 'a09-alerts-risk-phone' : 'a08-alerts-risk');
    if (!mobile) {
      await risk.locator('a[href^="#/alerts/"]').click();
      await page.waitForSelector('[data-testid=risk-banner]');
      assert.match(await page.locator('[data-testid=risk-banner]').innerText(), /119/);
      assert.equal(await page.locator('[data-testid=alert-tickets] li').count(), 1);
      await assertLabelled(page);
    }
    await context.close();
  }
});
