// Ticket detail: the request, its assignments with their deadline clocks, the results and
// callbacks, the actions the caller may take now, and the full timeline of events.

import { riskBanner } from '../risk';
import { api, ApiError, type AssignmentView, type DeadlineSet, type EventView, type TicketView } from '../api';
import { actionLabel, actionsPanel, type TransferView } from '../actions';
import { errorBlock, loadingBlock, statusBadge, timeline, type TimelineItem } from '../components';
import { button, h, mount, toast, type Child } from '../dom';
import { deadlineClock, fmtDuration, fmtTime, pathText } from '../format';
import { lang, t, tMaybe } from '../i18n';
import type { PageCtx } from '../page';
import { can, enumLabel, lastList, loadActions, loadEnums, rememberUnit, unitName } from '../store';

function dl(label: string, value: Child): Child {
  return [h('dt', null, label), h('dd', null, value)];
}

export function eventTitle(kind: string, labelZh?: string): string {
  if (lang() === 'zh') return labelZh ?? tMaybe(`ev.${kind}`) ?? kind;
  return tMaybe(`ev.${kind}`) ?? labelZh ?? kind;
}

/** The lead's tier of a `dispatched` event, if it has a lead. */
function leadTier(e: EventView): string | undefined {
  const as = (Array.isArray(e.assignments) ? e.assignments : []) as { role?: string; tier?: string }[];
  return as.find((a) => a.role === 'lead')?.tier;
}

/** The details of one event, from its payload fields; `prevTier` is the lead tier of the previous
 * dispatch, so a re-dispatch under another tier says so instead of changing it silently. */
function eventBody(e: EventView, prevTier?: string): Child {
  const s = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : '');
  const u = (k: string) => unitName(s(k));
  switch (e.kind) {
    case 'created': {
      const intake = (e.intake ?? {}) as Record<string, unknown>;
      return [enumLabel('channels', String(intake.channel ?? '')), ' · ', enumLabel('types', String(intake.type ?? ''))];
    }
    case 'answered_directly':
      return h('div', { class: 'quote' }, s('answer'));
    case 'special_handled':
      return [enumLabel('special_handlings', s('handling')), s('note') ? h('div', { class: 'quote' }, s('note')) : null];
    case 'dispatched': {
      const as = (Array.isArray(e.assignments) ? e.assignments : []) as { unit?: string; unit_code?: string; unit_name?: string; role?: string; tier?: string; deadlines?: { finish?: string } }[];
      return [
        h(
          'ul',
          { class: 'plain' },
          as.map((a) =>
            h(
              'li',
              null,
              h('strong', null, a.unit_name ?? unitName(a.unit ?? a.unit_code ?? '')),
              ` · ${enumLabel('roles_in_assignment', a.role ?? '')}`,
              a.tier ? ` · ${enumLabel('tiers', a.tier)}` : '',
              a.deadlines?.finish ? ` · ${t('dl_finish')} ${fmtTime(a.deadlines.finish)}` : '',
            ),
          ),
        ),
        prevTier && leadTier(e) && leadTier(e) !== prevTier
          ? h('div', { class: 'tag warn', 'data-testid': 'tier-changed' }, t('tier_changed', { from: enumLabel('tiers', prevTier), to: enumLabel('tiers', leadTier(e) ?? '') }))
          : null,
        s('note') ? h('div', { class: 'quote' }, s('note')) : null,
        s('rule') ? h('div', { class: 'muted small', 'data-rule': s('rule') }, t('sg_dispatched_by_rule', { rule: s('rule') })) : null,
      ];
    }
    case 'reminded':
      return reminderText(e);
    case 'signed':
      return u('unit');
    case 'responded':
      return [u('unit'), s('note') ? h('div', { class: 'quote' }, s('note')) : null];
    case 'note_added':
      return [h('div', { class: 'quote' }, s('text')), e.public ? h('span', { class: 'tag' }, t('f_public')) : null];
    case 'whistled': {
      const summoned = (Array.isArray(e.summoned) ? e.summoned : []) as string[];
      return [summoned.map(unitName).join('、'), h('div', { class: 'quote' }, s('reason'))];
    }
    case 'reported_in':
      return u('unit');
    case 'return_requested':
      return [u('unit'), ' · ', enumLabel('return_reasons', s('reason')), h('div', { class: 'quote' }, s('text'))];
    case 'return_reviewed':
    case 'extension_reviewed':
      return [u('unit'), ' · ', e.approved ? t('ev_approved') : t('ev_rejected'), s('note') ? h('div', { class: 'quote' }, s('note')) : null];
    case 'extension_requested':
      return [u('unit'), ' · ', t('f_until'), ' ', fmtTime(s('until')), h('div', { class: 'quote' }, s('reason'))];
    case 'escalated':
      return [enumLabel('escalation_levels', s('level')), s('to_unit') ? ` · ${u('to_unit')}` : '', h('div', { class: 'quote' }, s('reason'))];
    case 'result_submitted':
      return [u('unit'), h('div', { class: 'quote' }, s('text'))];
    case 'callback_recorded': {
      const o = (e.outcome ?? {}) as Record<string, unknown>;
      if (o.outcome === 'unreachable') return [t('cb_unreachable'), o.note ? h('div', { class: 'quote' }, String(o.note)) : null];
      return [
        [enumLabel('resolutions', String(o.resolution ?? '')), enumLabel('satisfactions', String(o.satisfaction ?? '')), o.attitude ? enumLabel('attitudes', String(o.attitude)) : ''].filter(Boolean).join(' · '),
        o.comment ? h('div', { class: 'quote' }, String(o.comment)) : null,
      ];
    }
    case 'reopened':
      return h('div', { class: 'quote' }, s('reason'));
    case 'merged_into':
      return s('primary_number');
    case 'duplicate_attached':
      return s('duplicate_number');
    case 'closed':
    case 'unmerged':
      return s('note') ? h('div', { class: 'quote' }, s('note')) : null;
    case 'exempted':
      return [s('reason') ? enumLabel('exempt_reasons', s('reason')) : '', s('note') ? h('div', { class: 'quote' }, s('note')) : null];
    case 'attachment_added':
      return s('file_name');
    default:
      return null;
  }
}

