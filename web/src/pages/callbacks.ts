// The callback desk (回访台): tickets whose result is in, waiting for the citizen's word.
// Left: the queue; right: the chosen ticket's result and the callback script.

import { api, ApiError, type TicketSummary, type TicketView } from '../api';
import { callbackForm } from '../actions';
import { errorBlock, loadingBlock, pageHeader, statusBadge } from '../components';
import { h, mount } from '../dom';
import { fmtTime } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { loadEnums, rememberList, unitName } from '../store';
import { pager, summaryCategory, warmNames } from './tickets';
import { requestCard } from './ticket';

export async function callbacksPage({ root, route, alive }: PageCtx): Promise<void> {
  rememberList('callbacks_title');
  await loadEnums();
  const list = h('div', { class: 'cb-list' }, loadingBlock());
  const pane = h('div', { class: 'cb-pane' }, h('div', { class: 'card empty-state' }, t('callback_pick')));
  mount(root, pageHeader(t('callbacks_title'), t('callbacks_lead')), h('div', { class: 'split' }, list, pane));
  let items: TicketSummary[] = [];
  let selected: number | null = null;
  let page = Number(route.query.get('page') ?? '1') || 1;
  let total = 0;

  const renderList = () => {
    if (!items.length) return mount(list, h('div', { class: 'card empty-state' }, t('callbacks_empty')));
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
              h('span', { class: 'cb-top' }, h('span', { class: 'ticket-no' }, it.number), h('span', { class: 'muted small' }, fmtTime(it.created_at))),
              h('span', { class: 'cb-title' }, it.title),
              h('span', { class: 'muted small' }, summaryCategory(it), it.lead_unit ? ` · ${it.lead_unit_name ?? unitName(it.lead_unit)}` : ''),
            ),
          ),
        ),
      ),
      pager(page, 20, total, (p) => {
        page = p;
        void load();
      }),
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

  const showTicket = (tk: TicketView) => {
    const canCall = (tk.allowed_actions ?? []).includes('callback');
    mount(
      pane,
      h(
        'div',
        { class: 'stack' },
        h('div', { class: 'cb-head' }, h('a', { class: 'ticket-no', href: `#/tickets/${tk.id}` }, tk.number), ' ', statusBadge(tk.status, tk.status_label)),
        requestCard(tk),
        tk.result_text ? h('section', { class: 'card' }, h('h2', null, t('result_given')), h('p', { class: 'prewrap' }, tk.result_text)) : null,
        canCall
          ? h(
              'section',
              { class: 'card', 'data-testid': 'callback-card' },
              h('h2', null, t('cb_script')),
              callbackForm(tk, (next) => {
                if (next.status !== 'result_submitted') {
                  items = items.filter((i) => i.id !== next.id);
                  total = Math.max(0, total - 1);
                  const nxt = items[0];
                  selected = null;
                  renderList();
                  if (nxt) void pick(nxt.id);
                  else mount(pane, h('div', { class: 'card empty-state' }, t('callbacks_empty')));
                } else {
                  showTicket(next);
                }
              }),
            )
          : h('p', { class: 'muted' }, t('no_actions')),
      ),
    );
  };

  const load = async () => {
    try {
      const res = await api.tickets({ status: 'result_submitted', sort: 'deadline', page, page_size: 20 });
      await warmNames(res.items);
      if (!alive()) return;
      items = res.items;
      total = res.total;
      renderList();
    } catch (e) {
      if (alive()) mount(list, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
    }
  };
  await load();
  // `#/callbacks?ticket=ID` opens that ticket's script at once (links from elsewhere).
  const pre = Number(route.query.get('ticket'));
  if (pre && alive()) void pick(pre);
  else if (items.length && alive()) void pick(items[0].id);
}
