// The unit workbench (承办工作台): the unit's active tickets, the nearest running deadline first
// (the sign clock until signed, the respond clock until responded, else the finish clock).

import { api, ApiError, type InboxItem, type TicketSummary } from '../api';
import { errorBlock, loadingBlock, pageHeader, statusBadge } from '../components';
import { h, mount } from '../dom';
import { deadlineClock, fmtTime, useServerTime } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { loadEnums, loadInbox, rememberList, session } from '../store';
import { reminderText } from './ticket';
import { summaryCategory, summaryPlace, warmNames } from './tickets';

type Due = 'ok' | 'soon' | 'overdue';

/** The card's clock: the unit's next running clock as the server lists it (which clock, due, its
 * state by the deadline policy over the span from dispatch), else the lead's finish deadline with
 * the server's `overdue` flag (never "due soon" without the clock's start). */
function clockOf(it: TicketSummary): { label: string; due: string | null; state: string; kind: string } {
  const n = it.next_clock;
  if (n) return { label: t(n.clock === 'sign' ? 'dl_sign' : n.clock === 'respond' ? 'dl_respond' : 'dl_finish'), due: n.due, state: n.state, kind: n.clock };
  return { label: t('dl_finish'), due: it.finish_deadline ?? null, state: it.overdue ? 'overdue' : 'running', kind: 'finish' };
}

function dueOf(it: TicketSummary): Due {
  const s = clockOf(it).state;
  return s === 'overdue' ? 'overdue' : s === 'due_soon' ? 'soon' : 'ok';
}

function queueCard(it: TicketSummary, notices: InboxItem[]): HTMLElement {
  const due = dueOf(it);
  const clock = clockOf(it);
  const overdueNotice = notices.some((n) => n.overdue);
  return h(
    'li',
    { class: `queue-item due-${due}`, 'data-ticket': it.number, 'data-deadline': clock.due ?? '', 'data-clock': clock.kind, 'data-state': clock.state },
    h(
      'a',
      { href: `#/tickets/${it.id}`, class: 'queue-link' },
      h(
        'div',
        { class: 'queue-main' },
        h(
          'div',
          { class: 'queue-top' },
          h('span', { class: 'ticket-no' }, it.number),
          statusBadge(it.status, it.status_label),
          notices.length
            ? h(
                'span',
                { class: `badge ${overdueNotice ? 'warn overdue-badge' : 'info'}`, 'data-testid': 'reminded', title: notices.map((n) => `${fmtTime(n.at)} ${reminderText(n as unknown as Record<string, unknown>)}`).join('\n') },
                overdueNotice ? t('tag_overdue_notice') : t('tag_reminded'),
                !overdueNotice && notices.length > 1 ? ` ×${notices.length}` : '',
              )
            : null,
        ),
        h('div', { class: 'queue-title' }, it.title),
        h(
          'div',
          { class: 'queue-meta muted small' },
          summaryCategory(it),
          ' · ',
          summaryPlace(it),
          ' · ',
          fmtTime(it.created_at),
        ),
      ),
      h('div', { class: 'queue-clock' }, deadlineClock(clock.due, { label: clock.label, state: clock.state })),
    ),
  );
}

export async function workbenchPage({ root, alive, onCleanup }: PageCtx): Promise<void> {
  const user = session.user!;
  rememberList('workbench_title');
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('workbench_title'), t('workbench_lead'), h('span', { class: 'unit-pill' }, user.unit_name || user.unit_code || '')), body);

  const load = async () => {
    try {
      await loadEnums();
      const [res, inbox] = await Promise.all([api.tickets({ mine: true, sort: 'deadline', page: 1, page_size: 100 }), loadInbox(true).catch(() => [] as InboxItem[])]);
      useServerTime(res.at);
      await warmNames(res.items);
      const byTicket = new Map<number, InboxItem[]>();
      for (const n of inbox) byTicket.set(n.ticket_id, [...(byTicket.get(n.ticket_id) ?? []), n]);
      if (!alive()) return;
      const items = res.items;
      const counts = {
        total: res.total,
        toSign: items.filter((i) => (i.next_clock ? i.next_clock.clock === 'sign' : i.status === 'dispatched')).length,
        soon: items.filter((i) => dueOf(i) === 'soon').length,
        overdue: items.filter((i) => dueOf(i) === 'overdue').length,
      };
      const stat = (label: string, n: number, tone: string) =>
        h('div', { class: `stat ${tone}` }, h('span', { class: 'stat-n' }, String(n)), h('span', { class: 'stat-l' }, label));
      mount(
        body,
        h(
          'div',
          { class: 'stats' },
          stat(t('stat_total'), counts.total, ''),
          stat(t('stat_to_sign'), counts.toSign, 'info'),
          stat(t('stat_soon'), counts.soon, 'soon'),
          stat(t('stat_overdue'), counts.overdue, 'overdue'),
        ),
        items.length === 0
          ? h('div', { class: 'card empty-state' }, t('queue_empty'))
          : h('ol', { class: 'queue', 'data-testid': 'queue', 'aria-label': t('workbench_title') }, items.map((i) => queueCard(i, byTicket.get(i.id) ?? []))),
      );
    } catch (e) {
      if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
    }
  };
  await load();
  const timer = setInterval(() => void load(), 60_000);
  onCleanup(() => clearInterval(timer));
}
