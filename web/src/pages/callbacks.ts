// The callback desk (回访台), three tabs:
// - 待回访: the queue (results submitted, then open tickets past their deadline) with unreachable
//   attempts (N of max; at max the ticket may be closed), the chosen ticket's result, the callback
//   script, and the citizen's self-rating link (issue, see, copy);
// - 待审核重办: tickets called back as 未解决 that wait for the reviewer's reopen (重办) decision;
// - 抽样复核 (supervisor, admin): the re-check sample and its verdicts (recheck.ts).

import { api, ApiError, type TicketView } from '../api';
import { actionLabel, callbackForm } from '../actions';
import { cbApi, type DueItem, type UnresolvedItem } from '../callback-api';
import { errorBlock, loadingBlock, pageHeader, statusBadge } from '../components';
import { button, h, input, mount, toast } from '../dom';
import { fmtTime } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { hashQuery, pageOf, pager, setHashQuery } from '../pager';
import { href } from '../router';
import { can, categoryPathText, enumLabel, loadActions, loadCategories, loadEnums, rememberList, unitName } from '../store';
import { requestCard } from './ticket';
import { recheckPanel } from './recheck';
import '../styles/pages/scorecard-drill.css';

type Tab = 'queue' | 'unresolved' | 'recheck';

export async function callbacksPage(ctx: PageCtx): Promise<void> {
  const { root, route } = ctx;
  rememberList('callbacks_title');
  await Promise.all([loadEnums(), loadActions()]);
  const mayRecheck = can('recheck');
  const asked = route.query.get('tab');
  // `tab=due` (or none) is the queue
  const tab: Tab = asked === 'unresolved' ? 'unresolved' : asked === 'recheck' && mayRecheck ? 'recheck' : 'queue';
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': t('callbacks_title') },
    (['queue', 'unresolved', ...(mayRecheck ? ['recheck'] : [])] as Tab[]).map((x) =>
      h('a', { href: href('/callbacks', { tab: x === 'queue' ? undefined : x }), class: x === tab ? 'active' : null, 'aria-current': x === tab ? 'page' : null, 'data-tab': x }, t(`cb_tab_${x}`)),
    ),
  );
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('callbacks_title'), t('callbacks_lead')), tabs, body);
  if (tab === 'unresolved') return unresolvedTab(ctx, body);
  if (tab === 'recheck') return recheckPanel(ctx, body);
  return queueTab(ctx, body);
}

/** Attempts so far, and whether the ticket may now be closed as unreachable. */
function attemptsBadge(n: number, max: number): HTMLElement | null {
  if (!n) return null;
  return h('span', { class: `badge ${n >= max ? 'warn' : 'muted'}`, 'data-testid': 'cb-attempts', 'data-attempts': n, title: n >= max ? t('cb_attempts_max', { max }) : undefined }, t('cb_attempts', { n, max }));
}

