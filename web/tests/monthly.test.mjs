// 每月一题 (#/monthly) in a real headless Chromium against the real `jiesu` binary on a generated
// city of 2 months:
//
//   JIESU_BIN=/path/to/jiesu node --test tests/monthly.test.mjs
//
// A supervisor reaches 每月一题 from the dashboard's 主动治理 links; the candidates table lists the
// API's candidates in order with their labels, and each links to tickets behind it; adopting
// the first candidate through the form (lead department, leader, plan, three lists) shows the
// topic with its progress, its lists and its outcome chart; an edit adds a version to the
// history. Before saving, 预览规则 shows what the candidate's rule takes (the API's count). The
// lead department's manager ticks a task in place: progress and the overdue flag follow, the
// history names the change. A unit handler named in the responsibility list sees the topic from
// the menu but no candidates; on a 390×844 phone the page does not scroll sideways. Screenshots
// m01…m07.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({
    name: 'monthly',
    months: 2,
    scale: 0.004,
    seed: 5,
    users: [
      ['sup1', 'supervisor'],
      ['h1', 'unit_handler', '110105001'],
      ['lead1', 'unit_manager', 'CD003'],
    ],
  });
  ({ base } = city);
});

after(async () => {
  await city?.close();
  assert.deepEqual(city?.pageErrors ?? [], [], 'no script errors on any page');
});

test('a supervisor sees the mined candidates, adopts one with its plan and lists, and edits it', async () => {
  const sup = await city.token('sup1');
  const api = await city.api('GET', '/api/v1/governance/monthly/candidates', undefined, sup);
  assert.equal(api.status, 200, JSON.stringify(api.body));
  assert.ok(api.body.candidates.length > 0, 'some candidate');
  const { context, page } = await city.newPage();
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/dashboard`);
  await page.locator('[data-testid=dash-governance] a[href="#/monthly"]').click();
  await page.waitForSelector('[data-testid=mt-candidate-table]', { timeout: 120_000 });
  const labels = await page.locator('[data-testid=mt-label]').allInnerTexts();
  assert.deepEqual(labels, api.body.candidates.map((c) => c.label));
  const first = api.body.candidates[0];
  const firstRow = page.locator('[data-testid=mt-candidate]').first();
  assert.match(await firstRow.locator('[data-testid=mt-ticket-count]').innerText(), new RegExp(String(first.ticket_count)));
  assert.equal(await firstRow.locator('[data-testid=mt-ticket]').first().getAttribute('href'), `#/tickets/${first.tickets[0]}`);
  await assertLabelled(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: 'tests/screenshots/m01-monthly-candidates.png' });

  await firstRow.locator('[data-testid=mt-adopt]').click();
  await page.waitForSelector('[data-testid=mt-form]');
  assert.equal(await page.inputValue('[data-testid=mt-f-theme]'), first.label);
  await page.selectOption('[data-testid=mt-f-lead]', 'CD003');
  await page.fill('[data-testid=mt-f-leader]', '张副市长');
  await page.fill('[data-testid=mt-f-plan]', '摸排点位，统筹建设，简化报装流程。');
  await page.fill('[data-testid=mt-f-tasks]', '全市摸排 | CD003 | 2026-01-31 | done\n出台报装指引 | CD003 | 2026-02-28 | doing\n建设公共设施 | 110105001 | 2026-06-30 | todo');
  await page.fill('[data-testid=mt-f-resp]', '110105001 | 属地协调');
  await page.fill('[data-testid=mt-f-policies]', '关于简化报装流程的通知 | 2026-01-10 | 市住房城乡建设委');
  // the rule preview beside the problems field: the API's count for the suggested rule
  const pv = await city.api('POST', '/api/v1/governance/monthly/rule-preview', { rule: first.suggested_rule }, sup);
  assert.equal(pv.status, 200, JSON.stringify(pv.body));
  await page.click('[data-testid=mt-preview]');
  await page.waitForSelector('[data-testid=mt-preview-card]', { timeout: 120_000 });
  assert.match(await page.locator('[data-testid=mt-preview-total]').innerText(), new RegExp(`共 ${pv.body.total} 件`));
  assert.equal(await page.locator('[data-testid=mt-sample] li').count(), pv.body.sample.length);
  await page.locator('[data-testid=mt-preview-card]').screenshot({ path: 'tests/screenshots/m05-monthly-rule-preview.png' });
  // a bad rule: the server's words, naming the field
  const problemsText = await page.inputValue('[data-testid=mt-f-problems]');
  await page.fill('[data-testid=mt-f-problems]', '坏规则 | 9999 | |');
  await page.click('[data-testid=mt-preview]');
  await page.waitForSelector('[data-testid=mt-preview-error]');
  assert.match(await page.locator('[data-testid=mt-preview-error]').innerText(), /rule\.categories/);
  await page.fill('[data-testid=mt-f-problems]', problemsText);
  await shot(page, 'm02-monthly-adopt');
  await page.click('[data-testid=mt-save]');
  await page.waitForSelector('[data-testid=mt-topic]');
  assert.match(await page.locator('[data-testid=mt-progress]').innerText(), /1 \/ 3 项（33\.33%）/);
  assert.equal(await page.locator('[data-testid=mt-task]').count(), 3);
  await page.waitForSelector('[data-testid=mt-chart-0] svg');
  await page.screenshot({ path: 'tests/screenshots/m03-monthly-topic.png', fullPage: true });
  const id = new URL(page.url().replace('#/', '')).searchParams.get('topic');
  const stored = await city.api('GET', `/api/v1/governance/monthly/topics/${id}`, undefined, sup);
  assert.equal(stored.status, 200);
  assert.equal(stored.body.topic.leader, '张副市长');
  assert.deepEqual(stored.body.topic.problems[0].rule, first.suggested_rule);

  // an edit: all tasks done → a second version in the history
  await page.click('[data-testid=mt-edit]');
  await page.waitForSelector('[data-testid=mt-form]');
  await page.fill('[data-testid=mt-f-tasks]', '全市摸排 | CD003 | 2026-01-31 | done\n出台报装指引 | CD003 | 2026-02-28 | done\n建设公共设施 | 110105001 | 2026-06-30 | done');
  await page.click('[data-testid=mt-save]');
  await page.waitForFunction(() => location.hash.includes('v=2'));
  await page.waitForSelector('[data-testid=mt-history] li >> nth=1');
  assert.match(await page.locator('[data-testid=mt-progress]').innerText(), /3 \/ 3 项（100\.00%）/);
  await context.close();
});

