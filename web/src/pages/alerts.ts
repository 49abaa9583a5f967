// 预警处置 (#/alerts, #/alerts/{id}): the alerts of the caller's scope — a spike of requests in
// one place × category against its seasonal baseline (未诉先办), an emergency pushed at intake
// (紧急风险, with the number to transfer to) or several similar reports in one place within an
// hour merged into one incident (突发事件). The list shows each
// alert's place, category, requests against the expected count, strength and status, with the
// counts by status and the rate of useful alerts; an alert's page shows the tickets behind it,
// every step taken and the steps the caller may take (知悉 / 已处置 / 不予处置, the last two with
// a reason).

import { ApiError, request } from '../api';
import { errorBlock, loadingBlock, pageHeader, timeline } from '../components';
import { button, clearErrors, field, h, mount, showFieldError, textarea, toast } from '../dom';
import type { operations } from '../generated/api-types';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { pager } from '../pager';
import { href, navigate } from '../router';
import { riskBanner } from '../risk';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
export type AlertPage = Ok<'get_alerts'>;
export type AlertItem = AlertPage['items'][number];
export type AlertDetail = Ok<'get_alerts_id'>;

const TONE: Record<string, string> = { open: 'warn', acknowledged: 'info', handled: 'ok', dismissed: 'muted' };

function statusChip(status: string, label: string): HTMLElement {
  const text = lang() === 'zh' ? label : t(`alert_status_${status}` as never);
  return h('span', { class: `badge ${TONE[status] ?? 'muted'}`, 'data-status': status }, text);
}

function levelText(level: string): string {
  return t(`alert_level_${level.replace('×', '_').replace('-', '_')}` as never);
}

function figures(a: AlertItem): HTMLElement {
  if (a.pre_warning) {
    const p = a.pre_warning;
    return h('span', { class: 'alert-figures', 'data-testid': 'alert-figures' }, t('alert_pre_warning_figures', { month: p.month, volume: p.volume, rank: p.volume_rank }));
  }
  if (a.risk) {
    const kind = lang() === 'zh' ? a.risk.kind_label : a.risk.kind_label_en;
    return h(
      'span',
      { class: 'alert-figures risk', 'data-testid': 'alert-figures' },
      h('strong', null, t('alert_risk_figures', { kind, numbers: a.risk.transfer_to.join(' / ') })),
    );
  }
  if (a.incident) {
    const hm = (s: string) => new Date(s).toLocaleTimeString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
    return h(
      'span',
      { class: 'alert-figures', 'data-testid': 'alert-figures' },
      h('strong', null, String(a.ticket_count)),
      ' ',
      h('small', null, t('alert_incident_figures', { from: hm(a.incident.first_at), to: hm(a.incident.last_at) })),
    );
  }
  return h(
    'span',
    { class: 'alert-figures', 'data-testid': 'alert-figures' },
    h('strong', null, String(a.observed)),
    ` / ${a.expected.toFixed(2)} `,
    h('small', null, t('alert_in_days').replace('{n}', String(a.window_days))),
  );
}

export async function alertsPage(ctx: PageCtx): Promise<void> {
  const id = ctx.route.parts[1];
  if (id) return alertPage(ctx, id);
  const { root, alive, route } = ctx;
  const status = route.query.get('status') ?? '';
  const page = Number(route.query.get('page') ?? '1') || 1;
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('alerts_title'), t('alerts_lead')), body);
  let answer: AlertPage;
  try {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    q.set('page', String(page));
    answer = await request<AlertPage>('GET', `/api/v1/alerts?${q}`);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e), () => navigate(location.hash.slice(1))));
    return;
  }
  if (!alive()) return;
  const total = answer.counts.reduce((s, c) => s + c.count, 0);
  const tab = (value: string, label: string, count: number) =>
    h(
      'a',
      {
        href: href('/alerts', value ? { status: value } : {}),
        class: status === value ? 'active' : null,
        'aria-current': status === value ? 'page' : null,
        'data-testid': `alert-tab-${value || 'all'}`,
      },
      `${label} (${count})`,
    );
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': t('filters') },
    tab('', t('filter_all'), total),
    ...answer.counts.map((c) => tab(c.status, lang() === 'zh' ? c.label : t(`alert_status_${c.status}` as never), c.count)),
  );
  const useful = h(
    'p',
    { class: 'muted', 'data-testid': 'alert-useful' },
    `${t('alert_useful')}: `,
    h('strong', null, answer.useful_rate == null ? '—' : `${(answer.useful_rate * 100).toFixed(1)}%`),
    ` · ${t('alert_useful_hint')}`,
  );
  if (answer.items.length === 0) {
    mount(body, tabs, useful, h('p', { class: 'empty', 'data-testid': 'alerts-empty' }, t('alerts_none')));
    return;
  }
  const rows = answer.items.map((a) =>
    h(
      'tr',
      { 'data-testid': 'alert-row', 'data-id': a.id, 'data-level': a.level, class: a.risk ? 'risk-row' : null },
      h('td', { 'data-label': t('alert_day') }, a.day),
      h('td', { 'data-label': t('alert_place') }, h('a', { href: `#/alerts/${a.id}` }, a.place_name), h('br'), h('small', { class: 'muted' }, levelText(a.level))),
      h('td', { 'data-label': t('col_category') }, a.category_name),
      h('td', { 'data-label': t('alert_observed') }, figures(a)),
      h('td', { 'data-label': t('alert_score'), class: 'num' }, a.risk || a.incident || a.pre_warning ? '—' : a.score.toFixed(1)),
      h('td', { 'data-label': t('alert_unit') }, a.unit_name),
      h('td', { 'data-label': t('col_status') }, statusChip(a.status, a.status_label)),
      h('td', { 'data-label': t('alert_tickets') }, h('a', { href: a.drill, 'data-testid': 'alert-drill' }, t('alert_n_tickets').replace('{n}', String(a.ticket_count)))),
    ),
  );
  const table = h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table alerts-table', 'data-testid': 'alerts-table', 'aria-label': t('alerts_title') },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [t('alert_day'), t('alert_place'), t('col_category'), t('alert_observed'), t('alert_score'), t('alert_unit'), t('col_status'), t('alert_tickets')].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
  mount(body, tabs, useful, table, pager(answer.page, answer.page_size, Number(answer.total), (p) => navigate(href('/alerts', { ...(status ? { status } : {}), page: String(p) }))));
}

