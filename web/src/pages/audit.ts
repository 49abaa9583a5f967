// 办理质量审计 (#/audit?from=&to=): the supervisor's page over the stored findings of the nightly
// audit (00:30 city time, the previous day's results) in a period — how many were flagged 答非所问 / 模板化答复 / 假办结 / 办结过快, the
// rate per unit (the highest first), and the flagged results (the least relevant first), each
// with one action: 督办 — the ticket goes back to its unit (重办) with the note and the flags as
// the reason (the domain refuses a ticket that cannot be reopened now).

import { ApiError, request } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, clearErrors, field, h, input, mount, showFieldError, textarea, toast } from '../dom';
import type { operations } from '../generated/api-types';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { fmtTime } from '../format';
import { can } from '../store';
import { policyPanel } from './policies';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
export type AuditView = Ok<'get_audit_replies'>;
type Flagged = AuditView['items'][number];

const KINDS = ['off_topic', 'boilerplate', 'contradicted', 'too_fast'] as const;

function kindChip(kind: string, label: string): HTMLElement {
  return h('span', { class: 'badge warn', 'data-kind': kind }, lang() === 'zh' ? label : t(`au_kind_${kind}` as never));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export async function auditPage({ root, alive, route }: PageCtx): Promise<void> {
  const from = route.query.get('from') ?? '';
  const to = route.query.get('to') ?? '';
  const fromIn = input('from', { type: 'date', value: from, 'data-testid': 'au-from' });
  const toIn = input('to', { type: 'date', value: to, 'data-testid': 'au-to' });
  const go = () => navigate(href('/audit', { from: fromIn.value || undefined, to: toIn.value || undefined }).slice(1));
  fromIn.addEventListener('change', go);
  toIn.addEventListener('change', go);
  const body = h('div', null, loadingBlock());
  mount(
    root,
    pageHeader(t('au_title'), t('au_lead')),
    h('div', { class: 'filters' }, field(t('au_from'), fromIn, { name: 'from' }), field(t('au_to'), toIn, { name: 'to' })),
    body,
    can('governance-policies') ? policyPanel('reply-audit', alive) : null,
  );
  let v: AuditView;
  try {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    v = await request<AuditView>('GET', `/api/v1/audit/replies?${q}`);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  const summary = h(
    'p',
    { class: 'muted', 'data-testid': 'au-summary' },
    t('au_summary', { from: v.from, to: v.to, results: v.results, flagged: v.flagged }),
    ' · ',
    h('span', { 'data-testid': 'au-audited' }, t('au_audited', { n: v.audited_days, days: v.days, at: v.last_audited_at ? fmtTime(v.last_audited_at) : '—' })),
    ' · ',
    v.kinds.map((k, i) => [i ? '，' : '', `${lang() === 'zh' ? k.label : t(`au_kind_${k.kind}` as never)} ${k.count}`]),
  );
  const units = h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table streets-table', 'data-testid': 'au-units', 'aria-label': t('au_units') },
      h('thead', null, h('tr', null, [t('alert_unit'), t('au_results'), t('au_flagged'), t('au_rate'), ...KINDS.map((k) => t(`au_kind_${k}` as never))].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        v.units.map((u) =>
          h(
            'tr',
            { 'data-testid': 'au-unit', 'data-unit': u.unit },
            h('td', { 'data-label': t('alert_unit') }, u.unit_name),
            h('td', { 'data-label': t('au_results'), class: 'num' }, String(u.results)),
            h('td', { 'data-label': t('au_flagged'), class: 'num' }, String(u.flagged)),
            h('td', { 'data-label': t('au_rate'), class: 'num', 'data-testid': 'au-rate' }, pct(u.flagged_rate)),
            h('td', { 'data-label': t('au_kind_off_topic'), class: 'num' }, String(u.off_topic)),
            h('td', { 'data-label': t('au_kind_boilerplate'), class: 'num' }, String(u.boilerplate)),
            h('td', { 'data-label': t('au_kind_contradicted'), class: 'num' }, String(u.contradicted)),
            h('td', { 'data-label': t('au_kind_too_fast'), class: 'num' }, String(u.too_fast)),
          ),
        ),
      ),
    ),
  );
  const supervise = (f: Flagged, cell: HTMLElement) => {
    const note = textarea('note', { rows: 2, maxlength: 1800, 'data-testid': 'au-note' });
    const form: HTMLFormElement = h('form', {
      class: 'stack',
      'data-testid': 'au-supervise-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        clearErrors(form);
        try {
          await request('POST', `/api/v1/audit/replies/${f.ticket}/supervise`, { note: note.value, kinds: f.kinds.map((k) => k.kind) });
          toast(t('au_supervised'));
          navigate(location.hash.slice(1), true);
        } catch (err) {
          const e2 = err instanceof ApiError ? err : null;
          if (!showFieldError(form, e2?.field ?? undefined, e2?.message ?? String(err))) toast(e2?.message ?? String(err), 'error');
        }
      },
    });
    mount(form, field(t('au_note'), note, { name: 'note', required: true, wide: true }), button(t('au_do_supervise'), { type: 'submit', class: 'btn primary small', 'data-testid': 'au-submit' }));
    mount(cell, form);
  };
  const rows = v.items.map((f) => {
    const act = h('td', { 'data-label': t('actions') });
    if (f.can_supervise) {
      mount(act, button(t('au_supervise'), { class: 'btn small', 'data-testid': 'au-supervise', onclick: () => supervise(f, act) }));
    }
    return h(
      'tr',
      { 'data-testid': 'au-item', 'data-ticket': f.ticket },
      h('td', { 'data-label': t('ticket_number') }, h('a', { href: `#/tickets/${f.ticket}` }, f.number), h('br'), h('small', null, f.title)),
      h('td', { 'data-label': t('alert_unit') }, f.unit_name),
      h('td', { 'data-label': t('au_why') }, f.kinds.map((k) => kindChip(k.kind, k.label))),
      h('td', { 'data-label': t('au_relevance'), class: 'num' }, f.relevance == null ? '—' : f.relevance.toFixed(2)),
      h('td', { 'data-label': t('au_minutes'), class: 'num' }, String(f.minutes)),
      h('td', { 'data-label': t('au_result') }, f.result, f.like_ticket ? [h('br'), h('small', { class: 'muted' }, t('au_like', { n: f.like_ticket }))] : null),
      act,
    );
  });
  mount(
    body,
    summary,
    h('section', { class: 'card' }, h('h2', null, t('au_units')), v.units.length ? units : h('p', { class: 'empty' }, t('au_none'))),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('au_items')),
      rows.length
        ? h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'table streets-table', 'data-testid': 'au-items', 'aria-label': t('au_items') },
              h('thead', null, h('tr', null, [t('ticket_number'), t('alert_unit'), t('au_why'), t('au_relevance'), t('au_minutes'), t('au_result'), t('actions')].map((c) => h('th', { scope: 'col' }, c)))),
              h('tbody', null, rows),
            ),
          )
        : h('p', { class: 'empty', 'data-testid': 'au-empty' }, t('au_none')),
    ),
  );
}
