// 治理类街乡镇 (#/streets?period=YYYY-MM&class=): the month's class of every street and town under
// the city's versioned policy in effect in that month (an admin keeps the versions below) — 先进 / 进步 / 整改 / 治理 / 一般 — with its volume and 三率
// ranks, the governance list's entries, exit progress and tracking, and 未进先治 pre-warnings.
// A unit manager sees the streets of their district.

import { ApiError, request } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { field, h, input, mount } from '../dom';
import { cityDay } from '../format';
import type { operations } from '../generated/api-types';
import { lang, t } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { can } from '../store';
import { policyPanel } from './policies';
import { streetWorkPage } from './street-work';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
export type StreetsView = Ok<'get_governance_streets_period'>;

const CLASSES = ['govern', 'rectify', 'improved', 'advanced', 'ordinary'] as const;
const TONE: Record<string, string> = { govern: 'warn', rectify: 'accent', improved: 'info', advanced: 'ok', ordinary: 'muted' };

function lastMonth(): string {
  const d = new Date(Date.now() - 31 * 86_400_000);
  return cityDay(d).slice(0, 7);
}

function classChip(c: string, label: string): HTMLElement {
  return h('span', { class: `badge ${TONE[c] ?? 'muted'}`, 'data-class': c }, lang() === 'zh' ? label : t(`st_class_${c}` as never));
}

export async function streetsPage(ctx: PageCtx): Promise<void> {
  if (ctx.route.parts[1] === 'work' && ctx.route.parts[2]) return streetWorkPage(ctx, ctx.route.parts[2]);
  const { root, alive, route } = ctx;
  const period = route.query.get('period') || lastMonth();
  const only = route.query.get('class') ?? '';
  const month = input('period', { type: 'month', value: period, 'data-testid': 'st-period' });
  month.addEventListener('change', () => {
    if (month.value) navigate(href('/streets', { period: month.value, class: only || undefined }).slice(1));
  });
  const body = h('div', null, loadingBlock());
  mount(
    root,
    pageHeader(t('st_title'), t('st_lead')),
    h('div', { class: 'filters' }, field(t('st_month'), month, { name: 'period' })),
    body,
    can('governance-policies') ? policyPanel('streets', alive) : null,
  );
  let v: StreetsView;
  try {
    v = await request<StreetsView>('GET', `/api/v1/governance/streets/${encodeURIComponent(period)}`);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  const count = (c: string) => v.streets.filter((s) => s.class === c).length;
  const tab = (c: string, label: string, n: number) =>
    h(
      'a',
      {
        href: href('/streets', { period, class: c || undefined }),
        class: only === c ? 'active' : null,
        'aria-current': only === c ? 'page' : null,
        'data-testid': `st-tab-${c || 'all'}`,
      },
      `${label} (${n})`,
    );
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': t('filters') },
    tab('', t('filter_all'), v.streets.length),
    ...CLASSES.map((c) => tab(c, t(`st_class_${c}` as never), count(c))),
  );
  const summary = h(
    'p',
    { class: 'muted', 'data-testid': 'st-summary' },
    t('st_summary')
      .replace('{listed}', String(v.listed))
      .replace('{pre}', String(v.pre_warnings))
      .replace('{months}', String(v.months.length)),
    ' · ',
    `${t('st_policy')}: ${String((v.policy as Record<string, unknown>).name ?? '')} (v${v.policy_version})`,
  );
  const rows = v.streets
    .filter((s) => !only || s.class === only)
    .map((s) =>
      h(
        'tr',
        { 'data-testid': 'st-row', 'data-code': s.code, 'data-class': s.class, class: s.pre_warning ? 'pre-warning' : null },
        h('td', { 'data-label': t('st_volume_rank'), class: 'num' }, String(s.volume_rank)),
        h('td', { 'data-label': t('st_street') }, h('a', { href: s.drill }, s.name)),
        h('td', { 'data-label': t('st_volume'), class: 'num' }, String(s.volume)),
        h('td', { 'data-label': t('st_composite'), class: 'num' }, s.composite == null ? '—' : s.composite.toFixed(2)),
        h('td', { 'data-label': t('st_rank'), class: 'num' }, s.rank == null ? '—' : String(s.rank)),
        h('td', { 'data-label': t('st_change'), class: 'num' }, s.rank_change == null ? '—' : s.rank_change > 0 ? `↑${s.rank_change}` : s.rank_change < 0 ? `↓${-s.rank_change}` : '0'),
        h('td', { 'data-label': t('st_class') }, classChip(s.class, s.class_label), s.pre_warning ? h('span', { class: 'badge warn', 'data-testid': 'st-pre-warning' }, t('st_pre_warning')) : null),
        h('td', { 'data-label': t('st_reason') }, s.reason),
        h(
          'td',
          { 'data-label': t('st_file') },
          can('street-work') && (s.listed || s.tracked_until || s.pre_warning)
            ? h('a', { href: href(`/streets/work/${s.code}`, { period }), 'data-testid': 'st-file' }, `${t('st_file')} →`)
            : null,
        ),
      ),
    );
  if (rows.length === 0) {
    mount(body, tabs, summary, h('p', { class: 'empty', 'data-testid': 'st-empty' }, t('st_none')));
    return;
  }
  mount(
    body,
    tabs,
    summary,
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'table streets-table', 'data-testid': 'st-table', 'aria-label': t('st_title') },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            [t('st_volume_rank'), t('st_street'), t('st_volume'), t('st_composite'), t('st_rank'), t('st_change'), t('st_class'), t('st_reason'), t('st_file')].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h('tbody', null, rows),
      ),
    ),
  );
}
