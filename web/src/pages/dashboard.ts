// The leader's dashboard (数据看板, `#/dashboard`, capability `analytics`): volume over time with
// holidays, channel and type mix, top categories with a drill into their sub-categories, the
// districts as a tile map coloured by requests per 10,000 residents, a street × category heat grid,
// seasonality, handling time, the three rates, the city problem ledger and the latest daily
// bulletin — all from `/api/v1/analytics/*`. The filters live in the hash query (rewritten in place,
// so a reload or a shared link shows the same view); every mark and figure that stands for tickets
// links to them (the API's `drill`, a `#/tickets?…` link). A print view (打印) lays the charts out
// one per page width with the filters as text.

import { ApiError } from '../api';
import { analyticsApi, reportHtmlPath, reportXlsxPath } from '../analytics-api';
import { downloadReport, openReport } from '../report-open';
import type { AnalyticsFilter, DimKey, DurationRow, GroupAnswer, GroupRow, Interval, LedgerRow, ReportItem, SeriesPoint, SubscriptionItem } from '../analytics-types';
import { mountChart, registerGeo, type ChartClick } from '../chart';
import { errorBlock, loadingBlock, pageHeader, radioGroup } from '../components';
import * as C from '../dashboard-charts';
import { button, field, h, input, mount, select, toast, type Child } from '../dom';
import { cityDay, fmtLocal } from '../format';
import { lang, t, type Key } from '../i18n';
import type { PageCtx } from '../page';
import { hashQuery, setHashQuery } from '../pager';
import { navigate } from '../router';
import { can, CHANNELS, enumLabel, enumOptions, loadCategories, loadUnits, TYPES } from '../store';
import { nextDay } from './tickets';

// ---- the view's state (the hash query) -----------------------------------------------------------

interface State {
  /** City days; `to` exclusive (as the API takes them). */
  from: string;
  to: string;
  district: string;
  category: string;
  channel: string;
  type: string;
  interval: Interval;
  /** The top-level category the top-categories chart is drilled into. */
  drill: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** The ECharts map the city's district boundaries are registered as. */
const MAP_NAME = 'jiesu-districts';
const two = (n: number) => String(n).padStart(2, '0');

/** YYYY-MM-DD of the day before `d`. */
function prevDay(d: string): string {
  const ms = Date.parse(`${d}T00:00:00Z`);
  return Number.isNaN(ms) ? d : new Date(ms - 86_400_000).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b` (city days). */
function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** The default period: the last 12 full months and the current one (to tomorrow, exclusive). */
export function defaultPeriod(today = cityDay(new Date())): { from: string; to: string } {
  const [y, m] = today.split('-').map(Number);
  const months = y * 12 + (m - 1) - 12;
  return { from: `${Math.floor(months / 12)}-${two((months % 12) + 1)}-01`, to: nextDay(today) };
}

function readState(q: URLSearchParams): State {
  const d = defaultPeriod();
  const from = q.get('from') ?? '';
  const to = q.get('to') ?? '';
  const interval = q.get('interval');
  return {
    from: DAY.test(from) ? from : d.from,
    to: DAY.test(to) ? to : d.to,
    district: q.get('district') ?? '',
    category: q.get('category') ?? '',
    channel: q.get('channel') ?? '',
    type: q.get('type') ?? '',
    interval: interval === 'day' || interval === 'week' ? interval : 'month',
    drill: q.get('drill') ?? '',
  };
}

function filterOf(s: State): AnalyticsFilter {
  return { from: s.from, to: s.to, district: s.district || undefined, category: s.category || undefined, channel: s.channel || undefined, type: s.type || undefined };
}

/** Follows a `drill` link (`#/tickets?…`) of the API. */
function go(drill: string | null | undefined): void {
  if (drill) navigate(drill.replace(/^#/, ''));
}

const errText = (e: unknown) => (e instanceof ApiError ? e.text(lang()) : e instanceof Error ? e.message : String(e));

// ---- small parts ----------------------------------------------------------------------------------

function card(o: { testid: string; title: string; wide?: boolean; tools?: Child; note?: string }): { el: HTMLElement; body: HTMLElement; note: HTMLElement } {
  const body = h('div', { class: 'dash-card-body' }, loadingBlock());
  const note = h('p', { class: 'muted small dash-note', hidden: !o.note }, o.note ?? '');
  const el = h('section', { class: `card dash-card${o.wide ? ' wide' : ''}`, 'data-testid': o.testid }, h('div', { class: 'dash-card-head' }, h('h2', null, o.title), o.tools ?? null), note, body);
  return { el, body, note };
}

/** A chart's box (its height set here, its width the card's unless `width` is given). */
function chartBox(label: string, height: number, testid: string, width?: number): HTMLElement {
  const el = h('div', { class: 'dash-chart', role: 'img', 'aria-label': label, 'data-testid': testid });
  el.style.height = `${height}px`;
  if (width) el.style.width = `${width}px`;
  return el;
}

/** A figure that links to its tickets when the API gave a drill link. */
function drillLink(text: string, drill: string | null | undefined, testid?: string): Child {
  return drill ? h('a', { href: drill, class: 'dash-drill', 'data-testid': testid ?? null }, text) : text;
}

/** The data behind a chart, as a table under a 数据表 disclosure (links to the tickets). */
function dataTable(head: string[], rows: Child[][], testid: string, open = false): HTMLElement {
  return h(
    'details',
    { class: 'dash-data', open },
    h('summary', null, t('dash_data')),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'table compact dash-table', 'data-testid': testid },
        h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h('td', { class: i > 0 && (typeof c === 'string' || typeof c === 'number' || (c instanceof HTMLElement && c.tagName === 'A')) ? 'num' : null }, c))))),
      ),
    ),
  );
}

