// 季节性预判 (#/foresight?month=YYYY-MM&district=): the volume expected next month per district ×
// category with its 80 % range and the same month last year, the method's backtest on the last
// complete month, and the 冬病夏治 list — the streets that peaked last year in the categories now
// coming into season.

import { ApiError, request } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { field, h, input, mount, select } from '../dom';
import type { operations } from '../generated/api-types';
import { t } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { loadUnits } from '../store';

type Ok<K extends keyof operations> = operations[K] extends { responses: { 200: { content: { 'application/json': infer T } } } } ? T : never;
export type ForesightView = Ok<'get_governance_foresight'>;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export async function foresightPage({ root, alive, route }: PageCtx): Promise<void> {
  const month = route.query.get('month') ?? '';
  const district = route.query.get('district') ?? '';
  const go = (q: Record<string, string>) => navigate(href('/foresight', { month: q.month || undefined, district: q.district || undefined }).slice(1));
  const monthInput = input('month', { type: 'month', value: month, 'data-testid': 'fs-month' });
  monthInput.addEventListener('change', () => go({ month: monthInput.value, district }));
  const units = await loadUnits({ kind: 'district' }).catch(() => []);
  const districts = units.map((u) => ({ value: u.code, label: u.name }));
  const districtSelect = select('district', districts, { placeholder: t('filter_all'), value: district });
  districtSelect.setAttribute('data-testid', 'fs-district');
  districtSelect.addEventListener('change', () => go({ month, district: districtSelect.value }));
  const body = h('div', null, loadingBlock());
  mount(
    root,
    pageHeader(t('fs_title'), t('fs_lead')),
    h('div', { class: 'filters' }, field(t('fs_month'), monthInput, { name: 'month' }), field(t('fs_district'), districtSelect, { name: 'district' })),
    body,
  );
  let v: ForesightView;
  try {
    const q = new URLSearchParams();
    if (month) q.set('month', month);
    if (district) q.set('district', district);
    v = await request<ForesightView>('GET', `/api/v1/governance/foresight?${q}`);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!alive()) return;
  if (!month) monthInput.value = v.month;
  const bt = v.backtest;
  const head = h(
    'p',
    { class: 'muted', 'data-testid': 'fs-basis' },
    t('fs_basis').replace('{month}', v.month).replace('{based}', v.based_on),
    bt ? ` · ${t('fs_backtest').replace('{month}', bt.month).replace('{ape}', pct(bt.median_ape)).replace('{cov}', pct(bt.coverage)).replace('{n}', String(bt.cells))}` : '',
  );
  const rows = v.cells.slice(0, 200).map((c) =>
    h(
      'tr',
      { 'data-testid': 'fs-row', 'data-district': c.district, 'data-category': c.category },
      h('td', { 'data-label': t('fs_district') }, c.district_name),
      h('td', { 'data-label': t('col_category') }, c.category_name),
      h('td', { 'data-label': t('fs_expected'), class: 'num' }, h('strong', null, c.expected.toFixed(0))),
      h('td', { 'data-label': t('fs_range'), class: 'num' }, `${c.low.toFixed(0)}–${c.high.toFixed(0)}`),
      h('td', { 'data-label': t('fs_last_year'), class: 'num' }, c.last_year == null ? '—' : String(c.last_year)),
      h('td', { 'data-label': t('fs_recent'), class: 'num' }, String(c.recent)),
      h('td', { 'data-label': t('fs_season'), class: 'num' }, c.season > 1.1 ? h('span', { class: 'badge warn' }, `↑ ${c.season.toFixed(2)}`) : c.season.toFixed(2)),
    ),
  );
  const table = h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'table streets-table', 'data-testid': 'fs-table', 'aria-label': t('fs_title') },
      h('thead', null, h('tr', null, [t('fs_district'), t('col_category'), t('fs_expected'), t('fs_range'), t('fs_last_year'), t('fs_recent'), t('fs_season')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows),
    ),
  );
  const hot = h(
    'section',
    { class: 'card', 'data-testid': 'fs-hotspots' },
    h('h2', null, t('fs_hot_title')),
    h('p', { class: 'muted' }, t('fs_hot_lead')),
    v.hotspots.length === 0
      ? h('p', { class: 'empty' }, t('fs_hot_none'))
      : h(
          'ul',
          { class: 'stack' },
          v.hotspots.map((x) =>
            h(
              'li',
              { 'data-testid': 'fs-hotspot', 'data-category': x.category },
              h('strong', null, x.category_name),
              ` (${t('fs_season')} ${x.season.toFixed(2)})：`,
              x.streets.map((s, i) => [i ? '、' : '', h('a', { href: href('/tickets', { street: s.code, category: x.category }) }, `${s.name} ${s.last_year}`)]),
            ),
          ),
        ),
  );
  mount(body, head, h('p', { class: 'muted' }, v.method), hot, v.cells.length ? table : h('p', { class: 'empty', 'data-testid': 'fs-empty' }, t('fs_none')));
}
