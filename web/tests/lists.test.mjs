// Long staff lists a page at a time with their state in the URL, and the staff pages on a phone,
// in a real headless Chromium against the real `jiesu` binary (harness.mjs):
//
//   JIESU_BIN=/path/to/jiesu node --test --test-concurrency=1 tests/lists.test.mjs
//
// A city of a few thousand tickets (the demo catalogue's hundreds of rules, the demo knowledge
// base): the callback queue, the knowledge-base list and the catalogue's rules show page 2 unlike
// page 1, keep page, filter and order in the URL through a reload, and back returns to page 1; a bad
// page_size is a 422 in both languages; a supervisor, a callback agent and a street handler on a
// 390×844 phone open the ☰ 菜单 and every page it offers without the page scrolling sideways.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLabelled, assertNoSideways, shot, startCity } from './harness.mjs';

let city;
let base;

before(async () => {
  city = await startCity({
    name: 'lists',
    months: 1,
    scale: 0.002,
    seed: 3,
    users: [
      ['sup1', 'supervisor'],
      ['cb1', 'callback_agent'],
    ],
  });
  ({ base } = city);
});

after(async () => {
  await city?.close();
});

/** The hash query of the page as an object. */
async function hashQuery(page) {
  return page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? '')));
}

/** The list's keys (e.g. ticket numbers), once the list holds rows. */
async function keys(page, rows, attr) {
  await page.waitForSelector(rows);
  return page.locator(rows).evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), attr);
}

/** Waits until the list's keys differ from `before`, and returns them. */
async function keysChange(page, rows, attr, before) {
  await page.waitForFunction(
    ([sel, a, old]) => {
      const now = [...document.querySelectorAll(sel)].map((e) => e.getAttribute(a));
      return now.length > 0 && now.join() !== old.join();
    },
    [rows, attr, before],
  );
  return keys(page, rows, attr);
}

/** The pager's page (from its data attributes). */
async function pagerPage(page, testid) {
  return Number(await page.locator(`[data-testid=${testid}]`).getAttribute('data-page'));
}

/**
 * Page 1 → page 2 (differs, `page=2` in the URL, announced "第 2 / n 页"), reload (same page 2 and
 * the URL's other parameters), back (page 1 again).
 */
async function pagesThrough(page, { rows, attr, pager, keep = {} }) {
  const p1 = await keys(page, rows, attr);
  assert.ok(p1.length > 0, 'page 1 has rows');
  await page.locator(`[data-testid=${pager}-next]`).focus();
  await page.keyboard.press('Enter');
  const p2 = await keysChange(page, rows, attr, p1);
  assert.notDeepEqual(p2, p1, 'page 2 differs from page 1');
  assert.equal(p2.filter((k) => p1.includes(k)).length, 0, 'no row of page 1 on page 2');
  const q = await hashQuery(page);
  assert.equal(q.page, '2', 'the page is in the URL');
  for (const [k, v] of Object.entries(keep)) assert.equal(q[k], v, `${k} stays in the URL`);
  assert.match(await page.textContent(`[data-testid=${pager}-status]`), /第 2 \/ [\d,]+ 页，共 [\d,]+ 条/);
  // the keyboard stays on the pager
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), `${pager}-next`);
  await page.reload();
  assert.deepEqual(await keysChange(page, rows, attr, []), p2, 'a reload shows the same page');
  assert.equal(await pagerPage(page, pager), 2);
  assert.deepEqual(await hashQuery(page), q, 'a reload keeps the URL');
  await page.goBack();
  assert.deepEqual(await keysChange(page, rows, attr, p2), p1, 'back returns to page 1');
  assert.equal((await hashQuery(page)).page, undefined);
  return { p1, p2 };
}

test('the callback queue pages through the URL: page 2, reload, back', async () => {
  const { page, context } = await city.newPage();
  await city.login(page, 'cb1');
  const cb = await city.token('cb1');
  const all = (await city.api('GET', '/api/v1/callbacks/due?page_size=500', undefined, cb)).body;
  assert.ok(all.total > 10, `the queue is long enough to page: ${all.total}`);
  await page.goto(`${base}/#/callbacks?tab=due&page_size=10`);
  const rows = '[data-testid=callback-queue] li[data-ticket]';
  await pagesThrough(page, { rows, attr: 'data-ticket', pager: 'callback-pager', keep: { tab: 'due', page_size: '10' } });
  await assertLabelled(page);
  await shot(page, 'l01-callbacks-paged');
  await context.close();
});

