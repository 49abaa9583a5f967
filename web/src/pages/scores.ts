// The public monthly scorecard (考核榜单): month picker, level tabs, top / bottom lists,
// one ECharts chart, the full sortable table with Wilson-interval bars, ranks with ties, "not ranked"
// with the reason, case-mix adjusted rates, the policy and its fingerprint, CSV download; leaders
// drill down district → its streets → the tickets behind every figure (each count opens the list of
// assignments the same rules counted, with the policy that counted them; staff get links to the
// tickets), 行业三率 of city departments, and signed-in users open a unit's ticket list.

import { api, ApiError, type Interval, type Scorecard, type ScoreLevel, type UnitScore as ApiUnitScore } from '../api';
import { cbApi, drillUrl, MEASURES, type DrillPage, type DrillRow, type Measure } from '../callback-api';
import { rateBars } from '../chart';
import { errorBlock, loadingBlock, pageHeader } from '../components';
import { field, h, input, mount, select, type Child } from '../dom';
import { cityTimeZone, fmtLocal, useServerTimeZone } from '../format';
import { lang, t, type Key } from '../i18n';
import type { PageCtx } from '../page';
import { href, navigate } from '../router';
import { categoryPathText, enumLabel, loadCategories, loadEnums, session } from '../store';
import { pager } from './tickets';
import '../styles/pages/scorecard-drill.css';

/** The first and last city-local day of a period `[from, to)` given as UTC instants. */
function periodDays(from: string, to: string): { from: string; to: string } {
  return { from: fmtLocal(from, 'date'), to: fmtLocal(new Date(Date.parse(to) - 1).toISOString(), 'date') };
}

/** A scorecard line as the API sends it (the fields api.ts does not declare yet). */
type UnitScore = ApiUnitScore & { district_name?: string | null; not_ranked_reason_zh?: string | null };

const LEVELS: ScoreLevel[] = ['street', 'district', 'department', 'enterprise'];
const RATES = ['response', 'resolution', 'satisfaction'] as const;
type Rate = (typeof RATES)[number];
const RATE_COLORS: Record<Rate, string> = { response: '#1b6fc2', resolution: '#1f8a4c', satisfaction: '#d08a00' };

/** The last full month in the city's time zone (the server's `time_zone`), as YYYY-MM. */
export function lastFullMonth(now = new Date()): string {
  const p = new Intl.DateTimeFormat('en-CA', { timeZone: cityTimeZone(), year: 'numeric', month: '2-digit' }).formatToParts(now);
  let y = Number(p.find((x) => x.type === 'year')?.value);
  let m = Number(p.find((x) => x.type === 'month')?.value) - 1; // the previous month, 1-based
  if (m === 0) {
    y -= 1;
    m = 12;
  }
  return `${y}-${String(m).padStart(2, '0')}`;
}

const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);
const num = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const rateOf = (u: UnitScore, r: Rate) => (r === 'response' ? u.response_rate : r === 'resolution' ? u.resolution_rate : u.satisfaction_rate);

/** Why a unit is not ranked, in the UI language (the API sends both). */
function reasonText(u: UnitScore): string {
  if (lang() === 'zh' && u.not_ranked_reason_zh) return u.not_ranked_reason_zh;
  const reason = u.not_ranked_reason;
  if (!reason) return t('sc_not_ranked');
  const m = /sample too small: (\d+) counted < minimum (\d+)/.exec(reason);
  if (m) return t('sc_reason_sample', { n: m[1], min: m[2] });
  if (/no valid callbacks/.test(reason)) return t('sc_reason_callbacks');
  return reason;
}

/** A rate with its 95 % Wilson interval as a small range bar (0–100 %). */
function rateCell(v: number | null, iv: Interval | null, rate: Rate): Child {
  if (v === null) return h('span', { class: 'muted' }, '—');
  const bar = iv
    ? h(
        'span',
        { class: 'ci-bar', 'aria-hidden': 'true' },
        h('span', { class: 'ci-range', style: `left:${iv.low * 100}%;width:${Math.max(0.5, (iv.high - iv.low) * 100)}%;background:${RATE_COLORS[rate]}55` }),
        h('span', { class: 'ci-point', style: `left:${v * 100}%;background:${RATE_COLORS[rate]}` }),
      )
    : null;
  return h(
    'span',
    { class: 'rate-cell', title: iv ? t('sc_ci_title', { low: pct(iv.low), high: pct(iv.high) }) : undefined },
    h('span', { class: 'rate-v' }, pct(v)),
    bar,
    iv ? h('span', { class: 'ci-text' }, `${(iv.low * 100).toFixed(0)}–${(iv.high * 100).toFixed(0)}`) : null,
  );
}