async function queueTab({ route, alive }: PageCtx, body: HTMLElement): Promise<void> {
  const notice = h('div', { 'aria-live': 'polite' });
  const list = h('div', { class: 'cb-list' }, loadingBlock());
  const pagerBox = h('div', { class: 'cb-pager' });
  const pane = h('div', { class: 'cb-pane' }, h('div', { class: 'card empty-state' }, t('callback_pick')));
  mount(body, notice, h('div', { class: 'split' }, h('div', { class: 'cb-col' }, list, pagerBox), pane));
  let items: DueItem[] = [];
  let selected: number | null = null;
  // the queue a page at a time (`page` in the URL); the server sends the total
  let page = pageOf(route.query);
  // a shorter page on request (`page_size` in the URL; the server checks it)
  const askedSize = Number(route.query.get('page_size')) || undefined;
  let pageSize = askedSize ?? 50;
  let total = 0;

  const renderPager = () =>
    mount(
      pagerBox,
      total > pageSize || page > 1
        ? pager(page, pageSize, total, (p) => {
            setHashQuery({ page: p }, 'push');
            void loadPage(p);
          }, 'callback-pager')
        : null,
    );

  const renderList = () => {
    renderPager();
    if (!items.length) return mount(list, h('div', { class: 'card empty-state' }, page > 1 && total ? t('list_page_empty') : t('callbacks_empty')));
    mount(
      list,
      h(
        'ul',
        { class: 'cb-items', 'data-testid': 'callback-queue' },
        items.map((it) =>
          h(
            'li',
            { class: selected === it.id ? 'selected' : null, 'data-ticket': it.number },
            h(
              'button',
              { type: 'button', class: 'cb-item', 'aria-pressed': String(selected === it.id), onclick: () => void pick(it.id) },
              h('span', { class: 'cb-top' }, h('span', { class: 'ticket-no' }, it.number), it.finish_deadline ? h('span', { class: 'muted small' }, fmtTime(it.finish_deadline)) : null),
              h('span', { class: 'cb-title' }, it.title),
              h(
                'span',
                { class: 'muted small' },
                it.lead_unit ? (it.lead_unit_name ?? unitName(it.lead_unit)) : '',
                ' ',
                it.reason === 'deadline_passed' ? h('span', { class: 'badge warn' }, t('cb_reason_overdue')) : null,
                ' ',
                attemptsBadge(it.unreachable_attempts, it.max_attempts),
              ),
            ),
          ),
        ),
      ),
    );
  };

  const pick = async (id: number) => {
    selected = id;
    renderList();
    mount(pane, loadingBlock());
    try {
      const tk = await api.ticket(id);
      if (!alive() || selected !== id) return;
      showTicket(tk);
    } catch (e) {
      if (alive()) mount(pane, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
    }
  };

  /** After a callback that leaves the queue: an unresolved answer leads the reviewer to 重办. */
  const afterCallback = (next: TicketView) => {
    const last = next.callbacks?.[next.callbacks.length - 1];
    if (last?.outcome.outcome === 'reached' && last.outcome.resolution === 'unresolved') {
      mount(
        notice,
        h(
          'div',
          { class: 'alert warn', 'data-testid': 'cb-unresolved-notice', 'data-ticket': next.number },
          h('strong', { class: 'mono' }, next.number),
          ' ',
          t('cb_unresolved_banner'),
          ' ',
          h('a', { href: `#/tickets/${next.id}`, 'data-testid': 'cb-review-reopen' }, t('cb_review_reopen')),
        ),
      );
    } else mount(notice);
    if (items.some((i) => i.id === next.id)) total = Math.max(0, total - 1);
    items = items.filter((i) => i.id !== next.id);
    const nxt = items[0];
    selected = null;
    renderList();
    if (nxt) void pick(nxt.id);
    else mount(pane, h('div', { class: 'card empty-state' }, t('callbacks_empty')));
  };

  const showTicket = (tk: TicketView) => {
    const allowed = tk.allowed_actions ?? [];
    const canCall = allowed.includes('callback');
    const due = items.find((i) => i.id === tk.id);
    const attempts = (tk.callbacks ?? []).filter((c) => c.round === ((tk as TicketView & { round?: number }).round ?? 0) && c.outcome.outcome === 'unreachable').length;
    const max = due?.max_attempts ?? 3;
    mount(
      pane,
      h(
        'div',
        { class: 'stack' },
        h('div', { class: 'cb-head' }, h('a', { class: 'ticket-no', href: `#/tickets/${tk.id}` }, tk.number), ' ', statusBadge(tk.status, tk.status_label), ' ', attemptsBadge(attempts, max)),
        attempts >= max
          ? h('div', { class: 'alert warn', 'data-testid': 'cb-max-attempts' }, t('cb_attempts_max', { max }), ' ', allowed.includes('close') ? h('a', { href: `#/tickets/${tk.id}` }, `${actionLabel('close')} →`) : null)
          : null,
        requestCard(tk),
        tk.result_text ? h('section', { class: 'card' }, h('h2', null, t('result_given')), h('p', { class: 'prewrap' }, tk.result_text)) : null,
        tk.status === 'result_submitted' ? ratingLinkCard(tk) : null,
        canCall
          ? h(
              'section',
              { class: 'card', 'data-testid': 'callback-card' },
              h('h2', null, t('cb_script')),
              callbackForm(tk, (next) => {
                if (next.status !== 'result_submitted') afterCallback(next);
                else {
                  // an unreachable attempt: the ticket stays, with one more attempt counted
                  const it = items.find((i) => i.id === next.id);
                  if (it) it.unreachable_attempts += 1;
                  renderList();
                  showTicket(next);
                }
              }),
            )
          : h('p', { class: 'muted' }, t('no_actions')),
      ),
    );
  };

  /** Shows page `p` of the queue; false when it could not be read. */
  const loadPage = async (p: number): Promise<boolean> => {
    mount(list, loadingBlock());
    try {
      const res = await cbApi.due({ page: p, page_size: askedSize });
      // a newer page was asked for meanwhile, or the user left
      if (!alive() || pageOf(hashQuery()) !== p) return false;
      page = res.page;
      pageSize = res.page_size;
      total = res.total;
      items = res.items;
      renderList();
      return true;
    } catch (e) {
      if (alive()) mount(list, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void loadPage(p)));
      return false;
    }
  };
  if (!(await loadPage(page))) return;
  // `#/callbacks?ticket=ID` opens that ticket's script at once (links from elsewhere).
  const pre = Number(route.query.get('ticket'));
  if (pre && alive()) void pick(pre);
  else if (items.length && alive()) void pick(items[0].id);
}

