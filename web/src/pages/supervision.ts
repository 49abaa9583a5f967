// The supervision board (督办): overdue assignments by unit and by district with ageing columns,
// sortable; each unit links to the ticket list filtered by that unit and overdue=true.

import { api, ApiError, type Ageing, type OverdueBoard, type OverdueDistrict, type OverdueUnit } from '../api';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { button, h, input, mount, type Child } from '../dom';
import { fmtDuration, fmtTime } from '../format';
import { lang, t, type Key } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { enumLabel, rememberUnit, session } from '../store';

const BUCKETS = ['lt_1d', 'd1_3', 'd3_7', 'gt_7d'] as const;

interface Col<T> {
  key: string;
  label: Key;
  num?: boolean;
  value: (r: T) => number | string;
  cell?: (r: T) => Child;
}

/** Whole hours overdue as text ("< 1 h" for the first hour). */
function hoursText(hours: number): string {
  return hours < 1 ? t('sup_lt_1h') : fmtDuration(hours * 3600_000);
}

/** An ageing bar: the share of each bucket, left (fresh) to right (old). */
function ageingBar(r: Ageing): HTMLElement {
  const total = r.overdue || 1;
  return h(
    'div',
    { class: 'age-bar', role: 'img', 'aria-label': BUCKETS.map((b) => `${t(`sup_col_${b}`)} ${r[b]}`).join('，') },
    BUCKETS.map((b) => (r[b] ? h('span', { class: `age-seg ${b}`, style: `width:${(100 * r[b]) / total}%`, title: `${t(`sup_col_${b}`)}: ${r[b]}` }) : null)),
  );
}

function bucketCell(n: number, b: string): Child {
  return n ? h('span', { class: `age-n ${b}` }, n) : h('span', { class: 'muted' }, '0');
}

/** A table sorted by a column (click a header; again reverses). The sort is kept in the URL. */
function sortableTable<T>(opts: {
  rows: T[];
  cols: Col<T>[];
  sort: string;
  desc: boolean;
  onSort: (key: string, desc: boolean) => void;
  rowAttrs: (r: T) => Record<string, string>;
  testid: string;
}): HTMLElement {
  const col = opts.cols.find((c) => c.key === opts.sort) ?? opts.cols[0];
  const rows = [...opts.rows].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb), 'zh-CN');
    return opts.desc ? -c : c;
  });
  return h(
    'table',
    { class: 'table board-table', 'data-testid': opts.testid },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        opts.cols.map((c) => {
          const active = c.key === col.key;
          return h(
            'th',
            { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': active ? (opts.desc ? 'descending' : 'ascending') : 'none' },
            h(
              'button',
              {
                type: 'button',
                class: `sort-btn ${active ? 'active' : ''}`,
                'data-sort': c.key,
                title: t('sup_sort_by', { col: t(c.label) }),
                onclick: () => opts.onSort(c.key, active ? !opts.desc : c.num !== false),
              },
              t(c.label),
              h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (opts.desc ? '▼' : '▲') : '↕'),
            ),
          );
        }),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          opts.rowAttrs(r),
          opts.cols.map((c) => h('td', { class: c.num ? 'num' : null, 'data-label': t(c.label) }, c.cell ? c.cell(r) : String(c.value(r)))),
        ),
      ),
    ),
  );
}