/** "办结时限 · 已过 80% 时限" / "签收时限 · 已超时" for a scheduler reminder. */
export function reminderText(e: { [k: string]: unknown }): string {
  const clock = tMaybe(`clock_${String(e.clock ?? '')}`) ?? String(e.clock ?? '');
  const what = e.overdue ? t('inbox_overdue') : t('inbox_reminder', { pct: Math.round(Number(e.permille ?? 0) / 10) });
  return `${unitName(String(e.unit ?? ''))} · ${t('inbox_clock', { clock })} · ${what}`;
}

export function eventItems(events: EventView[]): TimelineItem[] {
  // the lead tier in force before each dispatch (in log order)
  const prevTier = new Map<number, string | undefined>();
  let tier: string | undefined;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (e.kind !== 'dispatched') continue;
    prevTier.set(e.seq, tier);
    tier = leadTier(e) ?? tier;
  }
  return [...events]
    .sort((a, b) => b.seq - a.seq)
    .map((e) => ({
      at: e.at,
      kind: e.kind,
      title: eventTitle(e.kind, e.label_zh),
      who: e.actor ? [e.actor.user, enumLabel('roles', e.actor.role), e.actor.unit_name ?? (e.actor.unit ? unitName(e.actor.unit) : '')].filter(Boolean).join(' · ') : undefined,
      body: eventBody(e, prevTier.get(e.seq)),
      tone: ['result_submitted', 'callback_recorded', 'answered_directly', 'closed'].includes(e.kind)
        ? 'ok'
        : ['return_requested', 'escalated', 'reopened', 'whistled'].includes(e.kind) || (e.kind === 'reminded' && e.overdue)
          ? 'warn'
          : '',
    }));
}