test('the knowledge-base list keeps status, search, order and page in the URL', async () => {
  const { page, context } = await city.newPage();
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/kb`);
  const rows = '[data-testid=kb-list] tr[data-article]';
  await keys(page, rows, 'data-article');
  await page.selectOption('select[name=status]', 'published');
  await page.waitForFunction(() => location.hash.includes('status=published'));
  await pagesThrough(page, { rows, attr: 'data-article', pager: 'kb-pager', keep: { status: 'published' } });
  // the order: latest change first, page 1 again, kept through a reload
  await page.selectOption('select[name=sort]', 'updated');
  await page.waitForFunction(() => location.hash.includes('sort=updated') && !location.hash.includes('page='));
  await page.reload();
  await page.waitForSelector(rows);
  assert.equal(await page.inputValue('select[name=sort]'), 'updated');
  assert.equal(await page.inputValue('select[name=status]'), 'published');
  // a search goes into the URL and survives a reload
  await page.fill('input[name=q]', '供暖');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('q=供暖'));
  await page.waitForFunction(() => !document.querySelector('[data-testid=kb-pager]') && document.querySelectorAll('[data-testid=kb-list] tr[data-article]').length > 0);
  await page.reload();
  await page.waitForSelector(rows);
  assert.equal(await page.inputValue('input[name=q]'), '供暖');
  await assertLabelled(page);
  await shot(page, 'l02-kb-search');
  await context.close();
});

test('the catalogue keeps search, tier and page in the URL; a shared link shows the same rules', async () => {
  const { page, context } = await city.newPage();
  await city.login(page, 'sup1');
  await page.goto(`${base}/#/catalogue`);
  const rows = '[data-testid=rules-table] tr[data-rule]';
  await keys(page, rows, 'data-rule');
  await page.selectOption('select[name=tier]', '24h');
  await page.waitForFunction(() => location.hash.includes('tier=24h'));
  const { p2 } = await pagesThrough(page, { rows, attr: 'data-rule', pager: 'rules-pager', keep: { tier: '24h' } });
  // a link to page 2 opened in another browser shows the same rules
  const other = await city.newPage();
  await city.login(other.page, 'sup1');
  await other.page.goto(`${base}/#/catalogue?tier=24h&page=2`);
  assert.deepEqual(await keysChange(other.page, rows, 'data-rule', []), p2);
  assert.equal(await other.page.inputValue('select[name=tier]'), '24h');
  await other.context.close();
  // search by the category's name
  await page.goto(`${base}/#/catalogue?q=${encodeURIComponent('供暖')}`);
  await page.waitForSelector(rows);
  assert.equal(await page.inputValue('[data-testid=rule-search]'), '供暖');
  const texts = await page.locator(rows).allTextContents();
  assert.ok(texts.length > 0 && texts.every((x) => x.includes('供暖')), 'every rule found is about 供暖');
  await assertLabelled(page);
  await shot(page, 'l03-catalogue-search');
  await page.goto(`${base}/#/catalogue?tier=24h&page=3`);
  await page.waitForSelector(rows);
  await shot(page, 'l04-catalogue-page3');
  await context.close();
});

test('a bad page or page_size is a 422 problem in both languages; a page past the end is empty', async () => {
  const sup = await city.token('sup1');
  for (const path of ['/api/v1/callbacks/due', '/api/v1/kb/articles', '/api/v1/catalogue/drafts/published/rules']) {
    for (const [q, field] of [
      ['page_size=0', 'page_size'],
      ['page_size=100000', 'page_size'],
      ['page=abc', 'page'],
    ]) {
      const { status, body } = await city.api('GET', `${path}?${q}`, undefined, sup);
      assert.equal(status, 422, `${path}?${q}`);
      assert.equal(body.field, field);
      assert.ok(body.detail && body.detail_zh, 'English and Chinese');
    }
    const { status, body } = await city.api('GET', `${path}?page=9999`, undefined, sup);
    assert.equal(status, 200);
    assert.equal((body.items ?? body.rules).length, 0);
    assert.ok(body.total > 0, `${path}: the total comes with an empty page`);
  }
});

/** Waits until the page has loaded its data (no loading indicator left). */
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  await page.waitForTimeout(200);
}

/** A street handler of a street that leads tickets of the generated city (added on first use). */
let handler = null;
async function streetHandler() {
  if (handler) return handler;
  const sup = await city.token('sup1');
  const list = (await city.api('GET', '/api/v1/tickets?page_size=100', undefined, sup)).body;
  const street = list.items.map((t) => t.lead_unit).find((u) => /^\d{9}$/.test(u ?? ''));
  assert.ok(street, 'a street leads a ticket');
  city.addUser('h2', 'unit_handler', street);
  handler = 'h2';
  return handler;
}

