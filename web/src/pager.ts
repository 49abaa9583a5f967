// Long lists a page at a time, with their state in the URL (分页): one helper reads and writes the
// current page's hash query (filters, sort and page, e.g. `#/kb?status=draft&q=居住证&page=3`), so a
// reload, back/forward and a shared link show the same view; one pager component (上一页 / 下一页,
// "第 2 / 17 页，共 1,234 条") that keyboard users can step through without losing their place.

import { button, h } from './dom';
import { lang, t } from './i18n';

/** A value of the hash query; `undefined`, `null`, `''` and `false` leave the parameter out. */
export type QueryValue = string | number | boolean | undefined | null;

/** The query of the current hash (`#/path?query`). */
export function hashQuery(): URLSearchParams {
  const raw = location.hash.replace(/^#/, '');
  const i = raw.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : raw.slice(i + 1));
}

/** The path of the current hash, without its query (`/kb`). */
function hashPath(): string {
  const raw = location.hash.replace(/^#/, '') || '/';
  const i = raw.indexOf('?');
  return i < 0 ? raw : raw.slice(0, i);
}

/**
 * Writes `patch` into the current hash query without re-rendering the page (the page redraws its
 * own list). `push` adds a history entry (a new page: back returns to the one before); `replace`
 * rewrites the current one (typing in a search box). Back and forward re-render from the URL.
 * `page=1` is left out, so the first page has one URL.
 */
export function setHashQuery(patch: Record<string, QueryValue>, mode: 'push' | 'replace' = 'replace'): void {
  const q = hashQuery();
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === null || v === '' || v === false) q.delete(k);
    else q.set(k, String(v));
  }
  if (q.get('page') === '1') q.delete('page');
  const s = q.toString();
  const url = `#${hashPath()}${s ? `?${s}` : ''}`;
  if (url === location.hash) return;
  if (mode === 'push') history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/** The `page` parameter of a query: a whole number from 1 (anything else is page 1). */
export function pageOf(q: URLSearchParams, name = 'page'): number {
  const n = Number(q.get(name) ?? '1');
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** A count in the UI language's digits grouping (1,234). */
export function countText(n: number): string {
  return n.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB');
}

/** Which button of the last pager was pressed: its successor gets the focus back. */
let refocus: 'prev' | 'next' | null = null;

/**
 * The pager of a list: 上一页 / 下一页 around "第 {page} / {pages} 页，共 {total} 条" (announced
 * politely when it changes). `go` gets the page to show; a pager built after a click focuses the
 * same button again (or the other one at either end), so the keyboard stays where it was.
 */
export function pager(page: number, pageSize: number, total: number, go: (p: number) => void, testid = 'pager'): HTMLElement {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const step = (to: number, which: 'prev' | 'next') => () => {
    refocus = which;
    go(to);
  };
  const prev = button(t('prev_page'), { class: 'btn small', 'data-testid': `${testid}-prev`, disabled: page <= 1, onclick: step(page - 1, 'prev') });
  const next = button(t('next_page'), { class: 'btn small', 'data-testid': `${testid}-next`, disabled: page >= pages, onclick: step(page + 1, 'next') });
  const nav = h(
    'nav',
    { class: 'pager', 'aria-label': t('pagination'), 'data-testid': testid, 'data-page': page, 'data-pages': pages, 'data-total': total },
    prev,
    h('span', { class: 'pager-status muted', 'aria-live': 'polite', 'data-testid': `${testid}-status` }, t('page_of', { page: countText(page), pages: countText(pages), total: countText(total) })),
    next,
  );
  if (refocus) {
    const want = refocus === 'next' ? (next.disabled ? prev : next) : prev.disabled ? next : prev;
    refocus = null;
    queueMicrotask(() => {
      if (want.isConnected) want.focus();
    });
  }
  return nav;
}