/** Ticket statuses in which no clock runs any more. */
const STOPPED = ['result_submitted', 'callback_done', 'closed', 'merged', 'archived', 'answered', 'special_handled'];

function assignmentsCard(tk: TicketView): HTMLElement | null {
  if (!tk.assignments?.length) return null;
  const stopped = STOPPED.includes(tk.status);
  const serverClocks = (a: TicketView['assignments'][number]) => (tk.deadlines ?? []).find((d) => d.unit_code === a.unit_code && d.role === a.role);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'asg-title' },
    h('h2', { id: 'asg-title' }, t('assignments')),
    h(
      'ul',
      { class: 'assignments' },
      tk.assignments.map((a) =>
        h(
          'li',
          { class: `assignment state-${a.state}`, 'data-unit': a.unit_code },
          h(
            'div',
            { class: 'asg-head' },
            h('strong', null, a.unit_name ?? unitName(a.unit_code)),
            h('span', { class: `tag ${a.role === 'lead' ? 'lead' : ''}` }, enumLabel('roles_in_assignment', a.role)),
            h('span', { class: 'tag' }, enumLabel('tiers', a.tier)),
            h('span', { class: 'asg-state' }, lang() === 'zh' && a.state_label ? a.state_label : enumLabel('assignment_states', a.state)),
            a.round > 0 ? h('span', { class: 'muted small' }, t('assignment_round', { n: a.round + 1 })) : null,
          ),
          // a returned assignment has no running clocks any more
          a.state === 'returned' ? null : clocksOf(a, serverClocks(a), stopped),
          a.paused_since
            ? h('div', { class: 'pending paused', 'data-testid': 'paused' }, t('clock_paused_since', { at: fmtTime(a.paused_since) }))
            : a.paused_seconds
              ? h('div', { class: 'muted small' }, t('clock_paused_total', { d: fmtDuration(a.paused_seconds * 1000) }))
              : null,
          a.pending_return
            ? h(
                'div',
                { class: 'pending' },
                t('pending_return', { reason: enumLabel('return_reasons', a.pending_return.reason) }),
                ' — ',
                a.pending_return.text,
                a.return_review_due ? h('div', { class: 'muted small' }, t('review_due', { at: fmtTime(a.return_review_due) })) : null,
              )
            : null,
          a.pending_extension
            ? h(
                'div',
                { class: 'pending' },
                t('pending_extension', { until: fmtTime(a.pending_extension.until) }),
                ' — ',
                a.pending_extension.reason,
                a.extension_review_due ? h('div', { class: 'muted small' }, t('review_due', { at: fmtTime(a.extension_review_due) })) : null,
              )
            : null,
        ),
      ),
    ),
  );
}

/**
 * The three clocks of an assignment. The server's `deadlines` entry (active assignments only)
 * gives each clock's state; finished or stopped ones are worked out here.
 */
function clocksOf(a: AssignmentView, server: DeadlineSet | undefined, stopped: boolean): HTMLElement {
  const one = (kind: 'sign' | 'respond' | 'finish', label: string, doneAt: string | null | undefined) => {
    const c = server?.[kind];
    return deadlineClock(c?.due ?? a.deadlines?.[kind], { label, start: a.dispatched_at, doneAt: c ? c.done_at : doneAt, stopped: !c && stopped, state: c?.state });
  };
  return h(
    'div',
    { class: 'clocks', 'data-testid': 'clocks' },
    one('sign', t('dl_sign'), a.signed_at),
    one('respond', t('dl_respond'), a.responded_at),
    one('finish', t('dl_finish'), a.finished_at),
  );
}

interface WhistleView {
  by: string;
  summoned: string[];
  reported: [string, string][];
  reason: string;
  at: string;
  report_deadline: string;
}

