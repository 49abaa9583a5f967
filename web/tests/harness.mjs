// The browser suites' shared harness: a small demo city in a temporary directory, `jiesu serve` on
// a free port, Debian's headless Chromium (driven by playwright-core; no browser is downloaded),
// and the helpers every suite uses (API calls, log-in, pages at desktop or phone size, screenshots).
//
//   const city = await startCity({ name: 'e2e', months: 1, scale: 0.002, seed: 1, users: [...] });
//   ...
//   await city.close();
//
// The binary is $JIESU_BIN, else target/{release,debug}/jiesu under $CARGO_TARGET_DIR or the repo.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const shots = path.join(here, 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const PASSWORD = 'Test-pass-2024';
export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function findBinary() {
  if (process.env.JIESU_BIN) return process.env.JIESU_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
  for (const p of [path.join(target, 'release', 'jiesu'), path.join(target, 'debug', 'jiesu')]) if (existsSync(p)) return p;
  return null;
}

/**
 * The browser's environment: ours, with a UTF-8 locale when ours has none. Without one (CI runs
 * under `env -i`, the "C" locale) Chromium cannot turn a Chinese file name into a native one and
 * saves every download as "download" — a user's desktop always has a UTF-8 locale.
 */
export function browserEnv(env = process.env) {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  if (/utf-?8/i.test(locale)) return { ...env };
  const out = { ...env, LANG: 'C.UTF-8' };
  delete out.LC_ALL;
  delete out.LC_CTYPE;
  return out;
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

/**
 * Generates a city, adds `users` ([name, role, unit?], password PASSWORD), serves it and starts the
 * browser. `serveArgs` are extra `jiesu serve` arguments (e.g. ['--test-clock', '…']).
 */
export async function startCity({ name, months = 1, scale = 0.002, seed = 1, users = [], serveArgs = [] }) {
  const bin = findBinary();
  assert.ok(bin && existsSync(bin), 'set JIESU_BIN to the built jiesu binary (cargo build --release --bin jiesu)');
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), `jiesu-${name}-`));
  // With JIESU_TEST_PG (a server URL, as the Rust tests take it) the city is a new database on that
  // PostgreSQL server; its key file and models go to the temporary directory (JIESU_DATA_DIR).
  const pg = (process.env.JIESU_TEST_PG || '').replace(/\/+$/, '');
  let db = path.join(dir, `${name}.db`);
  if (pg) {
    const dbName = `b_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${Date.now() % 1e9}`;
    const u = new URL(pg);
    execFileSync('psql', ['-q', '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), '-d', 'postgres', '-c', `CREATE DATABASE ${dbName}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    db = `${pg}/${dbName}`;
  }
  const env = { ...process.env, JIESU_DATA_DIR: dir };
  const jiesu = (args) => execFileSync(bin, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  jiesu(['generate', '--no-train', '--db', db, '--months', String(months), '--scale', String(scale), '--seed', String(seed)]);
  const addUser = (uname, role, unit) =>
    jiesu(['user', 'add', '--db', db, '--name', uname, '--role', role, ...(unit ? ['--unit', unit] : []), '--password', PASSWORD]);
  for (const [uname, role, unit] of users) addUser(uname, role, unit);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let serverLog = '';
  const server = spawn(bin, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, ...serveArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  // up to 60 s: 300 tries 200 ms apart (a count, not the wall clock)
  for (let tries = 0; ; tries++) {
    if (server.exitCode !== null) throw new Error(`jiesu serve exited (${server.exitCode}):\n${serverLog}`);
    try {
      const r = await fetch(`${base}/api/openapi.json`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (tries >= 300) throw new Error(`jiesu serve did not answer within 60 s:\n${serverLog}`);
    await sleep(200);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    env: browserEnv(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const pageErrors = [];

  async function api(method, p, body, token) {
    const res = await fetch(base + p, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  }

  async function token(username) {
    const { status, body } = await api('POST', '/api/v1/session', { username, password: PASSWORD });
    assert.equal(status, 200, `log-in of ${username}`);
    return body.token;
  }

  /** A new page in its own context: desktop by default, `{ mobile: true }` a 390×844 touch phone. */
  async function newPage(opts = {}) {
    const context = await browser.newContext({
      locale: opts.locale ?? 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      viewport: opts.viewport ?? (opts.mobile ? PHONE : DESKTOP),
      deviceScaleFactor: opts.mobile ? 2 : 1,
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

  async function login(page, username) {
    await page.goto(`${base}/#/login`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('form.login-card button[type=submit]');
    await page.waitForSelector('[data-testid=whoami]');
  }

  async function close() {
    await browser.close().catch(() => {});
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }

  return { bin, dir, db, base, browser, jiesu, addUser, api, token, newPage, login, close, pageErrors, log: () => serverLog };
}

/** A full-page screenshot in tests/screenshots/ (no toasts, scrolled to the top). */
export async function shot(page, name) {
  await page.evaluate(() => {
    document.getElementById('toasts')?.remove();
    window.scrollTo(0, 0);
  });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** Every visible form control has an accessible label. */
export async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unlabelled, [], 'controls without a label');
}

/** The page does not scroll sideways (nothing is wider than the screen). */
export async function assertNoSideways(page) {
  const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
  assert.ok(sw <= iw, `page is ${sw}px wide on a ${iw}px screen`);
}

/** A leaf of the category tree whose name is unique (so searching by name finds it first). */
export async function uniqueLeaf(base) {
  const tree = await (await fetch(`${base}/api/v1/categories`)).json();
  const leaves = [];
  const walk = (ns) => ns.forEach((n) => (n.children?.length ? walk(n.children) : leaves.push(n)));
  walk(tree);
  const counts = new Map();
  for (const l of leaves) counts.set(l.name, (counts.get(l.name) ?? 0) + 1);
  return leaves.find((l) => counts.get(l.name) === 1) ?? leaves[0];
}

/**
 * Fills the public request form (`#/submit`, already open): the category `leaf` by search, the
 * district and street, title, text, name and phone. Does not submit.
 */
export async function fillPublicRequest(page, { leaf, district, street, title, text, name, phone }) {
  await page.waitForSelector('[data-testid=public-form]');
  const inp = page.locator('input[name=category_code]');
  await inp.click();
  await inp.fill(leaf.name);
  await page.locator(`li[role=option][data-key="${leaf.code}"]`).click();
  await page.selectOption('select[name=district_code]', district);
  await page.waitForSelector(`select[name=street_code] option[value="${street}"]`, { state: 'attached' });
  await page.selectOption('select[name=street_code]', street);
  await page.fill('input[name=title]', title);
  await page.fill('textarea[name=text]', text);
  await page.fill('input[name="requester.name"]', name);
  await page.fill('input[name="requester.phone"]', phone);
}