export async function supervisionPage(ctx: PageCtx): Promise<void> {
  const { root, route, alive, onCleanup } = ctx;
  const q = route.query;
  const refresh = button(t('sup_refresh'), { class: 'btn', onclick: () => void load() });
  const asOf = h('span', { class: 'muted small' });
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('sup_title'), t('sup_lead'), asOf, refresh), body);

  const setQuery = (patch: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = { us: q.get('us') ?? undefined, ud: q.get('ud') ?? undefined, ds: q.get('ds') ?? undefined, dd: q.get('dd') ?? undefined, q: q.get('q') ?? undefined, ...patch };
    navigate(href('/supervision', next).slice(1), true);
  };

  const unitCols: Col<OverdueUnit>[] = [
    {
      key: 'unit',
      label: 'sup_col_unit',
      num: false,
      value: (r) => r.unit_name ?? r.unit_code,
      cell: (r) =>
        h(
          'a',
          { href: href('/tickets', { unit: r.unit_code, overdue: true, sort: 'deadline' }), class: 'unit-link', 'data-unit-link': r.unit_code, title: t('sup_open_list') },
          r.unit_name ?? r.unit_code,
          h('span', { class: 'muted small mono' }, ` ${r.unit_code}`),
        ),
    },
    { key: 'kind', label: 'sup_col_kind', num: false, value: (r) => enumLabel('unit_kinds', r.kind ?? ''), cell: (r) => h('span', { class: 'small' }, enumLabel('unit_kinds', r.kind ?? '')) },
    { key: 'overdue', label: 'sup_col_overdue', num: true, value: (r) => r.overdue, cell: (r) => h('strong', { class: 'overdue-n' }, r.overdue) },
    ...BUCKETS.map((b) => ({ key: b, label: `sup_col_${b}` as Key, num: true, value: (r: OverdueUnit) => r[b], cell: (r: OverdueUnit) => bucketCell(r[b], b) })),
    { key: 'oldest', label: 'sup_col_oldest', num: true, value: (r) => r.oldest_hours, cell: (r) => h('span', { class: 'nowrap' }, hoursText(r.oldest_hours)) },
    { key: 'share', label: 'sup_col_share', num: true, value: (r) => (r.gt_7d * 1e6 + r.d3_7 * 1e4 + r.d1_3 * 1e2 + r.lt_1d) / (r.overdue || 1), cell: (r) => ageingBar(r) },
  ];
  const districtCols: Col<OverdueDistrict>[] = [
    {
      key: 'district',
      label: 'sup_col_district',
      num: false,
      value: (r) => r.district_name ?? r.district_code,
      cell: (r) => h('a', { href: href('/tickets', { district: r.district_code, overdue: true, sort: 'deadline' }), 'data-district-link': r.district_code }, r.district_name ?? r.district_code),
    },
    { key: 'overdue', label: 'sup_col_overdue', num: true, value: (r) => r.overdue, cell: (r) => h('strong', { class: 'overdue-n' }, r.overdue) },
    ...BUCKETS.map((b) => ({ key: b, label: `sup_col_${b}` as Key, num: true, value: (r: OverdueDistrict) => r[b], cell: (r: OverdueDistrict) => bucketCell(r[b], b) })),
    { key: 'share', label: 'sup_col_share', num: true, value: (r) => (r.gt_7d * 1e6 + r.d3_7 * 1e4 + r.d1_3 * 1e2 + r.lt_1d) / (r.overdue || 1), cell: (r) => ageingBar(r) },
  ];

  const render = (b: OverdueBoard) => {
    for (const u of b.units) rememberUnit(u.unit_code, u.unit_name);
    for (const d of b.districts) rememberUnit(d.district_code, d.district_name);
    mount(asOf, t('sup_as_of', { at: fmtTime(b.at) }));
    const oldest = b.units.reduce((m, u) => Math.max(m, u.oldest_hours), 0);
    const stat = (label: string, value: Child, tone = '') => h('div', { class: `stat ${tone}` }, h('span', { class: 'stat-n' }, value), h('span', { class: 'stat-l' }, label));
    const stats = h(
      'div',
      { class: 'stats', 'data-testid': 'board-stats' },
      stat(t('sup_total'), b.total, b.total ? 'overdue' : ''),
      stat(t('sup_units'), b.units.length, 'info'),
      stat(t('sup_districts'), b.districts.length, ''),
      stat(t('sup_oldest'), b.total ? hoursText(oldest) : '—', oldest >= 168 ? 'overdue' : oldest ? 'soon' : ''),
    );
    if (!b.total) {
      mount(body, stats, h('div', { class: 'card empty-state', 'data-testid': 'board-empty' }, '✓ ', t('sup_empty')));
      return;
    }
    const filter = input('q', { type: 'search', placeholder: t('sup_filter_unit'), value: q.get('q') ?? '', 'aria-label': t('sup_filter_unit') });
    const unitBox = h('div');
    const drawUnits = () => {
      const f = filter.value.trim().toLowerCase();
      const rows = f ? b.units.filter((u) => `${u.unit_name ?? ''} ${u.unit_code}`.toLowerCase().includes(f)) : b.units;
      mount(
        unitBox,
        sortableTable({
          rows,
          cols: unitCols,
          sort: q.get('us') ?? 'overdue',
          desc: (q.get('ud') ?? 'desc') === 'desc',
          onSort: (key, desc) => setQuery({ us: key, ud: desc ? 'desc' : 'asc', q: filter.value.trim() || undefined }),
          rowAttrs: (r) => ({ 'data-unit': r.unit_code }),
          testid: 'board-units',
        }),
      );
    };
    filter.addEventListener('input', drawUnits);
    drawUnits();
    const legend = h(
      'div',
      { class: 'age-legend small muted' },
      BUCKETS.map((bk) => h('span', null, h('span', { class: `age-swatch ${bk}`, 'aria-hidden': 'true' }), t(`sup_col_${bk}`))),
    );
    mount(
      body,
      stats,
      h(
        'section',
        { class: 'card flush board-card' },
        h('div', { class: 'board-head' }, h('h2', null, t('sup_by_unit'), ' ', h('span', { class: 'badge muted' }, b.units.length)), filter, legend),
        h('div', { class: 'table-scroll' }, unitBox),
      ),
      h(
        'section',
        { class: 'card flush board-card' },
        h('div', { class: 'board-head' }, h('h2', null, t('sup_by_district'), ' ', h('span', { class: 'badge muted' }, b.districts.length))),
        h(
          'div',
          { class: 'table-scroll' },
          sortableTable({
            rows: b.districts,
            cols: districtCols,
            sort: q.get('ds') ?? 'overdue',
            desc: (q.get('dd') ?? 'desc') === 'desc',
            onSort: (key, desc) => setQuery({ ds: key, dd: desc ? 'desc' : 'asc' }),
            rowAttrs: (r) => ({ 'data-district': r.district_code }),
            testid: 'board-districts',
          }),
        ),
      ),
      session.user?.role === 'unit_manager' ? h('p', { class: 'muted small' }, t('sup_note_scope')) : null,
    );
  };

  const load = async () => {
    refresh.disabled = true;
    try {
      const b = await api.overdue();
      if (alive()) render(b);
    } catch (e) {
      if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => void load()));
    } finally {
      refresh.disabled = false;
    }
  };
  await load();
  const timer = setInterval(() => void load(), 120_000);
  onCleanup(() => clearInterval(timer));
}
