// End-to-end test of the web UI in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is downloaded) against the real `jiesu` binary.
//
//   JIESU_BIN=/path/to/jiesu npm run test:e2e
//
// It builds a tiny demo city in a temporary directory, adds one user per role, starts
// `jiesu serve` on a free port, walks intake → dispatch → handle → callback → citizen tracking,
// the public submit page and the language toggle, saves screenshots in tests/screenshots/,
// and stops the server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const shots = path.join(here, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'Test-pass-2024';
const STREET = '110105001'; // a street in 朝阳区
const DISTRICT = '110105';
const PHONE = '13912348765';
const LAST4 = PHONE.slice(-4);
const INTERNAL_NOTE = '内部备注：已协调物业，仅内部可见';
const RESULT_TEXT = '经现场核查，已督促物业于当日修复楼道照明，并告知诉求人。';

function findBinary() {
  if (process.env.JIESU_BIN) return process.env.JIESU_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
  const p = path.join(target, 'release', 'jiesu');
  return existsSync(p) ? p : null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let bin;
let dir;
let db;
let server;
let serverLog = '';
let base;
let browser;
const pageErrors = [];

function jiesu(args) {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

async function api(method, p, body, token) {
  const res = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function newPage(opts = {}) {
  const context = await browser.newContext({
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: opts.viewport ?? { width: 1366, height: 900 },
    deviceScaleFactor: 1,
    ...(opts.mobile ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${page.url()}: console: ${m.text()}`);
  });
  return { context, page };
}

async function shot(page, name) {
  // no toasts, and the top of the page (a sticky top bar would otherwise sit mid-picture)
  await page.evaluate(() => {
    document.getElementById('toasts')?.remove();
    window.scrollTo(0, 0);
  });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** Every visible form control has an accessible label. */
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unlabelled, [], 'controls without a label');
}

async function login(page, username) {
  await page.goto(`${base}/#/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login-card button[type=submit]');
  await page.waitForSelector('[data-testid=whoami]');
}

before(async () => {
  bin = findBinary();
  assert.ok(bin && existsSync(bin), 'set JIESU_BIN to the built jiesu binary (cargo build --release --bin jiesu)');
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'jiesu-e2e-'));
  db = path.join(dir, 'e2e.db');
  jiesu(['generate', '--db', db, '--months', '1', '--scale', '0.0005', '--seed', '1']);
  const users = [
    ['agent1', 'agent'],
    ['dispatcher1', 'dispatcher'],
    ['handler1', 'unit_handler', STREET],
    ['callback1', 'callback_agent'],
    ['super1', 'supervisor'],
  ];
  for (const [name, role, unit] of users) {
    jiesu(['user', 'add', '--db', db, '--name', name, '--role', role, ...(unit ? ['--unit', unit] : []), '--password', PASSWORD]);
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`jiesu serve exited (${server.exitCode}):\n${serverLog}`);
    try {
      const r = await fetch(`${base}/api/openapi.json`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`jiesu serve did not answer within 60 s:\n${serverLog}`);
    await sleep(200);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function token(username) {
  const { status, body } = await api('POST', '/api/v1/session', { username, password: PASSWORD });
  assert.equal(status, 200, `log-in of ${username}`);
  return body.token;
}

/** A leaf of the category tree, to pick in the category search (preferring one matching `want`). */
async function someLeaf(want) {
  const { body } = await api('GET', '/api/v1/categories');
  const leaves = [];
  const walk = (ns, p) => ns.forEach((n) => (n.children?.length ? walk(n.children, [...p, n.name]) : leaves.push({ ...n, path: [...p, n.name] })));
  walk(body, []);
  assert.ok(leaves.length > 0, 'the category tree has leaves');
  // a leaf whose name is unique, so searching by it finds it first
  const counts = new Map();
  for (const l of leaves) counts.set(l.name, (counts.get(l.name) ?? 0) + 1);
  const unique = leaves.filter((l) => counts.get(l.name) === 1);
  return (want && unique.find((l) => want.test(l.path.join(' ')))) ?? unique[0] ?? leaves[0];
}

async function pickCategory(page, leaf) {
  const inp = page.locator('input[name=category_code]');
  await inp.click();
  await inp.fill(leaf.name);
  const opt = page.locator(`li[role=option][data-key="${leaf.code}"]`);
  await opt.waitFor();
  await opt.click();
  await page.waitForFunction((name) => document.querySelector('.combo-chosen')?.textContent?.includes(name), leaf.name);
}

async function pickPlace(page) {
  await page.selectOption('select[name=district_code]', DISTRICT);
  await page.waitForSelector(`select[name=street_code] option[value="${STREET}"]`, { state: 'attached' });
  await page.selectOption('select[name=street_code]', STREET);
  // the community list is optional; take the first community if the street has any
  await page.waitForFunction(() => !document.querySelector('select[name=community_code]')?.disabled, null, { timeout: 10_000 });
  const communities = await page.locator('select[name=community_code] option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  if (communities.length) await page.selectOption('select[name=community_code]', communities[0]);
}

let ticket; // { id, number }

test('agent takes in a complaint and dispatches it to the street as lead', async () => {
  const leaf = await someLeaf(/照明|路灯|物业|楼道/);
  const { page, context } = await newPage();
  await login(page, 'agent1');
  await page.waitForURL(/#\/intake/);
  await page.waitForSelector('[data-testid=intake-form]');

  await page.selectOption('select[name=channel]', 'phone');
  await page.check('input[name=type][value=complaint]');
  await pickCategory(page, leaf);
  await page.fill('input[name=title]', '小区楼道照明损坏多日无人维修');
  await page.fill('textarea[name=text]', '朝阳区某小区3号楼2单元楼道灯损坏已一周，夜间老人上下楼不便，多次联系物业未果，请尽快协调维修。');
  await pickPlace(page);
  await page.fill('input[name=address]', '3号楼2单元');
  await page.fill('input[name="requester.name"]', '张秀兰');
  await page.fill('input[name="requester.phone"]', PHONE);

  // dispatch mode (the default): take the suggested street (属地直派) as lead
  await page.check('input[name=mode][value=dispatch]');
  await page.click(`button[data-suggest="${STREET}"]`);
  const row = page.locator(`.picked-units li[data-unit="${STREET}"]`);
  await row.waitFor();
  assert.equal(await row.locator('select').inputValue(), 'lead');
  await assertLabelled(page);
  await shot(page, '01-intake');

  // the server's problem+json error lands next to the field it names
  await page.fill('input[name="requester.phone"]', '1234567');
  await page.click('[data-testid=intake-submit]');
  const phoneField = page.locator('[data-field="requester.phone"].has-error .field-error');
  await phoneField.waitFor();
  assert.match(await phoneField.textContent(), /电话/);
  await page.fill('input[name="requester.phone"]', PHONE);

  await page.click('[data-testid=intake-submit]');
  const done = page.locator('[data-testid=intake-done]');
  await done.waitFor();
  assert.doesNotMatch(await done.textContent(), /失败/, 'creation and dispatch both succeeded');
  const number = (await page.locator('[data-testid=intake-done] [data-testid=ticket-number]').textContent()).trim();
  const href = await page.locator('[data-testid=open-ticket]').getAttribute('href');
  const id = href.split('/').pop();
  assert.ok(number.length > 0 && id, 'the new ticket has a number and an id');
  ticket = { id, number };
  await shot(page, '02-intake-done');

  // the detail page shows it dispatched to the street as lead
  await page.click('[data-testid=open-ticket]');
  await page.waitForSelector(`.assignment[data-unit="${STREET}"]`);
  assert.equal(await page.locator('.ticket-head [data-status]').getAttribute('data-status'), 'dispatched');
  assert.match(await page.locator(`.assignment[data-unit="${STREET}"] .tag.lead`).textContent(), /主办/);
  await page.waitForSelector('.timeline .tl-item[data-kind=dispatched]');
  await shot(page, '03-ticket-dispatched');

  // the ticket list
  await page.goto(`${base}/#/tickets`);
  await page.waitForSelector(`[data-testid=ticket-table] tr[data-ticket="${number}"]`);
  await shot(page, '04-ticket-list');
  // filters: today's dispatched tickets in 朝阳区 (the date range includes its last day)
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  await page.selectOption('select[name=status]', 'dispatched');
  await page.waitForSelector(`select[name=district] option[value="${DISTRICT}"]`, { state: 'attached' });
  await page.selectOption('select[name=district]', DISTRICT);
  await page.fill('input[name=from]', today);
  await page.fill('input[name=to]', today);
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/status=dispatched/);
  await page.waitForSelector(`[data-testid=ticket-table] tr[data-ticket="${number}"]`);
  const statuses = await page.locator('[data-testid=ticket-table] [data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  assert.ok(statuses.every((st) => st === 'dispatched'), 'only dispatched tickets listed');
  await context.close();
});

test('the street handler signs, responds and submits the result from the workbench', async () => {
  assert.ok(ticket, 'needs the ticket from the intake test');
  // two more tickets for the street, through the API: a 2-hour one and a 15-day one
  const agent = await token('agent1');
  const leaf = await someLeaf();
  const extra = {};
  for (const [tier, title] of [['15d', '建议增设社区健身器材'], ['2h', '小区突发停水请尽快处理']]) {
    const created = await api('POST', '/api/v1/tickets', {
      channel: 'phone', type: 'help', category_code: leaf.code, title, text: `${title}，详见来电记录。`,
      district_code: DISTRICT, street_code: STREET, requester: { name: '王强', phone: '13600001111' },
    }, agent);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const d = await api('POST', `/api/v1/tickets/${created.body.id}/dispatch`, { assignments: [{ unit_code: STREET, role: 'lead' }], tier }, agent);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    extra[tier] = created.body.number;
  }

  const { page, context } = await newPage();
  await login(page, 'handler1');
  await page.waitForURL(/#\/workbench/);
  const item = page.locator(`.queue-item[data-ticket="${ticket.number}"]`);
  await item.waitFor();
  // the queue is sorted by finish deadline, nearest first
  const deadlines = await page.locator('.queue-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-deadline')).filter(Boolean));
  const times = deadlines.map((d) => Date.parse(d));
  assert.ok(times.length >= 3, 'three tickets in the queue');
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'queue sorted by deadline');
  const order = await page.locator('.queue-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-ticket')));
  assert.ok(order.indexOf(extra['2h']) < order.indexOf(ticket.number), 'the 2-hour ticket comes before the 7-day one');
  assert.ok(order.indexOf(ticket.number) < order.indexOf(extra['15d']), 'the 7-day ticket comes before the 15-day one');
  await shot(page, '05-workbench');

  await item.locator('a').click();
  await page.waitForSelector('[data-testid=actions]');
  await page.click('[data-action-button=sign]');
  await page.waitForSelector('.ticket-head [data-status=in_progress]');

  await page.click('[data-action-button=respond]');
  await page.fill('form[data-action=respond] input[name=note]', '已电话联系诉求人，约定次日上门查看');
  await page.click('form[data-action=respond] button[type=submit]');
  await page.waitForSelector('.timeline .tl-item[data-kind=responded]');

  // an internal progress note (not public): must never reach the citizen
  await page.click('[data-action-button=note]');
  await page.fill('form[data-action=note] textarea[name=text]', INTERNAL_NOTE);
  await page.click('form[data-action=note] button[type=submit]');
  await page.waitForSelector('.timeline .tl-item[data-kind=note_added]');

  await page.click('[data-action-button=result]');
  await page.fill('form[data-action=result] textarea[name=text]', RESULT_TEXT);
  await page.click('form[data-action=result] button[type=submit]');
  await page.waitForSelector('.ticket-head [data-status=result_submitted]');
  assert.match(await page.locator('[data-testid=result-text]').textContent(), /楼道照明/);
  await shot(page, '06-ticket-handled');
  await context.close();
});

test('the callback desk records the citizen\'s rating', async () => {
  assert.ok(ticket, 'needs the ticket');
  const { page, context } = await newPage();
  await login(page, 'callback1');
  await page.waitForURL(/#\/callbacks/);
  await page.waitForSelector('[data-testid=callback-queue], .cb-list .empty-state');
  const entry = page.locator(`[data-testid=callback-queue] li[data-ticket="${ticket.number}"] button`);
  // the queue is paged, nearest deadline first: the new ticket may not be on the first page
  if (await entry.count()) await entry.click();
  else await page.goto(`${base}/#/callbacks?ticket=${ticket.id}`);
  await page.waitForSelector(`.cb-head a[href="#/tickets/${ticket.id}"]`);
  const form = page.locator('form[data-action=callback]');
  await form.waitFor();
  assert.match(await page.locator('[data-testid=callback-phone]').textContent(), new RegExp(LAST4));
  await form.locator('input[name=contacted][value=true]').check();
  await form.locator('input[name=resolution][value=resolved]').check();
  await form.locator('input[name=satisfaction][value=satisfied]').check();
  await form.locator('input[name=attitude][value=good]').check();
  await shot(page, '07-callback-desk');
  await form.locator('button[type=submit]').click();
  await page.waitForFunction((id) => !document.querySelector(`.cb-head a[href="#/tickets/${id}"]`), ticket.id);
  const { body: tk } = await api('GET', `/api/v1/tickets/${ticket.id}`, undefined, await token('callback1'));
  assert.ok(tk.callbacks?.length === 1, 'one callback recorded');
  assert.equal(tk.callbacks[0].outcome.satisfaction, 'satisfied');
  await context.close();
});

test('the citizen tracks the request with number and last 4 phone digits', async () => {
  assert.ok(ticket, 'needs the ticket');
  const { page, context } = await newPage({ viewport: { width: 390, height: 844 }, mobile: true });
  await page.goto(`${base}/#/track`);
  await page.fill('input[name=number]', ticket.number);
  await page.fill('input[name=phone_last4]', '0000');
  await page.click('[data-testid=track-form] button[type=submit]');
  await page.waitForSelector('[data-testid=track-form] .alert.error, [data-testid=track-form] .field.has-error');

  await page.fill('input[name=phone_last4]', LAST4);
  await page.click('[data-testid=track-form] button[type=submit]');
  const result = page.locator('[data-testid=track-result]');
  await result.waitFor();
  const text = await result.textContent();
  assert.ok(text.includes(ticket.number));
  assert.ok((await page.locator('.timeline .tl-item').count()) >= 4, 'timeline shows the public events');
  await page.waitForSelector('.timeline .tl-item[data-kind=result_submitted]');
  await assertLabelled(page);
  const html = await page.content();
  assert.ok(!html.includes(PHONE), 'no phone number on the tracking page');
  assert.ok(!html.includes('张秀兰'), 'no requester name on the tracking page');
  assert.ok(!html.includes(INTERNAL_NOTE), 'no internal note on the tracking page');
  assert.ok(!html.includes('约定次日上门'), 'no internal respond note on the tracking page');
  assert.ok(html.includes('楼道照明'), 'the result is shown to the citizen');
  await shot(page, '08-track');
  await context.close();
});

test('the public submit page creates a ticket and shows its number', async () => {
  const leaf = await someLeaf(/停车|非机动车|交通|道路/);
  const { page, context } = await newPage({ viewport: { width: 390, height: 844 }, mobile: true });
  await page.goto(`${base}/#/`);
  await page.waitForSelector('[data-testid=home-submit]');
  await shot(page, '09-home');
  await page.click('[data-testid=home-submit]');
  await page.waitForSelector('[data-testid=public-form]');
  await page.check('input[name=type][value=suggestion]');
  await pickCategory(page, leaf);
  await pickPlace(page);
  await page.fill('input[name=title]', '建议在小区门口增设非机动车停放区');
  await page.fill('textarea[name=text]', '小区门口电动自行车乱停放，影响行人通行，建议划定停放区域。');
  await page.fill('input[name="requester.name"]', '李明');
  await page.fill('input[name="requester.phone"]', '13700001234');
  await assertLabelled(page);
  await shot(page, '10-public-submit');
  await page.click('[data-testid=public-submit]');
  const num = page.locator('[data-testid=public-number]');
  await num.waitFor();
  const number = (await num.textContent()).trim();
  assert.ok(number.length >= 4, `a request number is shown (${number})`);
  await shot(page, '11-public-submitted');

  // "track it" carries the number (and the digits, in session storage) to the tracking page
  await page.click('[data-testid=submit-done] .btn.primary');
  await page.waitForSelector('[data-testid=track-result]');
  assert.ok((await page.locator('[data-testid=track-result]').textContent()).includes(number));
  await context.close();
});

test('the English toggle switches the labels and is remembered', async () => {
  const { page, context } = await newPage();
  await page.goto(`${base}/#/login`);
  await page.waitForSelector('label[for]');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.locator('form.login-card h1').textContent(), /工作人员登录/);
  await shot(page, '12-login-zh');
  await page.click('[data-testid=lang-toggle]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(await page.locator('form.login-card h1').textContent(), /Staff sign-in/);
  assert.match(await page.locator('label[for]').first().textContent(), /User name/);
  await page.reload();
  await page.waitForSelector('form.login-card');
  assert.match(await page.locator('form.login-card h1').textContent(), /Staff sign-in/, 'the choice survives a reload');

  // a signed-in page in English
  await page.fill('input[name=username]', 'super1');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('form.login-card button[type=submit]');
  await page.waitForSelector('[data-testid=ticket-table], .empty-state');
  assert.match(await page.locator('.page-head h1').textContent(), /Tickets/);
  await shot(page, '13-tickets-en');
  if (ticket) {
    await page.goto(`${base}/#/tickets/${ticket.id}`);
    await page.waitForSelector('.timeline');
    assert.match(await page.locator('#tl-title').textContent(), /Timeline/);
    await shot(page, '14-ticket-en');
  }
  await page.click('[data-testid=lang-toggle]');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await context.close();
});

test('no JavaScript errors on any page', () => {
  assert.deepEqual(pageErrors, []);
});