for (const [who, name] of [
  ['sup1', 'supervisor'],
  ['cb1', 'callback'],
  [streetHandler, 'handler'],
]) {
  test(`a ${name} on a phone opens the ☰ menu, and no page it offers scrolls sideways`, async () => {
    const user = typeof who === 'string' ? who : await who();
    const { page, context } = await city.newPage({ mobile: true });
    await city.login(page, user);
    await settled(page);
    const toggle = page.locator('[data-testid=staff-menu]');
    assert.ok(await toggle.isVisible(), 'the ☰ 菜单 button shows on a phone');
    assert.match(await toggle.textContent(), /菜单/);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('[data-testid=staff-menu-links]').isVisible(), false, 'the menu starts closed');
    await assertNoSideways(page);
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    const links = page.locator('[data-testid=staff-menu-links] a');
    await links.first().waitFor();
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.length >= 3, `the menu offers the user's pages: ${hrefs}`);
    await shot(page, `l10-${name}-menu-open`);
    // Escape closes it and gives the focus back to the button
    await page.keyboard.press('Escape');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'staff-menu');
    // every page of the menu, reached through the menu
    for (const href of hrefs) {
      await page.locator('[data-testid=staff-menu]').click();
      await page.locator(`[data-testid=staff-menu-links] a[href="${href}"]`).click();
      await page.waitForFunction((h) => location.hash === h, href);
      assert.equal(await page.locator('[data-testid=staff-menu]').getAttribute('aria-expanded'), 'false', 'a tap on a page closes the menu');
      await settled(page);
      await assertNoSideways(page).catch((e) => assert.fail(`${href}: ${e.message}`));
      await shot(page, `l11-${name}-${href.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}`);
    }
    // a ticket the user may see
    const tok = await city.token(user);
    const list = (await city.api('GET', '/api/v1/tickets?page_size=1', undefined, tok)).body;
    assert.ok(list.items.length, 'the user sees tickets');
    await page.goto(`${base}/#/tickets/${list.items[0].id}`);
    await settled(page);
    await assertNoSideways(page).catch((e) => assert.fail(`ticket page: ${e.message}`));
    await shot(page, `l12-${name}-ticket`);
    await context.close();
  });
}

test('the staff menu stays inline and uncut at 1366 px', async () => {
  const { page, context } = await city.newPage();
  await city.login(page, 'sup1');
  await settled(page);
  assert.equal(await page.locator('[data-testid=staff-menu]').isVisible(), false, 'no ☰ button on a desktop');
  const cut = await page.evaluate(() => {
    const nav = document.querySelector('.staff-nav');
    return nav ? nav.scrollWidth - nav.clientWidth : -1;
  });
  assert.ok(cut <= 0, `the menu's links fit (${cut}px cut off)`);
  await assertNoSideways(page);
  await shot(page, 'l20-desktop-overview');
  await context.close();
});

test('in English at 1366 px the links that do not fit are behind More, each page one click away', async () => {
  const { page, context } = await city.newPage();
  await city.login(page, 'sup1');
  await settled(page);
  const inline = await page.locator('.staff-menu-links a').count();
  await page.getByRole('button', { name: 'English' }).click();
  await page.waitForSelector('[data-testid=staff-menu-more]:visible');
  const cut = await page.evaluate(() => {
    const nav = document.querySelector('.staff-nav');
    return nav.scrollWidth - nav.clientWidth;
  });
  assert.ok(cut <= 0, `nothing cut off (${cut}px)`);
  const shown = await page.locator('.staff-menu-links a').count();
  const behind = await page.locator('[data-testid=staff-menu-more-list] a').count();
  assert.ok(behind > 0 && shown > 0, `${shown} inline, ${behind} behind More`);
  assert.equal(shown + behind, inline, 'every page is in the menu once');
  await assertNoSideways(page);
  // the last page of the menu, through More; More is then marked as holding the current page
  await page.click('[data-testid=staff-menu-more]');
  await shot(page, 'l21-desktop-more-en');
  await page.locator('[data-testid=staff-menu-more-list] a').last().click();
  await page.waitForURL(/#\/scores/);
  assert.equal(await page.locator('[data-testid=staff-menu-more-list]').isVisible(), false, 'the list closes');
  assert.match((await page.locator('[data-testid=staff-menu-more]').getAttribute('class')) ?? '', /active/);
  // back in Chinese everything fits again
  await page.getByRole('button', { name: /中文/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=staff-menu-more-list] a').length === 0);
  await context.close();
});