/** 吹哨报到: who was summoned, the report deadline, who came and when (late ones marked). */
function whistlesCard(tk: TicketView): HTMLElement | null {
  const ws = (tk.whistles ?? []) as WhistleView[];
  if (!ws.length) return null;
  const now = Date.now();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'wh-title', 'data-testid': 'whistles' },
    h('h2', { id: 'wh-title' }, t('whistles')),
    ws.map((w) =>
      h(
        'div',
        { class: 'whistle' },
        h('div', null, h('strong', null, unitName(w.by)), ' · ', fmtTime(w.at), ' · ', t('wh_deadline', { at: fmtTime(w.report_deadline) })),
        h('div', { class: 'quote' }, w.reason),
        h(
          'ul',
          { class: 'wh-units' },
          w.summoned.map((u) => {
            const rep = w.reported.find((r) => r[0] === u);
            const late = rep ? Date.parse(rep[1]) > Date.parse(w.report_deadline) : now > Date.parse(w.report_deadline);
            const state = rep ? (late ? 'late' : 'ok') : late ? 'missing' : 'waiting';
            return h(
              'li',
              { 'data-unit': u, 'data-report': state },
              unitName(u),
              ' ',
              h('span', { class: `badge ${state === 'ok' ? 'ok' : state === 'waiting' ? 'muted' : 'overdue'}` }, rep ? t(late ? 'wh_reported_late' : 'wh_reported', { at: fmtTime(rep[1]) }) : t(late ? 'wh_missing' : 'wh_waiting')),
            );
          }),
        ),
      ),
    ),
  );
}

interface EscalationView {
  level: string;
  to_unit?: string | null;
  reason: string;
  at: string;
}

/** 提级响应: each escalation with its level, target and reason. */
function escalationsCard(tk: TicketView): HTMLElement | null {
  const es = (tk.escalations ?? []) as EscalationView[];
  if (!es.length) return null;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'es-title', 'data-testid': 'escalations' },
    h('h2', { id: 'es-title' }, t('escalations_title')),
    h(
      'ul',
      { class: 'plain-list' },
      es.map((e) => h('li', null, h('span', { class: 'tag' }, enumLabel('escalation_levels', e.level)), e.to_unit ? ` → ${unitName(e.to_unit)}` : '', ' · ', fmtTime(e.at), h('div', { class: 'quote' }, e.reason))),
    ),
  );
}

/** 转接: each transfer to 110/119/120/122 (to whom, when, why, by whom) and the service's replies. */
function transfersCard(tk: TicketView): HTMLElement | null {
  const ts = (tk.transfers ?? []) as TransferView[];
  const pending = (tk.transfers_pending ?? []) as string[];
  if (!ts.length && !pending.length) return null;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'tr-title', 'data-testid': 'transfers' },
    h('h2', { id: 'tr-title' }, t('transfers_title')),
    pending.length ? h('div', { class: 'alert warn', 'data-testid': 'transfers-pending' }, t('transfer_marked', { numbers: pending.join('、') })) : null,
    h(
      'ul',
      { class: 'plain-list' },
      ts.map((x) =>
        h(
          'li',
          { 'data-testid': `transfer-${x.to}` },
          h('strong', null, enumLabel('emergency_services', x.to)),
          ' · ',
          fmtTime(x.at),
          ' · ',
          x.by,
          h('div', { class: 'quote' }, x.reason),
          x.replies.length
            ? h(
                'ul',
                { class: 'plain-list' },
                x.replies.map((r) =>
                  h(
                    'li',
                    { 'data-testid': 'transfer-reply' },
                    h('span', { class: 'tag' }, enumLabel('transfer_outcomes', r.outcome)),
                    ' ',
                    fmtTime(r.at),
                    ' · ',
                    r.by,
                    r.reference ? ` · ${t('f_transfer_reference')} ${r.reference}` : '',
                    h('div', { class: 'quote' }, r.text),
                  ),
                ),
              )
            : h('div', { class: 'muted' }, t('transfer_waiting')),
        ),
      ),
    ),
  );
}