interface Col {
  key: string;
  label: Key;
  num: boolean;
  value: (u: UnitScore) => number | string | null;
  cell: (u: UnitScore) => Child;
  title?: Key;
}

export async function scoresPage(ctx: PageCtx): Promise<void> {
  const { root, route, alive, onCleanup } = ctx;
  const q = route.query;
  const month = /^\d{4}-\d{2}$/.test(q.get('month') ?? '') ? q.get('month')! : lastFullMonth();
  const level = (LEVELS as string[]).includes(q.get('level') ?? '') ? (q.get('level') as ScoreLevel) : 'street';
  const district = q.get('district') ?? '';
  const sort = q.get('sort') ?? 'rank';
  const desc = q.get('desc') === '1';
  const signedIn = !!session.user;
  const page = Math.max(1, Number(q.get('page') ?? '1') || 1);
  const nameQ = q.get('q') ?? '';

  const go = (patch: Record<string, string | undefined>) => {
    const next: Record<string, string | undefined> = { month, level, district: district || undefined, sort: sort === 'rank' ? undefined : sort, desc: desc ? '1' : undefined, q: nameQ || undefined, ...patch };
    navigate(href('/scores', next).slice(1), true);
  };

  // the months, named in the UI language (a native month input would use the browser's locale)
  const months: string[] = [];
  for (let i = 0, m = lastFullMonth(new Date(Date.now() + 40 * 86400_000)); i < 36; i++) {
    months.push(m);
    const [y, mm] = m.split('-').map(Number);
    m = mm === 1 ? `${y - 1}-12` : `${y}-${String(mm - 1).padStart(2, '0')}`;
  }
  if (!months.includes(month)) months.push(month);
  const monthInput = select(
    'month',
    months.map((m) => ({ value: m, label: fmtLocal(m, 'month') })),
    { value: month, onChange: (v) => go({ month: v, page: undefined }) },
  );
  const csv = h(
    'a',
    { class: 'btn', href: `/api/v1/scores/${month}/${level}?format=csv`, download: `jiesu-scores-${month}-${level}.csv`, 'data-testid': 'scores-csv' },
    t('sc_csv'),
  );
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': t('sc_levels') },
    LEVELS.map((l) =>
      h('a', { href: href('/scores', { month, level: l }), class: l === level ? 'active' : null, 'aria-current': l === level ? 'page' : null, 'data-level': l }, t(`sc_level_${l}` as Key)),
    ),
  );
  const body = h('div', null, loadingBlock());
  mount(root, pageHeader(t('sc_title'), t('sc_lead'), field(t('sc_month'), monthInput), csv), tabs, body);

  let card: Scorecard & { units: UnitScore[] };
  // district names come with every line (`district_name`)
  const districts: Map<string, string> = new Map();
  try {
    const [c, en] = await Promise.all([api.scores(month, level), loadEnums()]);
    card = c;
    useServerTimeZone(en);
    for (const u of card.units as UnitScore[]) if (u.district_code && u.district_name) districts.set(u.district_code, u.district_name);
    if (level === 'district') for (const u of card.units) districts.set(u.unit_code, u.unit_name);
  } catch (e) {
    if (alive()) mount(body, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), () => go({})));
    return;
  }
  if (!alive()) return;

  const byCode = new Map(card.units.map((u) => [u.unit_code, u]));
  if (level === 'department') await loadCategories().catch(() => null);
  if (!alive()) return;
  const stat = (label: string, value: Child, sub?: string, tone = '') =>
    h('div', { class: `stat ${tone}` }, h('span', { class: 'stat-n' }, value), h('span', { class: 'stat-l' }, label), sub ? h('span', { class: 'stat-sub' }, sub) : null);
  const tot = card.totals;
  const ranked = card.units.filter((u) => u.rank !== null).length;
  /** A figure of the level's totals: lists every unit's tickets behind it. */
  const totFig = (measure: Measure, value: number) =>
    h(
      'button',
      {
        type: 'button',
        class: 'fig-link',
        'data-measure': measure,
        'data-scope': 'total',
        'data-figure': value,
        title: `${t(`sc_measure_${measure}` as Key)} · ${t('sc_drill_hint')}`,
        onclick: () => navigate(href('/scores', { month, level, district: district || undefined, total: '1', measure }).slice(1)),
      },
      value,
    );
  const stats = h(
    'div',
    { class: 'stats five', 'data-testid': 'scores-totals' },
    stat(t('sc_counted'), totFig('counted', tot.counted), t('sc_units_ranked', { n: ranked, all: card.units.length }), 'info'),
    stat(t('sc_rate_response'), pct(tot.response), `${tot.responded} / ${tot.counted}`),
    stat(t('sc_rate_resolution'), pct(tot.resolution), t('sc_valid_n', { n: tot.valid_callbacks }), 'ok'),
    stat(t('sc_rate_satisfaction'), pct(tot.satisfaction), t('sc_valid_n', { n: tot.valid_callbacks })),
    stat(t('sc_composite'), num(tot.composite), t('sc_city_wide')),
  );
  // the totals' other figures, each listing its tickets
  const totFigs = h(
    'p',
    { class: 'small muted', 'data-testid': 'scores-total-figures' },
    `${t('sc_city_wide')}：`,
    MEASURES.filter((m) => m !== 'counted').map((m) => [`${t(`sc_measure_${m}` as Key)} `, totFig(m, (tot as unknown as Record<string, number>)[m] ?? 0), '　']),
  );
  const policy = signedIn ? h(
    'p',
    { class: 'policy-line small', 'data-testid': 'scores-policy' },
    h('span', { class: 'muted' }, `${t('sc_policy')}：`),
    h('strong', null, card.policy_name),
    ' ',
    h('span', { class: 'tag mono', title: t('sc_fingerprint') }, `${card.policy_id} · ${card.policy_fingerprint}`),
    h('span', { class: 'muted' }, ` · ${t('sc_policy_rules', { min: card.min_sample })}`),
  ) : h('p', { class: 'policy-line small', 'data-testid': 'scores-policy' }, t('sc_pub_policy', { name: card.policy_name, min: card.min_sample }));

  // top / bottom lists
  const listSize = level === 'district' ? { top: t('sc_top_n', { n: 3 }), bottom: t('sc_last') } : { top: t('sc_top_n', { n: 10 }), bottom: t('sc_bottom_n', { n: 10 }) };
  const rankList = (codes: string[], testid: string, title: string, tone: string) =>
    h(
      'section',
      { class: `card rank-card ${tone}`, 'data-testid': testid },
      h('h2', null, title),
      codes.length
        ? h(
            'ol',
            { class: 'rank-list' },
            codes.map((c) => {
              const u = byCode.get(c);
              if (!u) return null;
              return h('li', { 'data-unit': c }, h('span', { class: 'rank-badge' }, u.rank_label), h('span', { class: 'rank-name' }, unitLink(u)), h('span', { class: 'rank-score' }, num(u.composite)));
            }),
          )
        : h('p', { class: 'muted small' }, t('sc_no_ranked', { min: card.min_sample })),
    );
  const bottomCodes = [...card.bottom].reverse(); // the last first
  const lists = h('div', { class: 'rank-lists' }, rankList(card.top, 'scores-top', listSize.top, 'top'), rankList(bottomCodes, 'scores-bottom', listSize.bottom, 'bottom'));

  // the chart: districts compared, else the top and bottom units
  const chartUnits = level === 'district' ? card.units.filter((u) => u.counted > 0).sort((a, b) => (b.composite ?? -1) - (a.composite ?? -1)) : [...new Set([...card.top, ...bottomCodes])].map((c) => byCode.get(c)!).filter(Boolean);
  const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': t('sc_chart_label') });
  const chartCard = chartUnits.length
    ? h('section', { class: 'card chart-card', 'data-testid': 'scores-chart' }, h('h2', null, level === 'district' ? t('sc_chart_districts') : t('sc_chart_topbottom')), chartBox)
    : null;

  /** A figure of a unit's line: a button that lists the tickets behind it. */
  function fig(u: UnitScore, measure: Measure, value: number, scope: 'unit' | 'industry' = 'unit'): Child {
    return h(
      'button',
      {
        type: 'button',
        class: 'fig-link',
        'data-measure': measure,
        'data-scope': scope,
        'data-figure': value,
        title: `${t(`sc_measure_${measure}` as Key)} · ${t('sc_drill_hint')}`,
        onclick: () => navigate(href('/scores', { month, level, district: district || undefined, sort: sort === 'rank' ? undefined : sort, desc: desc ? '1' : undefined, unit: u.unit_code, measure, scope: scope === 'industry' ? 'industry' : undefined }).slice(1)),
      },
      value,
    );
  }

  function unitLink(u: UnitScore): Child {
    const name = h('span', { class: 'unit-name' }, u.unit_name);
    if (!signedIn) return name;
    return h('a', { href: href('/tickets', { unit: u.unit_code }), 'data-unit-link': u.unit_code, title: t('sc_open_tickets') }, u.unit_name);
  }

  // the full table
  const cols: Col[] = [
    {
      key: 'rank',
      label: 'sc_col_rank',
      num: true,
      value: (u) => u.rank ?? 1e9,
      cell: (u) => (u.rank !== null ? h('span', { class: `rank-label ${u.rank_tied ? 'tied' : ''}`, title: u.rank_tied ? t('sc_tied') : undefined }, u.rank_label) : h('span', { class: 'not-ranked', title: reasonText(u) }, t('sc_not_ranked'))),
    },
    {
      key: 'unit',
      label: 'sc_col_unit',
      num: false,
      value: (u) => u.unit_name,
      cell: (u) =>
        h(
          'span',
          { class: 'unit-cell' },
          unitLink(u),
          signedIn ? h('span', { class: 'muted small mono' }, ` ${u.unit_code}`) : null,
          level === 'district' ? h('a', { class: 'drill small', href: href('/scores', { month, level: 'street', district: u.unit_code }), 'data-drill': u.unit_code }, t('sc_its_streets')) : null,
          u.rank === null ? h('span', { class: 'reason small' }, reasonText(u)) : null,
        ),
    },
    ...(level === 'street' ? [{ key: 'district', label: 'sc_col_district' as Key, num: false, value: (u: UnitScore) => districts.get(u.district_code ?? '') ?? u.district_code ?? '', cell: (u: UnitScore) => h('span', { class: 'small' }, districts.get(u.district_code ?? '') ?? u.district_code ?? '') }] : []),
    { key: 'counted', label: 'sc_col_counted', num: true, value: (u) => u.counted, cell: (u) => h('span', { 'data-col': 'counted' }, fig(u, 'counted', u.counted)) },
    { key: 'responded', label: 'sc_col_responded', num: true, value: (u) => u.responded, cell: (u) => h('span', { 'data-col': 'responded' }, fig(u, 'responded', u.responded)) },
    { key: 'valid', label: 'sc_col_valid', num: true, value: (u) => u.valid_callbacks, cell: (u) => h('span', { 'data-col': 'valid' }, fig(u, 'valid_callbacks', u.valid_callbacks)) },
    {
      key: 'resolved',
      label: 'sc_col_resolved',
      num: true,
      value: (u) => u.resolved,
      cell: (u) => h('span', { 'data-col': 'resolved', title: t('sc_resolved_title', { r: u.resolved, p: u.partly, n: u.unresolved }) }, fig(u, 'resolved', u.resolved), h('span', { class: 'muted small' }, ' / ', fig(u, 'partly', u.partly), ' / ', fig(u, 'unresolved', u.unresolved))),
    },
    {
      key: 'satisfied',
      label: 'sc_col_satisfied',
      num: true,
      value: (u) => u.satisfied,
      cell: (u) => h('span', { 'data-col': 'satisfied' }, fig(u, 'satisfied', u.satisfied), h('span', { class: 'muted small' }, ' / ', fig(u, 'basic', u.basic), ' / ', fig(u, 'unsatisfied', u.unsatisfied))),
    },
    {
      key: 'exempted',
      label: 'sc_col_exempted',
      num: true,
      value: (u) => u.exempted,
      cell: (u) => h('span', { 'data-col': 'exempted' }, fig(u, 'exempted', u.exempted), u.excluded ? h('span', { class: 'muted small', title: t('sc_measure_excluded') }, ' + ', fig(u, 'excluded', u.excluded)) : null),
    },
    ...RATES.map((r) => ({
      key: r,
      label: `sc_rate_${r}` as Key,
      num: true,
      value: (u: UnitScore) => rateOf(u, r) ?? -1,
      cell: (u: UnitScore) => h('span', { 'data-col': `${r}_rate`, 'data-value': rateOf(u, r) ?? '' }, rateCell(rateOf(u, r), u.intervals[r], r)),
    })),
    { key: 'composite', label: 'sc_composite', num: true, value: (u) => u.composite ?? -1, cell: (u) => h('strong', { 'data-col': 'composite' }, num(u.composite)) },
    {
      key: 'adjusted',
      label: 'sc_col_adjusted',
      num: true,
      title: 'sc_adjusted_title',
      value: (u) => u.case_mix.resolution.adjusted ?? -1,
      cell: (u) =>
        h(
          'span',
          { class: 'adj small', 'data-col': 'adjusted' },
          RATES.map((r) => {
            const cm = u.case_mix[r];
            const ratio = cm.ratio;
            return h('span', { class: `adj-v ${ratio === null ? '' : ratio >= 1.0 ? 'up' : 'down'}`, title: `${t(`sc_rate_${r}` as Key)} · ${t('sc_expected')} ${pct(cm.expected)} · ×${num(ratio, 2)}` }, pct(cm.adjusted, 0));
          }),
        ),
    },
    // 行业三率: a city department scored on its industry's tickets, whoever handled them
    ...(level === 'department'
      ? [
          {
            key: 'industry',
            label: 'sc_col_industry' as Key,
            num: true,
            title: 'sc_industry_title' as Key,
            value: (u: UnitScore) => u.industry?.composite ?? -1,
            cell: (u: UnitScore) => {
              const ind = u.industry;
              if (!ind) return h('span', { class: 'muted small', 'data-col': 'industry' }, t('sc_industry_none'));
              return h(
                'span',
                { class: 'industry-cell', 'data-col': 'industry', 'data-value': ind.composite ?? '' },
                h('strong', null, num(ind.composite)),
                h('span', null, `${t('sc_industry_counted')} `, fig(u, 'counted', ind.counted, 'industry'), ` · ${t('sc_col_valid')} `, fig(u, 'valid_callbacks', ind.valid_callbacks, 'industry')),
                h('span', { class: 'muted' }, RATES.map((r) => `${t(`sc_rate_${r}` as Key)} ${pct(ind[r])}`).join(' · ')),
                h('span', { class: 'muted', title: ind.categories.map((c) => `${c} ${categoryPathText(c)}`).join('\n') }, t('sc_industry_cats', { n: ind.categories.length, source: t(ind.source === 'policy' ? 'sc_industry_source_policy' : 'sc_industry_source_derived') })),
              );
            },
          },
        ]
      : []),
  ];

  const filterBox = h('div', { class: 'board-head' });
  const tableBox = h('div', { class: 'table-scroll' });
  const nameFilter = input('q', { type: 'search', value: nameQ, placeholder: t('sc_filter'), 'aria-label': t('sc_filter') });
  const cardsBox = h('div', { class: 'score-cards-host' });
  const pagerBox = h('div', { class: 'score-pager' });
  let curPage = page;
  /** The filter and the page go into the URL without reloading the scorecard. */
  const keepInUrl = () => {
    const cur = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const f = nameFilter.value.trim();
    if (f) cur.set('q', f);
    else cur.delete('q');
    if (curPage > 1) cur.set('page', String(curPage));
    else cur.delete('page');
    const s = cur.toString();
    history.replaceState(null, '', `#/scores${s ? `?${s}` : ''}`);
  };
  const districtSelect =
    level === 'street'
      ? select(
          'district',
          [...districts.entries()].map(([code, name]) => ({ value: code, label: name })),
          { value: district, placeholder: t('sc_all_districts'), onChange: (v) => go({ district: v || undefined, page: undefined }) },
        )
      : null;
  if (districtSelect) districtSelect.setAttribute('aria-label', t('sc_col_district'));
  const showEmpty = h('input', { type: 'checkbox', name: 'show_empty', id: 'sc-show-empty' }) as HTMLInputElement;
  const drawTable = () => {
    const f = nameFilter.value.trim().toLowerCase();
    let rows = card.units.filter((u) => (!district || level !== 'street' || u.district_code === district) && (showEmpty.checked || u.counted > 0));
    if (f) rows = rows.filter((u) => `${u.unit_name} ${u.unit_code}`.toLowerCase().includes(f));
    const col = cols.find((c) => c.key === sort) ?? cols[0];
    rows = [...rows].sort((a, b) => {
      const va = col.value(a);
      const vb = col.value(b);
      let c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va ?? '').localeCompare(String(vb ?? ''), 'zh-CN');
      if (c === 0) c = (a.rank ?? 1e9) - (b.rank ?? 1e9) || a.unit_code.localeCompare(b.unit_code);
      return desc ? -c : c;
    });
    const total = rows.length;
    const pages = Math.max(1, Math.ceil(total / SCORE_PAGE));
    if (curPage > pages) curPage = pages;
    const first = (curPage - 1) * SCORE_PAGE;
    rows = rows.slice(first, first + SCORE_PAGE);
    mount(cardsBox, scoreCards(rows, first, total));
    mount(
      pagerBox,
      total > SCORE_PAGE
        ? pager(curPage, SCORE_PAGE, total, (p) => {
            curPage = p;
            keepInUrl();
            drawTable();
            filterBox.scrollIntoView({ block: 'start' });
          })
        : null,
    );
    mount(
      tableBox,
      h(
        'table',
        { class: 'table board-table score-table', 'data-testid': 'scores-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            cols.map((c) => {
              const active = c.key === col.key;
              return h(
                'th',
                { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': active ? (desc ? 'descending' : 'ascending') : 'none', title: c.title ? t(c.title) : null },
                h(
                  'button',
                  { type: 'button', class: `sort-btn ${active ? 'active' : ''}`, 'data-sort': c.key, onclick: () => go({ sort: c.key === 'rank' ? undefined : c.key, desc: (active ? !desc : c.num && c.key !== 'rank') ? '1' : undefined }) },
                  t(c.label),
                  h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (desc ? '▼' : '▲') : '↕'),
                ),
              );
            }),
          ),
        ),
        h(
          'tbody',
          null,
          rows.length
            ? rows.map((u) => h('tr', { 'data-unit': u.unit_code, class: u.rank === null ? 'unranked' : null }, cols.map((c) => h('td', { class: c.num ? 'num' : null, 'data-label': t(c.label) }, c.cell(u)))))
            : h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, t('sc_no_rows'))),
        ),
      ),
    );
  };
  nameFilter.addEventListener('input', () => {
    curPage = 1;
    keepInUrl();
    drawTable();
  });
  // the sort on a phone, where the table's headers are not shown
  const sortSelect = select(
    'sort',
    cols.filter((c) => ['rank', 'composite', 'response', 'resolution', 'satisfaction', 'counted', 'unit'].includes(c.key)).map((c) => ({ value: c.key, label: t(c.label) })),
    { value: sort, onChange: (v) => go({ sort: v === 'rank' ? undefined : v, desc: v !== 'rank' && v !== 'unit' ? '1' : undefined, page: undefined }) },
  );
  sortSelect.setAttribute('aria-label', t('sc_sort_label'));
  sortSelect.classList.add('sort-select');
  /** The lines of this page as cards (a phone): rank, unit, district, the three rates, composite. */
  function scoreCards(rows: UnitScore[], first: number, total: number): HTMLElement {
    return h(
      'div',
      { class: 'score-cards-wrap' },
      h('p', { class: 'muted small' }, total ? t('sc_page_units', { from: first + 1, to: first + rows.length, total }) : t('sc_no_rows')),
      h(
        'ol',
        { class: 'score-cards', 'data-testid': 'scores-cards', 'aria-label': t('sc_cards_label') },
        rows.map((u) =>
          h(
            'li',
            { class: `score-card ${u.rank === null ? 'unranked' : ''}`, 'data-unit': u.unit_code },
            h(
              'div',
              { class: 'sc-card-head' },
              u.rank !== null
                ? h('span', { class: 'rank-badge', 'aria-label': t('sc_card_rank', { rank: u.rank_label }) }, u.rank_label)
                : h('span', { class: 'not-ranked small' }, t('sc_not_ranked')),
              h('span', { class: 'sc-card-name' }, h('strong', null, unitLink(u)), level === 'street' && u.district_name ? h('span', { class: 'muted small' }, u.district_name) : null),
              h('span', { class: 'sc-card-composite', title: t('sc_composite') }, h('strong', null, num(u.composite)), h('span', { class: 'muted small' }, t('sc_composite'))),
            ),
            h(
              'dl',
              { class: 'sc-card-rates' },
              RATES.map((r) => [h('dt', null, t(`sc_rate_${r}` as Key)), h('dd', { 'data-col': `${r}_rate` }, pct(rateOf(u, r)))]),
              h('dt', null, t('sc_col_counted')),
              h('dd', null, fig(u, 'counted', u.counted)),
            ),
            u.rank === null ? h('p', { class: 'reason small muted' }, reasonText(u)) : null,
            level === 'district' ? h('a', { class: 'drill small', href: href('/scores', { month, level: 'street', district: u.unit_code }) }, t('sc_its_streets')) : null,
          ),
        ),
      ),
    );
  }
  showEmpty.addEventListener('change', drawTable);
  mount(
    filterBox,
    h('h2', null, t('sc_full_table'), ' ', h('span', { class: 'badge muted' }, card.units.length)),
    nameFilter,
    districtSelect,
    sortSelect,
    h('label', { class: 'check small', for: 'sc-show-empty' }, showEmpty, ' ', t('sc_show_empty')),
    district && level === 'street' ? h('a', { class: 'filter-chip', href: href('/scores', { month, level: 'district' }), 'data-testid': 'scores-district-chip' }, `${districts.get(district) ?? district} ✕`) : null,
  );
  drawTable();

  const exemptions = card.exemptions.length
    ? h(
        'details',
        { class: 'card exemptions', 'data-testid': 'scores-exemptions' },
        h('summary', null, t('sc_exemptions', { n: card.exemptions.length })),
        h(
          'div',
          { class: 'table-scroll' },
          h(
          'table',
          { class: 'table' },
          h('thead', null, h('tr', null, [t('sc_ex_ticket'), t('sc_col_unit'), t('sc_ex_reason')].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', null, card.exemptions.map((e) => h('tr', null, h('td', { class: 'mono' }, e.number || `#${e.ticket_id}`), h('td', null, byCode.get(e.scored_unit)?.unit_name ?? e.scored_unit), h('td', null, lang() === 'zh' ? e.reason_zh : e.reason)))),
          ),
        ),
      )
    : null;

  // the tickets behind a figure (`unit` + `measure` [+ `scope=industry`] in the URL)
  const drillUnit = q.get('unit');
  const drillTotal = q.get('total') === '1';
  const drillMeasure = (MEASURES as readonly string[]).includes(q.get('measure') ?? '') ? (q.get('measure') as Measure) : null;
  const drillBox = h('div');
  if ((drillUnit || drillTotal) && drillMeasure) {
    const line = drillUnit ? (byCode.get(drillUnit) as UnitScore | undefined) : undefined;
    void drillPanel(drillBox, {
      month,
      level,
      line,
      unit: drillUnit ?? undefined,
      totals: drillTotal && !drillUnit ? (tot as unknown as Record<string, number>) : undefined,
      measure: drillMeasure,
      scope: q.get('scope') === 'industry' ? 'industry' : 'unit',
      page: Math.max(1, Number(q.get('dpage') ?? '1') || 1),
      signedIn,
      unitNames: new Map(card.units.map((u) => [u.unit_code, u.unit_name])),
      close: () => go({ unit: undefined, total: undefined, measure: undefined, scope: undefined, dpage: undefined }),
      goPage: (p) => go({ unit: drillUnit ?? undefined, total: drillTotal ? '1' : undefined, measure: drillMeasure, scope: q.get('scope') ?? undefined, dpage: String(p) }),
      alive,
    });
  }

  mount(
    body,
    policy,
    card.warnings.length ? h('div', { class: 'alert warn' }, card.warnings.join('；')) : null,
    drillBox,
    stats,
    totFigs,
    level === 'street' && district ? null : lists,
    chartCard,
    h('section', { class: 'card flush board-card' }, filterBox, cardsBox, tableBox, pagerBox),
    exemptions,
    h('p', { class: 'muted small' }, t('sc_footnote', periodDays(card.from, card.to))),
  );
  if (chartCard) {
    try {
      const dispose = await rateBars(
        chartBox,
        chartUnits.map((u) => u.unit_name),
        RATES.map((r) => ({ name: t(`sc_rate_${r}` as Key), color: RATE_COLORS[r], values: chartUnits.map((u) => rateOf(u, r)) })),
      );
      if (alive()) onCleanup(dispose);
      else dispose();
    } catch (e) {
      mount(chartBox, h('p', { class: 'muted small' }, String(e)));
    }
  }
}

interface DrillOpts {
  month: string;
  level: ScoreLevel;
  line: UnitScore | undefined;
  /** Undefined: the level's totals. */
  unit: string | undefined;
  /** The level's totals, when drilling into them. */
  totals?: Record<string, number>;
  measure: Measure;
  scope: 'unit' | 'industry';
  page: number;
  signedIn: boolean;
  unitNames: Map<string, string>;
  close: () => void;
  goPage: (p: number) => void;
  alive: () => boolean;
}

const DRILL_PAGE = 50;
/** Lines of the full table (or cards) a page. */
const SCORE_PAGE = 50;

/** The tickets behind one figure: the policy that counted them, the rows, a CSV of all of them. */
async function drillPanel(box: HTMLElement, o: DrillOpts): Promise<void> {
  mount(box, h('section', { class: 'card drill-card' }, loadingBlock()));
  let d: DrillPage;
  try {
    [d] = await Promise.all([cbApi.drill({ month: o.month, unit: o.unit, level: o.level, measure: o.measure, scope: o.scope, page: o.page, page_size: DRILL_PAGE }), loadEnums(), loadCategories().catch(() => null)]);
  } catch (e) {
    if (o.alive()) mount(box, errorBlock(e instanceof ApiError ? e.text(lang()) : String(e), o.close));
    return;
  }
  if (!o.alive()) return;
  // the figure printed on the line (this page's scorecard) and the list's length must agree
  const shown = o.totals ? o.totals[o.measure] : o.line ? (o.scope === 'industry' ? (o.line.industry?.[o.measure as keyof NonNullable<UnitScore['industry']>] as number | undefined) : (o.line[o.measure as keyof UnitScore] as number | undefined)) : undefined;
  const mismatch = d.total !== d.figure || (shown !== undefined && shown !== d.total);
  const measureLabel = `${o.scope === 'industry' ? `${t('sc_col_industry')} · ` : ''}${t(`sc_measure_${o.measure}` as Key)}`;
  const unitName = (c: string) => o.unitNames.get(c) ?? c;
  const response = (r: DrillRow) =>
    r.responded_at
      ? h('span', { class: r.responded_in_time ? '' : 'bad' }, fmtLocal(r.responded_at), ' ', h('span', { class: `badge ${r.responded_in_time ? 'ok' : 'warn'}` }, r.responded_in_time ? t('sc_dr_in_time') : t('sc_dr_late')))
      : h('span', { class: 'badge warn' }, t('sc_dr_never'));
  const callback = (r: DrillRow) => {
    if (r.contacted === null || r.contacted === undefined) return h('span', { class: 'muted' }, t('sc_dr_no_callback'));
    const answers = `${enumLabel('resolutions', r.resolution)} / ${enumLabel('satisfactions', r.satisfaction)}`;
    return h(
      'span',
      null,
      r.contacted ? answers : h('span', { class: 'muted' }, `${t('sc_dr_not_contacted')} · ${answers}`),
      r.counted_resolution && r.counted_resolution !== r.resolution ? h('span', { class: 'badge warn' }, t('sc_dr_counted_as', { r: enumLabel('resolutions', r.counted_resolution) })) : null,
    );
  };
  const rows = d.items.map((r) =>
    h(
      'tr',
      { 'data-ticket': r.number, 'data-ticket-id': r.ticket_id },
      h('td', { class: 'mono' }, o.signedIn ? h('a', { href: `#/tickets/${r.ticket_id}`, 'data-ticket-link': r.ticket_id }, r.number) : r.number),
      h(
        'td',
        null,
        unitName(r.unit_code),
        r.role === 'assist' ? h('span', { class: 'badge muted' }, t('sc_dr_assist')) : null,
        r.state === 'returned' ? h('span', { class: 'badge warn' }, enumLabel('assignment_states', 'returned')) : null,
        r.round > 0 ? h('span', { class: 'badge muted' }, t('sc_dr_reopened', { n: r.round })) : null,
      ),
      h('td', { class: 'small', title: r.category_code }, categoryPathText(r.category_code) || r.category_code),
      h('td', null, enumLabel('tiers', r.tier)),
      h('td', null, fmtLocal(r.first_dispatched_at)),
      h('td', null, response(r)),
      h('td', null, r.finished_at ? fmtLocal(r.finished_at) : '—'),
      h('td', null, callback(r)),
      h('td', null, r.exempt_reason ? enumLabel('exempt_reasons', r.exempt_reason) : ''),
    ),
  );
  mount(
    box,
    h(
      'section',
      { class: 'card drill-card', 'data-testid': 'drill', 'data-unit': d.unit_code ?? 'total', 'data-measure': d.measure, 'data-scope': d.scope, 'data-total': d.total, 'data-figure': d.figure },
      h(
        'div',
        { class: 'drill-head' },
        h('h2', null, t('sc_drill_title', { unit: d.unit_name ?? `${t(`sc_level_${o.level}` as Key)} · ${t('sc_city_wide')}`, measure: measureLabel, n: d.total })),
        h(
          'div',
          { class: 'actions-row' },
          h('a', { class: 'btn small', href: drillUrl({ month: o.month, unit: o.unit, level: o.level, measure: o.measure, scope: o.scope, format: 'csv' }), download: `jiesu-${o.month}-${o.unit ?? o.level}-${o.measure}.csv`, 'data-testid': 'drill-csv' }, t('sc_drill_csv')),
          h('button', { type: 'button', class: 'btn small ghost', 'data-testid': 'drill-close', onclick: o.close }, t('sc_drill_close')),
        ),
      ),
      h('p', { class: 'small muted' }, t('sc_drill_lead')),
      h(
        'p',
        { class: 'small', 'data-testid': 'drill-policy' },
        o.signedIn
          ? t('sc_drill_policy', { name: d.policy_name, id: d.policy_id, fp: d.policy_fingerprint, period: d.policy_period, ...periodDays(d.from, d.to) })
          : t('sc_pub_drill_policy', { name: d.policy_name, from: fmtLocal(d.from, 'date'), to: fmtLocal(d.to, 'date') }),
      ),
      d.scope === 'industry' && d.industry_categories.length ? h('p', { class: 'small muted' }, d.industry_categories.map((c) => categoryPathText(c) || c).join('、')) : null,
      mismatch ? h('div', { class: 'alert error' }, t('sc_drill_mismatch', { n: d.total, figure: shown ?? d.figure })) : null,
      d.total
        ? h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'table', 'data-testid': 'drill-table' },
              h('thead', null, h('tr', null, (['sc_dr_number', 'sc_dr_unit', 'sc_dr_category', 'sc_dr_tier', 'sc_dr_first', 'sc_dr_response', 'sc_dr_finished', 'sc_dr_callback', 'sc_dr_exempt'] as Key[]).map((k) => h('th', { scope: 'col' }, t(k))))),
              h('tbody', null, rows),
            ),
          )
        : h('p', { class: 'muted' }, t('sc_dr_empty')),
      d.total > DRILL_PAGE ? pager(d.page, DRILL_PAGE, d.total, o.goPage) : null,
    ),
  );
  box.scrollIntoView({ block: 'start' });
}
