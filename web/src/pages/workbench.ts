// The unit workbench (承办工作台): the unit's active tickets, nearest finish deadline first.

import { api, ApiError, type InboxItem, type TicketSummary } from '../api';
import { errorBlock, loadingBlock, pageHeader, statusBadge } from '../components';
import { h, mount } from '../dom';
import { deadlineClock, dueState, fmtTime } from '../format';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { loadEnums, loadInbox, rememberList, session } from '../store';
import { reminderText } from './ticket';
import { summaryCategory, summaryPlace, warmNames } from './tickets';

/** The finish clock's state of a queue item: the server's `overdue` flag, else due soon by time. */
function dueOf(it: TicketSummary): 'ok' | 'soon' | 'overdue' | 'done' {
  if (it.overdue) return 'overdue';
  if (!it.finish_deadline) return 'ok';
  // the span starts at intake (the summary carries no dispatch time; dispatch follows intake closely)
  const d = dueState(it.finish_deadline, it.created_at);
  return d === 'overdue' ? 'soon' : d;
}

function queueCard(it: TicketSummary, notices: InboxItem[]): HTMLElement {
  const due = dueOf(it);
  const overdueNotice = notices.some((n) => n.overdue);
  return h(
    'li',
    { class: `queue-item due-${due}`, 'data-ticket': it.number, 'data-deadline': it.finish_deadline ?? '' },
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
      h('div', { class: 'queue-clock' }, deadlineClock(it.finish_deadline, { label: t('dl_finish'), state: due === 'overdue' ? 'overdue' : due === 'soon' ? 'due_soon' : 'running' })),
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
      await warmNames(res.items);
      const byTicket = new Map<number, InboxItem[]>();
      for (const n of inbox) byTicket.set(n.ticket_id, [...(byTicket.get(n.ticket_id) ?? []), n]);
      if (!alive()) return;
      const items = res.items;
      const counts = {
        total: res.total,
        toSign: items.filter((i) => i.status === 'dispatched').length,
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