function callbacksCard(tk: TicketView): HTMLElement | null {
  if (!tk.callbacks?.length) return null;
  return h(
    'section',
    { class: 'card' },
    h('h2', null, t('callbacks')),
    h(
      'ul',
      { class: 'plain callbacks' },
      tk.callbacks.map((c) => {
        const o = c.outcome;
        const text =
          o.outcome === 'unreachable'
            ? t('cb_unreachable')
            : [o.contacted === false ? `${t('cb_contacted')} ${t('no')}` : '', enumLabel('resolutions', o.resolution), enumLabel('satisfactions', o.satisfaction), o.attitude ? enumLabel('attitudes', o.attitude) : ''].filter(Boolean).join(' · ');
        return h('li', null, h('time', null, fmtTime(c.at)), ' ', h('strong', null, text), o.comment || o.note ? h('div', { class: 'quote' }, o.comment ?? o.note ?? '') : null);
      }),
    ),
  );
}

/** The request itself: title, text, category, place, requester. */
export function requestCard(tk: TicketView): HTMLElement {
  const place = tk.place ?? ({} as TicketView['place']);
  return h(
    'section',
    { class: 'card request-card', 'aria-labelledby': 'req-title' },
    tk.risk ? riskBanner(tk.risk) : null,
    h('h2', { id: 'req-title', class: 'ticket-title' }, tk.title),
    h('p', { class: 'ticket-text' }, tk.text),
    h(
      'dl',
      { class: 'facts' },
      dl(t('category'), pathText(tk.category_path) || tk.category_code),
      dl(t('place'), [place.district_name, place.street_name, place.community_name, place.address].filter(Boolean).join(' · ') || '—'),
      dl(
        t('requester'),
        tk.requester?.erased_at
          ? h(
              'span',
              { 'data-testid': 'requester', class: 'muted' },
              t('personal_erased', { at: fmtTime(tk.requester.erased_at) }),
              tk.enterprise ? h('span', { class: 'tag' }, t('enterprise')) : null,
            )
          : h(
              'span',
              { 'data-testid': 'requester' },
              tk.requester?.name ?? '',
              ' ',
              h('span', { class: 'mono' }, tk.requester?.phone ?? ''),
              tk.requester?.masked ? h('span', { class: 'tag' }, t('masked')) : null,
              tk.enterprise ? h('span', { class: 'tag' }, t('enterprise')) : null,
            ),
      ),
      dl(t('channel'), enumLabel('channels', tk.channel)),
      dl(t('created_at'), fmtTime(tk.created_at)),
      tk.first_dispatched_at ? dl(t('dispatched_at'), fmtTime(tk.first_dispatched_at)) : null,
      tk.tier ? dl(t('tier'), enumLabel('tiers', tk.tier)) : null,
    ),
  );
}

export function ticketHeader(tk: TicketView): HTMLElement {
  const unitRole = can('unit-desk');
  const back = lastList.hash ? lastList : unitRole ? { hash: '#/workbench', title: 'workbench_title' as const } : { hash: '#/tickets', title: 'tickets_title' as const };
  document.title = `${tk.number} · ${t('brand')}`;
  return h(
    'header',
    { class: 'page-head ticket-head' },
    h(
      'div',
      null,
      h('a', { class: 'back', href: back.hash }, '‹ ', t(back.title)),
      h(
        'h1',
        null,
        h('span', { class: 'ticket-no', 'data-testid': 'ticket-number' }, tk.number),
        ' ',
        statusBadge(tk.status, tk.status_label),
        ' ',
        h('span', { class: 'tag' }, enumLabel('types', tk.type)),
      ),
    ),
  );
}