async function alertPage({ root, alive }: PageCtx, id: string): Promise<void> {
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('alert_title')), body);
  let a: AlertDetail;
  try {
    a = await request<AlertDetail>('GET', `/api/v1/alerts/${encodeURIComponent(id)}`);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  const facts = h(
    'dl',
    { class: 'facts', 'data-testid': 'alert-facts' },
    h('dt', null, t('alert_place')),
    h('dd', null, `${a.place_name} · ${levelText(a.level)}`),
    h('dt', null, t('col_category')),
    h('dd', null, a.category_name),
    h('dt', null, t('alert_day')),
    h('dd', null, a.day),
    h('dt', null, t('alert_observed')),
    h('dd', null, figures(a)),
    a.risk || a.incident || a.pre_warning ? null : h('dt', null, t('alert_score')),
    a.risk || a.incident || a.pre_warning ? null : h('dd', null, `${a.score.toFixed(1)} `, h('small', { class: 'muted' }, t('alert_score_hint'))),
    h('dt', null, t('alert_unit')),
    h('dd', null, a.unit_name),
    h('dt', null, t('col_status')),
    h('dd', null, statusChip(a.status, a.status_label)),
  );
  const tickets = h(
    'ul',
    { class: 'chip-list', 'data-testid': 'alert-tickets' },
    a.tickets.map((tid) => h('li', null, h('a', { href: `#/tickets/${tid}` }, `#${tid}`))),
  );
  const steps = timeline(
    a.steps.map((s) => ({
      at: s.at,
      title: t(`alert_step_${s.action}` as never),
      who: s.by === 'warning' ? t('alert_by_system') : s.by,
      body: s.reason || undefined,
      kind: s.action,
    })),
  );
  const reason = textarea('reason', { rows: 3, maxlength: 2000, 'data-testid': 'alert-reason' });
  const form = h('form', { class: 'stack', 'data-testid': 'alert-actions', onsubmit: (e: Event) => e.preventDefault() });
  const act = async (action: string) => {
    clearErrors(form);
    try {
      await request('POST', `/api/v1/alerts/${a.id}/${action}`, { reason: reason.value });
      toast(t('saved'));
      navigate(`/alerts/${a.id}`, true);
    } catch (e) {
      const err = e instanceof ApiError ? e : null;
      if (!showFieldError(form, err?.field ?? undefined, err?.message ?? String(e))) toast(err?.message ?? String(e), 'error');
    }
  };
  if (a.actions.length > 0) {
    mount(
      form,
      field(t('alert_reason'), reason, { name: 'reason', hint: t('alert_reason_hint'), wide: true }),
      h(
        'div',
        { class: 'actions' },
        a.actions.map((x) =>
          button(t(`alert_do_${x}` as never), {
            class: x === 'handle' ? 'btn primary' : 'btn',
            type: 'button',
            'data-testid': `alert-do-${x}`,
            onclick: () => void act(x),
          }),
        ),
      ),
    );
  }
  mount(
    body,
    h('p', null, h('a', { href: '#/alerts' }, `← ${t('alerts_title')}`)),
    a.risk ? riskBanner(a.risk, h('div', null, h('a', { href: `#/tickets/${a.risk.ticket}` }, `${a.risk.number} · ${a.risk.title}`))) : null,
    h('section', { class: 'card' }, facts),
    h('section', { class: 'card' }, h('h2', null, t('alert_tickets_behind').replace('{n}', String(a.tickets.length))), tickets, h('p', null, h('a', { href: a.drill, 'data-testid': 'alert-open' }, t(a.pre_warning ? 'alert_open_file' : 'alert_open_list')))),
    a.actions.length > 0 ? h('section', { class: 'card' }, h('h2', null, t('alert_act')), form) : null,
    h('section', { class: 'card' }, h('h2', null, t('alert_steps')), steps),
  );
}