const ratesCells = (m: { response_rate: number | null; resolution_rate: number | null; satisfaction_rate: number | null }) => [C.pct(m.response_rate), C.pct(m.resolution_rate), C.pct(m.satisfaction_rate)];
const ratesHead = () => [t('sc_rate_response'), t('sc_rate_resolution'), t('sc_rate_satisfaction')];

function changeBadge(v: number | null | undefined, testid?: string): HTMLElement {
  const dir = v === null || v === undefined ? 'flat' : v > 0 ? 'up' : v < 0 ? 'down' : 'flat';
  return h('span', { class: `dash-change ${dir}`, 'data-testid': testid ?? null, 'data-value': v ?? '' }, dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : '', C.change(v));
}

function noData(): HTMLElement {
  return h('p', { class: 'muted dash-empty' }, t('dash_empty'));
}

const rowLabel = (r: GroupRow, i = 0) => C.keyLabel(r.keys[i]);
const monthName = (m: number) => (lang() === 'zh' ? `${m}月` : new Intl.DateTimeFormat('en-GB', { month: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(2020, m - 1, 15))));

/** The end (exclusive) of the period starting at `start`. */
function periodEnd(start: string, interval: Interval): string {
  if (interval === 'day') return nextDay(start);
  if (interval === 'week') return new Date(Date.parse(`${start}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10);
  const [y, m] = start.split('-').map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${two(m + 1)}-01`;
}

// ---- the page -------------------------------------------------------------------------------------

export async function dashboardPage({ root, alive, onCleanup }: PageCtx): Promise<void> {
  let s = readState(hashQuery());
  const narrow = window.matchMedia('(max-width: 720px)').matches;

  // filters
  const from = input('from', { type: 'date', value: s.from, required: true });
  const toIncl = input('to', { type: 'date', value: prevDay(s.to), required: true });
  const district = select('district', [], { placeholder: t('dash_all') });
  const category = select('category', [], { placeholder: t('dash_all') });
  const channel = select('channel', enumOptions('channels', CHANNELS), { placeholder: t('dash_all'), value: s.channel });
  const type = select('type', enumOptions('types', TYPES), { placeholder: t('dash_all'), value: s.type });
  const rangeError = h('div', { class: 'alert error', role: 'alert', hidden: true });
  const districtNames = new Map<string, string>();
  const categoryNames = new Map<string, string>();
  // the filters in words: on paper (the form is not printed) and, on a phone, beside 筛选
  const filterText = h('p', { class: 'dash-filter-text', 'data-testid': 'dash-filter-text' });
  const filterSummary = h('p', { class: 'muted small dash-filter-summary' });
  const showFilterText = () => {
    const all = t('dash_all');
    const text = t('dash_filter_text', {
      from: s.from,
      to: prevDay(s.to),
      district: s.district ? districtNames.get(s.district) ?? s.district : all,
      category: s.category ? categoryNames.get(s.category) ?? s.category : all,
      channel: s.channel ? enumLabel('channels', s.channel) : all,
      type: s.type ? enumLabel('types', s.type) : all,
    });
    mount(filterText, text);
    mount(filterSummary, text);
    if (toggle) mount(toggle, toggleLabel());
  };
  void loadUnits({ kind: 'district' })
    .then((ds) => {
      ds.forEach((d) => districtNames.set(d.code, d.name));
      district.replaceChildren(h('option', { value: '' }, t('dash_all')), ...ds.map((d) => h('option', { value: d.code }, d.name)));
      district.value = s.district;
      showFilterText();
    })
    .catch(() => undefined);
  void loadCategories()
    .then(({ tree }) => {
      tree.forEach((c) => categoryNames.set(c.code, c.name));
      category.replaceChildren(h('option', { value: '' }, t('dash_all')), ...tree.map((c) => h('option', { value: c.code }, c.name)));
      category.value = s.category;
      showFilterText();
    })
    .catch(() => undefined);

  const applyFilters = () => {
    const f = from.value;
    const ti = toIncl.value;
    if (!DAY.test(f) || !DAY.test(ti) || f > ti) {
      mount(rangeError, t('dash_bad_range'));
      rangeError.hidden = false;
      return;
    }
    rangeError.hidden = true;
    const next: State = { ...s, from: f, to: nextDay(ti), district: district.value, category: category.value, channel: channel.value, type: type.value };
    // a new category filter ends a drill into another one
    if (next.category !== s.category) next.drill = '';
    s = next;
    setHashQuery({ from: s.from, to: s.to, district: s.district, category: s.category, channel: s.channel, type: s.type, interval: s.interval === 'month' ? '' : s.interval, drill: s.drill });
    showFilterText();
    reload();
  };
  for (const el of [from, toIncl, district, category, channel, type]) el.addEventListener('change', applyFilters);
  const toggleLabel = () => {
    const active = [s.district, s.category, s.channel, s.type].filter(Boolean).length;
    return `${t('dash_filters')}${active ? ` (${active})` : ''}`;
  };
  const filterGrid = h(
    'div',
    { class: 'filter-grid dash-filter-grid', hidden: narrow },
    field(t('dash_from'), from),
    field(t('dash_to'), toIncl),
    field(t('dash_district'), district),
    field(t('dash_category'), category),
    field(t('dash_channel'), channel),
    field(t('dash_type'), type),
  );
  const filterActions = h('div', { class: 'filter-actions', hidden: narrow }, h('span', { class: 'spacer' }), h('a', { class: 'btn ghost', href: '#/dashboard', 'data-testid': 'dash-reset' }, t('dash_reset')));
  const toggle = narrow
    ? button(toggleLabel(), {
        class: 'btn ghost small filter-toggle',
        'aria-expanded': 'false',
        onclick: () => {
          const open = toggle!.getAttribute('aria-expanded') !== 'true';
          toggle!.setAttribute('aria-expanded', String(open));
          filterGrid.hidden = !open;
          filterActions.hidden = !open;
        },
      })
    : null;
  const filters = h(
    'form',
    { class: 'card filters dash-filters', 'aria-label': t('dash_filters'), 'data-testid': 'dash-filters', onsubmit: (ev: Event) => ev.preventDefault() },
    toggle,
    narrow ? filterSummary : null,
    filterGrid,
    rangeError,
    filterActions,
  );

  const printBtn = button(t('dash_print'), { class: 'btn', 'data-testid': 'dash-print', onclick: () => window.print() });
  const body = h('div', { class: 'dash-body' });
  // 主动治理: the governance pages a leader reaches from here (kept out of the top menu, which must
  // fit a 1366 px screen)
  const governance = h(
    'nav',
    { class: 'dash-governance', 'aria-label': t('dash_governance'), 'data-testid': 'dash-governance' },
    h('span', { class: 'muted' }, `${t('dash_governance')}：`),
    can('alerts') ? h('a', { href: '#/alerts' }, t('alerts_title')) : null,
    h('a', { href: '#/streets' }, t('st_title')),
    h('a', { href: '#/foresight' }, t('fs_title')),
    can('monthly-view') ? h('a', { href: '#/monthly' }, t('mt_title')) : null,
    can('reply-audit') ? h('a', { href: '#/audit' }, t('au_title')) : null,
  );
  mount(root, h('div', { class: 'dashboard', 'data-testid': 'dashboard' }, pageHeader(t('dash_title'), t('dash_lead'), printBtn), governance, filters, filterText, body));
  showFilterText();

  // the city's own district boundaries, if an administrator loaded them (once a page): the name
  // of the registered map, or null for the tile grid (404: none loaded; a failure: the grid too)
  let shapes: Promise<string | null> | null = null;
  const districtShapes = () =>
    (shapes ??= (async () => {
      try {
        const [geo, ds] = await Promise.all([analyticsApi.geojson(), loadUnits({ kind: 'district' })]);
        const codes = new Set(ds.map((d) => d.code));
        const features = (geo.features ?? [])
          .map((ft) => ({ ...ft, properties: { ...ft.properties, code: String(ft.properties?.code ?? '') } }))
          .filter((ft) => codes.has(ft.properties.code));
        if (!features.length) return null;
        await registerGeo(MAP_NAME, { type: 'FeatureCollection', features });
        return MAP_NAME;
      } catch (e) {
        if (e instanceof ApiError && e.status === 403) throw e;
        return null;
      }
    })());

  // ---- loading ---------------------------------------------------------------------------------
  let gen = 0;
  /** The charts drawn, by their box: drawing into a box again disposes of its old chart. */
  const disposers = new Map<string, () => void>();
  const disposeAll = () => {
    disposers.forEach((f) => f());
    disposers.clear();
  };
  /** Redraws the trend alone (the interval switch); set by each reload. */
  let redrawTrend = () => {};
  onCleanup(disposeAll);
  let forbidden = false;

  function reload(): void {
    const g = ++gen;
    disposeAll();
    const live = () => alive() && g === gen && !forbidden;
    const f = filterOf(s);
    const catDim = s.category ? 'category_l2' : 'category_l1';

    /** Runs a card's task: loading, then its content, or its error with a retry (403: no access). */
    const run = async (slot: HTMLElement, task: () => Promise<void>): Promise<void> => {
      mount(slot, loadingBlock());
      try {
        await task();
      } catch (e) {
        if (!live()) return;
        if (e instanceof ApiError && e.status === 403) {
          forbidden = true;
          disposeAll();
          mount(body, h('div', { class: 'card empty-state dash-forbidden', 'data-testid': 'dash-forbidden' }, h('p', null, t('dash_forbidden')), h('p', { class: 'muted small' }, errText(e))));
          return;
        }
        mount(slot, errorBlock(errText(e), () => void run(slot, task)));
      }
    };
    /** Draws a chart into `box` (already in the page) unless the view moved on. */
    const draw = async (box: HTMLElement, option: Record<string, unknown>, onClick?: (p: ChartClick) => void) => {
      const key = box.dataset.testid ?? '';
      disposers.get(key)?.();
      disposers.delete(key);
      const dispose = await mountChart(box, option, onClick);
      if (live()) disposers.set(key, dispose);
      else dispose();
    };
    const clickDrill = (p: ChartClick) => go((p.data as C.ItemMeta | undefined)?.drill);

    // the answers more than one card uses (a failure shows in each of them)
    const month = analyticsApi.series(f, 'month');
    const cats = analyticsApi.group(f, [catDim], 10);
    month.catch(() => undefined);
    cats.catch(() => undefined);

    const kpis = h('div', { class: 'dash-kpis', 'data-testid': 'dash-kpis' });
    const trend = card({ testid: 'dash-trend', title: t('dash_trend'), wide: true, tools: intervalSwitch() });
    const channels = card({ testid: 'dash-channels', title: t('dash_channels') });
    const types = card({ testid: 'dash-types', title: t('dash_types') });
    const categories = card({ testid: 'dash-categories', title: s.category ? t('dash_sub_cats_title') : t('dash_top_cats') });
    const districts = card({ testid: 'dash-districts', title: t('dash_districts'), note: t('dash_tilemap_note') });
    const streets = card({ testid: 'dash-streets', title: t('dash_streets'), wide: true });
    const season = card({ testid: 'dash-season', title: t('dash_season'), note: t('dash_season_note') });
    const rates = card({ testid: 'dash-rates', title: t('dash_rates') });
    const durations = card({ testid: 'dash-durations', title: t('dash_durations'), wide: true, note: t('dash_durations_note') });
    const ledger = card({ testid: 'dash-ledger', title: t('dash_ledger'), wide: true, note: t('dash_ledger_lead', ledgerPrevious(s)) });
    mount(
      body,
      kpis,
      h('div', { class: 'dash-grid' }, trend.el, channels.el, types.el, categories.el, districts.el, streets.el, season.el, rates.el, durations.el, ledger.el),
    );

    // KPIs: the total and a day's average (from the monthly series), the latest daily bulletin
    const figures = h('div', { class: 'dash-figures' });
    const reportSlot = h('div', { class: 'stat dash-report', 'data-testid': 'dash-report' }, loadingBlock());
    const subsSlot = h('div', { class: 'dash-subs', 'data-testid': 'dash-subs' });
    mount(kpis, h('div', { class: 'stats dash-stats' }, figures, reportSlot), subsSlot);
    void latestReport(reportSlot, live);
    void reportSubscriptions(subsSlot, live);
    void run(figures, async () => {
      const m = await month;
      if (!live()) return;
      const total = m.counted.tickets;
      const tomorrow = nextDay(cityDay(new Date()));
      const days = Math.max(1, daysBetween(s.from, s.to < tomorrow ? s.to : tomorrow));
      // the ticket list filters by period, district, category, channel and type (its `to` is inclusive)
      const totalHref = `#/tickets?${new URLSearchParams(Object.entries({ from: s.from, to: prevDay(s.to), district: s.district, category: s.category, channel: s.channel, type: s.type }).filter(([, v]) => v)).toString()}`;
      const totalBody = [h('span', { class: 'stat-n' }, C.num(total)), h('span', { class: 'stat-l' }, t('dash_total')), h('span', { class: 'muted small' }, t('dash_period', { from: s.from, to: prevDay(s.to) }))];
      mount(
        figures,
        h('a', { class: 'stat info', href: totalHref, 'data-testid': 'dash-total', 'data-value': total }, totalBody),
        h('div', { class: 'stat' }, h('span', { class: 'stat-n' }, C.num(Math.round((total / days) * 10) / 10)), h('span', { class: 'stat-l' }, t('dash_daily_avg')), h('span', { class: 'muted small' }, t('dash_days', { n: days }))),
      );
    });

    // 2. the volume trend with holidays and the last point's changes
    let trendSeq = 0;
    redrawTrend = () => void run(trend.body, async () => {
      const my = ++trendSeq;
      const sr = s.interval === 'month' ? await month : await analyticsApi.series(f, s.interval);
      // a later switch of the interval wins
      if (!live() || my !== trendSeq) return;
      if (!sr.points.length) return mount(trend.body, noData());
      const box = chartBox(t('dash_trend'), 300, 'trend-chart');
      const pts = sr.points;
      const last = pts[pts.length - 1];
      // a period not over yet: it runs past the end of the range or into today
      const today = cityDay(new Date());
      const partial = periodEnd(last.start, s.interval) > (sr.counted.to < today ? sr.counted.to : today);
      const lastFull = partial ? pts[pts.length - 2] : undefined;
      const line = (p: SeriesPoint, key: Key, testid: string) =>
        h(
          'p',
          { class: 'dash-last', 'data-testid': testid, 'data-period': p.period, 'data-count': p.count },
          h('span', null, t(key, { period: p.period }), ' '),
          h('strong', null, drillLink(C.num(p.count), p.drill)),
          ' ',
          t('dash_tickets_unit'),
          key === 'dash_last' && partial ? h('span', { class: 'muted small' }, ` ${t('dash_partial')}`) : null,
          h('span', { class: 'dash-sep' }, ' · '),
          h('span', { class: 'nowrap' }, t('dash_mom'), ' ', changeBadge(p.mom, `${testid}-mom`)),
          h('span', { class: 'dash-sep' }, ' · '),
          h('span', { class: 'nowrap' }, t('dash_yoy'), ' ', changeBadge(p.yoy, `${testid}-yoy`)),
        );
      mount(
        trend.body,
        h('div', { class: 'dash-lasts' }, line(last, 'dash_last', 'trend-last'), lastFull ? line(lastFull, 'dash_prev_full', 'trend-last-full') : null),
        box,
        h('p', { class: 'muted small dash-legend' }, h('span', { class: `dash-swatch ${s.interval === 'day' ? 'area' : 'pin'}`, 'aria-hidden': 'true' }), s.interval === 'day' ? t('dash_holiday_note_day') : t('dash_holiday_note_pin')),
        dataTable(
          [t('dash_col_period'), t('dash_col_n'), t('dash_mom'), t('dash_yoy')],
          pts.map((p) => [p.period, drillLink(C.num(p.count), p.drill), C.change(p.mom), C.change(p.yoy)]),
          'trend-table',
        ),
      );
      await draw(box, C.trendOption(pts, sr.holidays ?? [], s.interval, sr.counted.to), clickDrill);
    });
    redrawTrend();

    // 3. channel and type mix
    const mix = (slot: HTMLElement, dim: 'channel' | 'type', enumGroup: string, title: string) =>
      run(slot, async () => {
        const g = await analyticsApi.group(f, [dim]);
        if (!live()) return;
        if (!g.rows.length) return mount(slot, noData());
        const total = g.rows.reduce((a, r) => a + r.count, 0);
        const label = (r: GroupRow) => (lang() === 'zh' ? rowLabel(r) : enumLabel(enumGroup, r.keys[0]?.code) || rowLabel(r));
        const box = chartBox(title, C.barsHeight(g.rows.length), `${dim}-chart`);
        mount(slot, box, dataTable([t('dash_name'), t('dash_col_n'), t('dash_col_share'), ...ratesHead()], g.rows.map((r) => [label(r), drillLink(C.num(r.count), r.drill), C.pct(total ? r.count / total : null), ...ratesCells(r)]), `${dim}-table`));
        await draw(box, C.rankBarsOption(g.rows.map((r) => ({ label: label(r), value: r.count, drill: r.drill, code: r.keys[0]?.code })), total, dim === 'channel' ? C.COLORS[0] : C.COLORS[5]), clickDrill);
      });
    void mix(channels.body, 'channel', 'channels', t('dash_channels'));
    void mix(types.body, 'type', 'types', t('dash_types'));

    // 4. top categories, drilling into a top-level one's sub-categories
    const drawCategories = () =>
      run(categories.body, async () => {
        const drilled = !s.category && s.drill;
        const g: GroupAnswer = drilled ? await analyticsApi.group({ ...f, category: s.drill }, ['category_l2'], 10) : await cats;
        const names = await loadCategories().catch(() => null);
        if (!live()) return;
        const level2 = Boolean(s.category || drilled);
        const parent = s.category || s.drill;
        const parentName = names?.byCode.get(parent)?.name ?? categoryNames.get(parent) ?? parent;
        const crumbs = h(
          'nav',
          { class: 'dash-crumbs', 'aria-label': t('dash_crumbs'), 'data-testid': 'cat-crumbs' },
          drilled
            ? [
                button(t('dash_all_cats'), {
                  class: 'linklike',
                  'data-testid': 'cat-back',
                  onclick: () => {
                    s = { ...s, drill: '' };
                    setHashQuery({ drill: '' });
                    void drawCategories();
                  },
                }),
                h('span', { 'aria-hidden': 'true' }, ' › '),
                h('strong', { 'aria-current': 'page' }, parentName),
              ]
            : h('strong', null, level2 ? parentName : t('dash_all_cats')),
          h('span', { class: 'muted small' }, ' · ', level2 ? t('dash_chart_hint') : t('dash_cat_hint')),
        );
        const items: C.BarItem[] = g.rows.map((r) => ({ label: rowLabel(r), value: r.count, drill: r.drill, code: r.keys[0]?.code }));
        if (g.others && g.others.count > 0) items.push({ label: t('dash_others'), value: g.others.count, others: true });
        const total = items.reduce((a, i) => a + i.value, 0);
        if (!items.length) return mount(categories.body, crumbs, noData());
        const box = chartBox(t('dash_top_cats'), C.barsHeight(items.length), 'categories-chart');
        box.dataset.level = level2 ? '2' : '1';
        mount(
          categories.body,
          crumbs,
          box,
          dataTable(
            [t('dash_col_rank'), t('dash_col_category'), t('dash_col_n'), t('dash_col_share')],
            items.map((i, k) => [i.others ? '' : String(k + 1), i.label, drillLink(C.num(i.value), i.drill), C.pct(total ? i.value / total : null)]),
            'categories-table',
          ),
        );
        await draw(box, C.rankBarsOption(items, total, C.COLORS[0]), (p) => {
          const d = p.data as C.ItemMeta | undefined;
          if (!d) return;
          if (!level2 && !d.others && d.code) {
            s = { ...s, drill: d.code };
            setHashQuery({ drill: d.code });
            void drawCategories();
          } else go(d.drill);
        });
      });
    void drawCategories();

    // 5. districts per 10,000 residents (tile map) and the street × category heat grid
    void run(districts.body, async () => {
      const [g, mapName] = await Promise.all([analyticsApi.group(f, ['district']), districtShapes()]);
      if (!live()) return;
      if (!g.rows.length) return mount(districts.body, noData());
      const items: C.TileItem[] = g.rows.map((r) => ({ code: r.keys[0]?.code ?? '', name: rowLabel(r), count: r.count, per10k: r.per_10k ?? null, drill: r.drill }));
      const width = districts.body.clientWidth || 320;
      const geom = C.tileGeometry(width, items.map((i) => i.code));
      const mapHeight = narrow ? 340 : 440;
      const box = chartBox(t('dash_districts'), mapName ? mapHeight : geom.height, 'district-map');
      box.dataset.kind = mapName ? 'map' : 'tiles';
      mount(districts.note, mapName ? t('dash_map_note') : t('dash_tilemap_note'));
      mount(
        districts.body,
        box,
        dataTable(
          [t('dash_district'), t('dash_col_n'), t('dash_per10k'), ...ratesHead()],
          [...g.rows].sort((a, b) => (b.per_10k ?? -1) - (a.per_10k ?? -1)).map((r) => [rowLabel(r), drillLink(C.num(r.count), r.drill), r.per_10k === null || r.per_10k === undefined ? '—' : r.per_10k.toFixed(1), ...ratesCells(r)]),
          'district-table',
        ),
      );
      await draw(box, mapName ? C.districtMapOption(items, mapName, mapHeight) : C.tileMapOption(items, geom), clickDrill);
    });

    void run(streets.body, async () => {
      const [top, cross] = await Promise.all([analyticsApi.group(f, ['street'], 30), analyticsApi.group(f, ['street', catDim])]);
      if (!live()) return;
      if (!top.rows.length) return mount(streets.body, noData());
      const streetIdx = new Map(top.rows.map((r, i) => [r.keys[0]?.code ?? '', i]));
      const inTop = cross.rows.filter((r) => streetIdx.has(r.keys[0]?.code ?? ''));
      const catTotals = new Map<string, { key: DimKey; n: number }>();
      for (const r of inTop) {
        const k = r.keys[1];
        if (!k) continue;
        const e = catTotals.get(k.code) ?? { key: k, n: 0 };
        e.n += r.count;
        catTotals.set(k.code, e);
      }
      const cols = [...catTotals.values()].sort((a, b) => b.n - a.n);
      const colIdx = new Map(cols.map((c, i) => [c.key.code, i]));
      const cells: C.HeatCell[] = inTop.map((r) => ({ x: colIdx.get(r.keys[1]?.code ?? '') ?? 0, y: streetIdx.get(r.keys[0]?.code ?? '') ?? 0, value: r.count, drill: r.drill }));
      const avail = streets.body.clientWidth || 320;
      const width = Math.max(avail, 150 + cols.length * 30);
      const box = chartBox(t('dash_streets'), 150 + top.rows.length * 22, 'street-heat', width > avail ? width : undefined);
      mount(
        streets.body,
        h('div', { class: 'dash-scroll', tabindex: width > avail ? 0 : null, 'aria-label': width > avail ? t('dash_scroll_hint') : null }, box),
        dataTable(
          [t('dash_col_street'), t('dash_col_n'), ...ratesHead()],
          top.rows.map((r) => [rowLabel(r), drillLink(C.num(r.count), r.drill), ...ratesCells(r)]),
          'street-table',
        ),
      );
      await draw(box, C.heatGridOption(top.rows.map((r) => rowLabel(r)), cols.map((c) => C.keyLabel(c.key)), cells), clickDrill);
    });

    // 6. seasonality: each top category's share of the month's requests, by month of the year
    void run(season.body, async () => {
      const [c, totals, cross] = await Promise.all([cats, analyticsApi.group(f, ['month_of_year']), analyticsApi.group(f, ['month_of_year', catDim])]);
      if (!live()) return;
      const top = c.rows.slice(0, 6);
      if (!top.length || !totals.rows.length) return mount(season.body, noData());
      const monthTotal = new Map(totals.rows.map((r) => [Number(r.keys[0]?.code), r.count]));
      const cell = new Map(cross.rows.map((r) => [`${Number(r.keys[0]?.code)}|${r.keys[1]?.code}`, r]));
      const months = Array.from({ length: 12 }, (_, i) => i + 1);
      const series: C.LineSeries[] = top.map((catRow, i) => ({
        name: rowLabel(catRow),
        color: C.COLORS[i % C.COLORS.length],
        points: months.map((m) => {
          const r = cell.get(`${m}|${catRow.keys[0]?.code}`);
          const tot = monthTotal.get(m) ?? 0;
          return { value: tot ? (r?.count ?? 0) / tot : null, drill: r?.drill };
        }),
      }));
      const box = chartBox(t('dash_season'), 300, 'season-chart');
      mount(
        season.body,
        box,
        dataTable(
          [t('dash_col_category'), ...months.map(monthName)],
          series.map((sr) => [sr.name, ...sr.points.map((p) => (p.value === null ? '—' : drillLink(C.pct(p.value), p.drill)))]),
          'season-table',
        ),
      );
      await draw(box, C.percentLinesOption(months.map(monthName), series, { min: 0 }), clickDrill);
    });

    // 8. the three rates by month
    void run(rates.body, async () => {
      const m = await month;
      if (!live()) return;
      if (!m.points.length) return mount(rates.body, noData());
      const series: C.LineSeries[] = (['response', 'resolution', 'satisfaction'] as const).map((r) => ({
        name: t(`sc_rate_${r}`),
        color: C.RATE_COLORS[r],
        points: m.points.map((p) => ({ value: p[`${r}_rate`], drill: p.drill })),
      }));
      const box = chartBox(t('dash_rates'), 280, 'rates-chart');
      mount(rates.body, box, dataTable([t('dash_col_period'), ...ratesHead()], m.points.map((p) => [p.period, ...ratesCells(p)]), 'rates-table'));
      const vals = series.flatMap((x) => x.points.map((p) => p.value)).filter((v): v is number => v !== null);
      const min = vals.length ? Math.max(0, Math.floor((Math.min(...vals) * 100) / 10) * 10 - 10) : 0;
      await draw(box, C.percentLinesOption(m.points.map((p) => p.period), series, { min }), clickDrill);
    });

    // 7. handling time by unit kind: one small chart per stage
    void run(durations.body, async () => {
      const d = await analyticsApi.durations(f, 'unit_kind');
      if (!live()) return;
      // the unit kinds' English names from the UI's table (the API's are the wire names)
      const rows = d.rows.filter((r) => r.n > 0).map((r) => ({ ...r, keys: r.keys.map((k) => ({ ...k, label_en: enumLabel('unit_kinds', k.code) || k.label_en })) }));
      if (!rows.length) return mount(durations.body, h('p', { class: 'muted dash-empty' }, t('dash_no_duration')));
      const stages: C.Stage[] = ['sign', 'respond', 'finish'];
      const boxes = stages.map((st) => chartBox(t(`dash_stage_${st}`), C.barsHeight(rows.length), `duration-${st}`));
      const hrs = (r: DurationRow, st: C.Stage) => `${C.hours(r[st]?.median_hours)} / ${C.hours(r[st]?.p90_hours)}`;
      mount(
        durations.body,
        h('div', { class: 'dash-dur-grid' }, stages.map((st, i) => h('div', { class: 'dash-dur' }, h('h3', null, h('span', { class: `dash-swatch stage-${st}`, 'aria-hidden': 'true' }), t(`dash_stage_${st}`)), boxes[i]))),
        dataTable(
          [t('dash_kind'), t('dash_col_n'), ...stages.map((st) => `${t(`dash_stage_${st}`)} ${t('dash_median_p90')}`)],
          rows.map((r) => [C.keyLabel(r.keys[0]), C.num(r.n), ...stages.map((st) => hrs(r, st))]),
          'duration-table',
        ),
      );
      for (const [i, st] of stages.entries()) await draw(boxes[i], C.durationOption(rows, st));
    });

    // 9. the city problem ledger
    void run(ledger.body, async () => {
      const l = await analyticsApi.ledger(f, 20);
      if (!live()) return;
      if (!l.rows.length) return mount(ledger.body, noData());
      const row = (r: LedgerRow, i: number) =>
        h(
          'tr',
          { 'data-testid': 'ledger-row', 'data-street': r.street.code, 'data-category': r.category.code },
          h('td', { class: 'num muted' }, String(i + 1)),
          h('td', null, C.keyLabel(r.street)),
          h('td', null, C.keyLabel(r.category)),
          h('td', { class: 'num' }, drillLink(C.num(r.count), r.drill, 'ledger-count')),
          h('td', { class: 'num' }, C.num(r.previous)),
          h('td', { class: 'num' }, changeBadge(r.change)),
          h('td', { class: 'num' }, C.num(r.open)),
        );
      mount(
        ledger.body,
        h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'table dash-ledger-table', 'data-testid': 'ledger-table' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [t('dash_col_rank'), t('dash_col_street'), t('dash_col_category'), t('dash_col_count'), t('dash_col_prev'), t('dash_col_change'), t('dash_col_open')].map((c, i) => h('th', { scope: 'col', class: i >= 3 || i === 0 ? 'num' : null }, c)),
              ),
            ),
            h('tbody', null, l.rows.map(row)),
          ),
        ),
      );
    });
  }

  /** 日 / 周 / 月 for the trend (kept in the URL as `interval`). */
  function intervalSwitch(): HTMLElement {
    const el = radioGroup(
      'interval',
      t('dash_interval'),
      (['day', 'week', 'month'] as const).map((v) => ({ value: v, label: t(`dash_${v}`) })),
      s.interval,
      (v) => {
        s = { ...s, interval: v as Interval };
        setHashQuery({ interval: s.interval === 'month' ? '' : s.interval });
        redrawTrend();
      },
    );
    el.classList.add('dash-interval');
    el.setAttribute('data-testid', 'trend-interval');
    return el;
  }

  reload();
}