/** "可能重复": GET /tickets/{id}/duplicates, with a merge button when the server allows `merge`. */
function duplicatesCard(tk: TicketView, refresh: (next: TicketView) => void): HTMLElement | null {
  if (!can('duplicates') || tk.merged_into) return null;
  const box = h('section', { class: 'card dup-card', hidden: true, 'aria-labelledby': 'dup-title', 'data-testid': 'duplicates' });
  const canMerge = (tk.allowed_actions ?? []).includes('merge');
  void api
    .duplicates(tk.id)
    .then(({ items }) => {
      if (!items.length || !box.isConnected) return;
      mount(
        box,
        h('h2', { id: 'dup-title' }, t('dup_title')),
        h(
          'ul',
          { class: 'plain dup-list' },
          items.map((d) =>
            h(
              'li',
              { class: 'dup-item', 'data-number': d.number },
              h('a', { href: `#/tickets/${d.id}` }, t('dup_same_as', { number: d.number })),
              ' ',
              h('span', { class: 'muted small' }, `${t('dup_score')} ${Math.round(d.score * 100)}%`),
              h('div', { class: 'muted small' }, lang() === 'zh' ? d.reasons_zh : d.reasons_en || d.reasons_zh),
              canMerge
                ? button(t('dup_merge', { number: d.number }), {
                    class: 'btn small',
                    'data-testid': 'dup-merge',
                    onclick: async (ev: Event) => {
                      if (!confirm(t('dup_merge_confirm', { number: d.number }))) return;
                      const b = ev.currentTarget as HTMLButtonElement;
                      b.disabled = true;
                      try {
                        const next = await api.action(tk.id, 'merge', { into: d.number });
                        toast(t('action_done', { action: actionLabel('merge') }));
                        refresh(next);
                      } catch (e) {
                        toast(e instanceof ApiError ? e.text(lang()) : String(e), 'error');
                        b.disabled = false;
                      }
                    },
                  })
                : null,
            ),
          ),
        ),
      );
      box.hidden = false;
    })
    .catch(() => {
      /* no suggestions is not an error worth showing */
    });
  return box;
}

export async function ticketPage({ root, route, alive }: PageCtx): Promise<void> {
  const id = route.parts[1];
  mount(root, loadingBlock());
  await Promise.all([loadEnums(), loadActions()]);

  const render = (tk: TicketView, events: EventView[] | null) => {
    for (const a of tk.assignments ?? []) rememberUnit(a.unit_code, a.unit_name);
    rememberUnit(tk.place?.district_code, tk.place?.district_name);
    rememberUnit(tk.place?.street_code, tk.place?.street_name);
    const refresh = async (next: TicketView) => {
      let evs: EventView[] | null = null;
      try {
        evs = await api.events(next.id);
      } catch {
        evs = null;
      }
      if (alive()) render(next, evs);
    };
    mount(
      root,
      ticketHeader(tk),
      h(
        'div',
        { class: 'detail-grid' },
        h(
          'div',
          { class: 'detail-main' },
          requestCard(tk),
          duplicatesCard(tk, (next) => void refresh(next)),
          tk.merged_into ? h('div', { class: 'alert info' }, t('merged_into', { number: String((tk.merged_into as { number?: string })?.number ?? JSON.stringify(tk.merged_into)) })) : null,
          tk.answer ? h('section', { class: 'card' }, h('h2', null, t('answer_given')), h('p', { class: 'prewrap' }, tk.answer)) : null,
          assignmentsCard(tk),
          whistlesCard(tk),
          escalationsCard(tk),
          transfersCard(tk),
          tk.result_text ? h('section', { class: 'card' }, h('h2', null, t('result_given')), h('p', { class: 'prewrap', 'data-testid': 'result-text' }, tk.result_text)) : null,
          callbacksCard(tk),
        ),
        h(
          'div',
          { class: 'detail-side' },
          actionsPanel(tk, (next) => void refresh(next)),
          h('section', { class: 'card', 'aria-labelledby': 'tl-title' }, h('h2', { id: 'tl-title' }, t('timeline')), events ? timeline(eventItems(events)) : h('p', { class: 'muted' }, '—')),
        ),
      ),
    );
  };

  try {
    const [tk, events] = await Promise.all([api.ticket(id), api.events(id).catch(() => null)]);
    if (alive()) render(tk, events);
  } catch (e) {
    if (alive()) mount(root, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void ticketPage({ root, route, alive, onCleanup: () => {} })));
  }
}
