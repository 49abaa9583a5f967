// The unit inbox (催办消息): the scheduler's reminders and overdue notices for the unit's
// tickets, grouped by ticket, newest first, each linking to its ticket. Visiting marks them read.

import { api, ApiError, type InboxItem, type TicketSummary } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { h, mount } from '../dom';
import { fmtTime, remaining, useServerTime } from '../format';
import { lang, t, tMaybe } from '../i18n';
import type { PageCtx } from '../page';
import { inboxSeen, loadInbox, markInboxSeen, rememberList, unitName } from '../store';
import { inboxTabs } from './reports-inbox';

interface Group {
  ticket_id: number;
  number: string;
  latest: string;
  overdue: boolean;
  items: InboxItem[];
  unread: boolean;
}

export function groupInbox(items: InboxItem[], seen: string): Group[] {
  const by = new Map<number, Group>();
  for (const it of items) {
    let g = by.get(it.ticket_id);
    if (!g) {
      g = { ticket_id: it.ticket_id, number: it.number, latest: it.at, overdue: false, items: [], unread: false };
      by.set(it.ticket_id, g);
    }
    g.items.push(it);
    if (it.at > g.latest) g.latest = it.at;
    if (it.overdue) g.overdue = true;
    if (!seen || it.at > seen) g.unread = true;
  }
  return [...by.values()].sort((a, b) => (a.latest < b.latest ? 1 : a.latest > b.latest ? -1 : 0));
}

function groupLabel(g: Group): string {
  const it = g.items.find((i) => i.overdue) ?? g.items[0];
  if (it.kind === 'urged') return lang() === 'zh' ? (it.label_zh ?? '督办催办') : t('inbox_urged');
  if (lang() === 'zh') return it.label_zh ?? (g.overdue ? '超时' : '催办提醒');
  return g.overdue ? t('tag_overdue_notice') : t('tag_reminded');
}

function itemUnit(it: InboxItem): string {
  return it.actor?.unit_name || unitName(it.unit);
}

function noticeChip(it: InboxItem): HTMLElement {
  // 督办催办 from the centre: the note, with who sent it
  if (it.kind === 'urged') {
    const by = it.actor?.user ?? '';
    return h('span', { class: 'notice-chip urged', title: `${fmtTime(it.at)} · ${by}`, 'data-kind': 'urged' }, `${t('inbox_urged')} · ${it.note ?? ''}`);
  }
  const clock = tMaybe(`clock_${it.clock}`) ?? it.clock;
  const text = it.overdue ? `${clock} · ${t('inbox_overdue')}` : `${clock} · ${Math.round(it.permille / 10)}%`;
  return h('span', { class: `notice-chip ${it.overdue ? 'overdue' : it.permille >= 800 ? 'soon' : 'info'}`, title: `${fmtTime(it.at)} · ${itemUnit(it)}`, 'data-clock': it.clock, 'data-permille': it.permille }, text);
}

export async function inboxPage({ root, alive, route }: PageCtx): Promise<void> {
  rememberList('inbox_title');
  const onlyOverdue = route.query.get('overdue') === 'true';
  const body = h('div', null, loadingBlock());
  const filters = h(
    'nav',
    { class: 'tabs', 'aria-label': t('filters') },
    h('a', { href: '#/inbox', class: onlyOverdue ? null : 'active', 'aria-current': onlyOverdue ? null : 'page' }, t('inbox_filter_all')),
    h('a', { href: '#/inbox?overdue=true', class: onlyOverdue ? 'active' : null, 'aria-current': onlyOverdue ? 'page' : null }, t('inbox_filter_overdue')),
  );
  mount(root, pageHeader(t('inbox_title'), t('inbox_lead')), inboxTabs('reminders'), filters, body);
  try {
    const seen = inboxSeen();
    // titles: the unit's active queue has most of them (the inbox items carry only the number)
    const [items, queue] = await Promise.all([loadInbox(true), api.tickets({ mine: true, page_size: 100 }).catch(() => null)]);
    if (!alive()) return;
    if (queue) useServerTime(queue.at);
    const titles = new Map<number, TicketSummary>((queue?.items ?? []).map((x) => [x.id, x]));
    const groups = groupInbox(onlyOverdue ? items.filter((i) => i.overdue) : items, seen);
    const newest = items.reduce((m, i) => (i.at > m ? i.at : m), '');
    markInboxSeen(newest);
    document.querySelectorAll('[data-testid=inbox-badge]').forEach((b) => b.remove());
    if (!groups.length) {
      mount(body, h('div', { class: 'card empty-state', 'data-testid': 'inbox-empty' }, t('inbox_empty')));
      return;
    }
    const unread = groups.filter((g) => g.unread).length;
    mount(
      body,
      unread ? h('p', { class: 'muted small' }, t('inbox_new', { n: items.filter((i) => !seen || i.at > seen).length })) : null,
      h(
        'ol',
        { class: 'inbox', 'data-testid': 'inbox' },
        groups.map((g) => {
          const tk = titles.get(g.ticket_id);
          return h(
            'li',
            { class: `inbox-item ${g.overdue ? 'overdue' : ''} ${g.unread ? 'unread' : ''}`, 'data-ticket': g.number },
            h(
              'a',
              { href: `#/tickets/${g.ticket_id}`, class: 'inbox-link' },
              h('span', { class: 'inbox-icon', 'aria-hidden': 'true' }, g.overdue ? '!' : '⏰'),
              h(
                'div',
                { class: 'inbox-main' },
                h(
                  'div',
                  { class: 'inbox-top' },
                  h('span', { class: 'ticket-no' }, g.number),
                  h('span', { class: `badge ${g.overdue ? 'warn overdue-badge' : 'info'}` }, groupLabel(g)),
                  g.unread ? h('span', { class: 'dot-new', title: t('inbox_new', { n: 1 }) }) : null,
                ),
                tk ? h('div', { class: 'inbox-title' }, tk.title) : null,
                // the clock running out first now (the same wording as the workbench)
                tk?.next_clock
                  ? h('div', { class: `small inbox-next ${tk.next_clock.state}`, 'data-testid': 'inbox-next', 'data-clock': tk.next_clock.clock }, `${t(tk.next_clock.clock === 'sign' ? 'dl_sign' : tk.next_clock.clock === 'respond' ? 'dl_respond' : 'dl_finish')} · ${remaining(tk.next_clock.due)}`)
                  : null,
                h('div', { class: 'notice-chips' }, [...g.items].sort((a, b) => (a.at < b.at ? -1 : 1)).map(noticeChip)),
              ),
              h('div', { class: 'inbox-meta small muted' }, h('time', { datetime: g.latest }, fmtTime(g.latest)), h('div', null, itemUnit(g.items[0]))),
            ),
          );
        }),
      ),
    );
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e)));
  }
}