/** The ledger's previous period: the same number of days just before `from`. */
function ledgerPrevious(s: State): { from: string; to: string } {
  const n = Math.max(1, daysBetween(s.from, s.to));
  const start = new Date(Date.parse(`${s.from}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
  return { from: start, to: prevDay(s.from) };
}

/** The latest daily bulletin (日通报): its title, its printable HTML and its workbook; none on a 404. */
async function latestReport(slot: HTMLElement, live: () => boolean): Promise<void> {
  let item: ReportItem | undefined;
  try {
    item = (await analyticsApi.reports('daily', 1, 1)).items[0];
  } catch (e) {
    if (!live()) return;
    if (!(e instanceof ApiError && e.status === 404)) {
      mount(slot, h('span', { class: 'stat-l' }, t('dash_report')), h('span', { class: 'muted small' }, errText(e)));
      return;
    }
  }
  if (!live()) return;
  if (!item) {
    mount(slot, h('span', { class: 'stat-l' }, t('dash_report')), h('span', { class: 'muted', 'data-testid': 'dash-report-none' }, t('dash_report_none')));
    return;
  }
  const it = item;
  const html = it.html || reportHtmlPath(it.id);
  const xlsx = it.xlsx || reportXlsxPath(it.id);
  const link = h(
    'a',
    { href: html, target: '_blank', rel: 'noopener', class: 'dash-report-link', 'data-testid': 'dash-report-link', 'data-report': it.id, onclick: (ev: MouseEvent) => void openReport(ev, html) },
    lang() === 'zh' ? it.title_zh : it.title_en || it.title_zh,
  );
  const sheet = h('a', { href: xlsx, class: 'small', 'data-testid': 'dash-report-xlsx', onclick: (ev: MouseEvent) => void downloadReport(ev, xlsx, `${it.kind}-${it.period}.xlsx`) }, t('dash_report_xlsx'));
  mount(
    slot,
    h('span', { class: 'stat-l' }, t('dash_report')),
    link,
    h('span', { class: 'muted small' }, `${it.period} · ${t('dash_report_generated', { at: fmtLocal(it.generated_at) })} · `, sheet),
  );
}

/**
 * 报告订阅 — one switch per kind of report (日通报 / 周汇总 / 月分析): a subscribed kind goes first
 * in the inbox, and to the subscriber's own webhook if they set one through the API (kept as it is
 * when a switch is flipped here).
 */
async function reportSubscriptions(slot: HTMLElement, live: () => boolean): Promise<void> {
  const label: Record<string, Key> = { daily: 'dash_sub_daily', weekly: 'dash_sub_weekly', monthly: 'dash_sub_monthly' };
  // the switches take their place at once (disabled until the answer), so nothing below moves
  let subs: SubscriptionItem[] = Object.keys(label).map((kind) => ({ kind, subscribed: false, webhook_url: null, since: null }));
  let ready = false;
  const draw = () =>
    mount(
      slot,
      h('span', { class: 'muted small' }, t('dash_subs')),
      ...subs.map((it) => {
        const box = h('input', { type: 'checkbox', name: `sub-${it.kind}`, checked: it.subscribed, disabled: !ready, 'data-kind': it.kind });
        box.addEventListener('change', () => void flip(it.kind, box.checked));
        return h('label', { class: 'check small', 'data-testid': `dash-sub-${it.kind}` }, box, ' ', t(label[it.kind] ?? 'dash_sub_daily'));
      }),
    );
  const flip = async (kind: string, on: boolean) => {
    const want = subs
      .filter((it) => (it.kind === kind ? on : it.subscribed))
      .map((it) => ({ kind: it.kind, webhook_url: it.webhook_url ?? null }));
    try {
      subs = (await analyticsApi.setSubscriptions(want)).items;
      toast(t(on ? 'dash_sub_on' : 'dash_sub_off', { kind: t(label[kind] ?? 'dash_sub_daily') }), 'ok');
    } catch (e) {
      toast(errText(e), 'error');
    }
    if (live()) draw();
  };
  draw();
  try {
    subs = (await analyticsApi.subscriptions()).items;
    ready = true;
  } catch (e) {
    if (live()) mount(slot, h('span', { class: 'muted small' }, errText(e)));
    return;
  }
  if (live()) draw();
}