/** The self-rating link: issued on demand, shown in full and copyable. */
function ratingLinkCard(tk: TicketView): HTMLElement {
  const box = h('div', { class: 'stack' });
  const issue = button(t('cb_link_issue'), {
    class: 'btn',
    'data-testid': 'rating-link-issue',
    onclick: async () => {
      issue.disabled = true;
      try {
        const link = await cbApi.ratingLink(tk.id);
        const url = `${location.origin}${location.pathname}${link.url.replace(/^\//, '')}`;
        const field = input('rating_link', { value: url, readonly: true, class: 'mono', 'aria-label': t('cb_link_title'), 'data-testid': 'rating-link' });
        const copy = button(t('cb_link_copy'), {
          class: 'btn small',
          'data-testid': 'rating-link-copy',
          onclick: async () => {
            field.select();
            try {
              await navigator.clipboard.writeText(url);
            } catch {
              document.execCommand('copy');
            }
            toast(t('cb_link_copied'));
          },
        });
        mount(box, h('div', { class: 'link-row' }, field, copy), h('p', { class: 'muted small' }, t('cb_link_expires', { at: fmtTime(link.expires_at) })));
      } catch (e) {
        mount(box, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
        issue.disabled = false;
      }
    },
  });
  return h('section', { class: 'card', 'data-testid': 'rating-link-card' }, h('h2', null, t('cb_link_title')), h('p', { class: 'muted small' }, t('cb_link_lead')), issue, box);
}

async function unresolvedTab({ alive }: PageCtx, body: HTMLElement): Promise<void> {
  let items: UnresolvedItem[];
  try {
    [items] = await Promise.all([cbApi.unresolved().then((r) => r.items), loadCategories().catch(() => null)]);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
    return;
  }
  if (!alive()) return;
  mount(
    body,
    h('p', { class: 'muted' }, t('cb_unresolved_lead')),
    items.length
      ? h(
          'section',
          { class: 'card flush' },
          h(
            'table',
            { class: 'table', 'data-testid': 'unresolved-list' },
            h('thead', null, h('tr', null, [t('sc_dr_number'), t('title'), t('sc_dr_category'), t('sc_dr_unit'), t('cb_satisfaction'), t('cb_called_back')].map((x) => h('th', { scope: 'col' }, x)))),
            h(
              'tbody',
              null,
              items.map((it) =>
                h(
                  'tr',
                  { 'data-ticket': it.number },
                  h('td', null, h('a', { class: 'ticket-no', href: `#/tickets/${it.id}` }, it.number), it.round ? h('span', { class: 'badge muted small' }, t('sc_dr_reopened', { n: it.round })) : null),
                  h('td', null, it.title),
                  h('td', { class: 'small' }, categoryPathText(it.category_code)),
                  h('td', null, it.lead_unit ? (it.lead_unit_name ?? unitName(it.lead_unit)) : '—'),
                  h('td', null, it.satisfaction ? enumLabel('satisfactions', it.satisfaction) : '—'),
                  h('td', { class: 'small' }, fmtTime(it.callback_at)),
                ),
              ),
            ),
          ),
        )
      : h('div', { class: 'card empty-state' }, t('cb_unresolved_empty')),
  );
}