test('the lead department’s manager ticks a task in place: progress, the overdue flag and the history follow', async () => {
  const sup = await city.token('sup1');
  const topic = {
    month: '2026-01',
    theme: '逾期任务演示',
    problems: [{ label: '充电桩', rule: { categories: ['0301'], keywords: ['充电桩'], places: [] } }],
    lead_unit: 'CD003',
    leader: '张副市长',
    plan: '摸排、建设、报装。',
    // due long ago (overdue on any clock) and far ahead
    tasks: [
      { title: '全市摸排', owner: 'CD003', due: '2020-01-31', status: 'doing' },
      { title: '建设公共设施', owner: 'CD003', due: '2099-12-31', status: 'todo' },
    ],
    responsibilities: [],
    policies: [],
  };
  const made = await city.api('POST', '/api/v1/governance/monthly/topics', topic, sup);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  for (const mobile of [false, true]) {
    const { context, page } = await city.newPage(mobile ? { mobile: true } : undefined);
    await city.login(page, 'lead1');
    await page.goto(`${base}/#/monthly?topic=${made.body.id}`);
    await page.waitForSelector('[data-testid=mt-topic]');
    if (!mobile) {
      assert.equal(await page.locator('[data-testid=mt-task-overdue]').count(), 1);
      assert.equal(await page.locator('[data-testid=mt-task]').first().locator('[data-testid=mt-task-overdue]').count(), 1);
      assert.equal(await page.locator('[data-testid=mt-edit]').count(), 0, 'the unit ticks tasks, it does not edit the record');
      const row = page.locator('[data-testid=mt-task]').first();
      await row.locator('[data-testid=mt-task-status]').selectOption('done');
      await row.locator('[data-testid=mt-task-note-input]').fill('已摸排 120 个小区');
      await assertLabelled(page);
      await row.locator('[data-testid=mt-task-save]').click();
      await page.waitForSelector('[data-testid=mt-history] li >> nth=1');
      assert.match(await page.locator('[data-testid=mt-progress]').innerText(), /1 \/ 2 项（50\.00%）/);
      assert.equal(await page.locator('[data-testid=mt-task-overdue]').count(), 0);
      assert.match(await page.locator('[data-testid=mt-history] li >> nth=1').innerText(), /lead1 · 任务 1「全市摸排」：推进中 → 已完成（已摸排 120 个小区）/);
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: 'tests/screenshots/m06-monthly-tasks.png', fullPage: true });
    } else {
      await assertNoSideways(page);
      await page.locator('[data-testid=mt-tasks]').scrollIntoViewIfNeeded();
      await shot(page, 'm07-monthly-tasks-phone');
    }
    await context.close();
  }
  const after = await city.api('GET', `/api/v1/governance/monthly/topics/${made.body.id}`, undefined, sup);
  assert.equal(after.body.version, 2);
  assert.equal(after.body.topic.tasks[0].note, '已摸排 120 个小区');
});

test('a unit named in the lists sees the topic but no candidates, and the phone fits', async () => {
  const h1 = await city.newPage({ mobile: true });
  await city.login(h1.page, 'h1');
  await h1.page.goto(`${base}/#/monthly`);
  await h1.page.waitForSelector('[data-testid=mt-topic-card], [data-testid=mt-no-topics]');
  assert.equal(await h1.page.locator('[data-testid=mt-topic-card]').count(), 1);
  assert.equal(await h1.page.locator('[data-testid=mt-candidates]').count(), 0);
  await assertNoSideways(h1.page);
  await shot(h1.page, 'm04-monthly-phone');
  await h1.page.locator('[data-testid=mt-topic-card] a').click();
  await h1.page.waitForSelector('[data-testid=mt-topic]');
  assert.equal(await h1.page.locator('[data-testid=mt-edit]').count(), 0);
  await assertNoSideways(h1.page);
  await h1.context.close();
});
