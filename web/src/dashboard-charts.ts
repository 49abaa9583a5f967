// The dashboard's chart options (ECharts option objects, drawn by `mountChart` in chart.ts): the
// volume trend with holidays, ranked bars, the district tile map, heat grids, lines of shares and
// rates, and the handling-time bars. Pure functions of the API's answers; every data item that
// stands for tickets carries the API's `drill` link, which the page follows on a click.

import type { DimKey, DurationRow, Interval, SeriesPoint } from './analytics-types';
import { lang, t } from './i18n';

export const COLORS = ['#1b4f9c', '#d8412f', '#1f8a4c', '#d08a00', '#6b3fb5', '#0f8b8d', '#8a5a44', '#c2185b'];
export const RATE_COLORS = { response: '#1b6fc2', resolution: '#1f8a4c', satisfaction: '#d08a00' } as const;
const MUTED = '#98a2b3';
const HOLIDAY = 'rgba(216, 65, 47, 0.12)';

type Opt = Record<string, unknown>;
/** What a data item carries besides its value. */
export interface ItemMeta {
  drill?: string | null;
  code?: string;
  others?: boolean;
}

export const num = (n: number) => new Intl.NumberFormat(lang() === 'zh' ? 'zh-CN' : 'en').format(n);
export const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);
/** A change as a signed percentage: +5.0% / −3.2%. */
export const change = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(1)}%`);
export const hours = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v < 10 ? v.toFixed(1) : Math.round(v).toString());
/** A key's name in the UI language. */
export const keyLabel = (k: DimKey | undefined | null) => (!k ? '' : lang() === 'zh' ? k.label_zh || k.code : k.label_en || k.label_zh || k.code);

/** Midnight of a city day `YYYY-MM-DD` in the browser's zone (the time axis draws local time). */
export function dayMs(d: string): number {
  const [y, m, dd] = d.split('-').map(Number);
  return new Date(y, (m || 1) - 1, dd || 1).getTime();
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const baseTooltip = { confine: true, textStyle: { fontSize: 12 } };
const two = (n: number) => String(n).padStart(2, '0');

/** Runs of consecutive days in a sorted list of `YYYY-MM-DD`. */
export function dayRuns(days: string[]): [string, string][] {
  const sorted = [...new Set(days)].sort();
  const runs: [string, string][] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && dayMs(d) - dayMs(last[1]) <= 36 * 3600_000) last[1] = d;
    else runs.push([d, d]);
  }
  return runs;
}

/** How many of `holidays` fall in each point's period (from its start to the next start, or `end`). */
export function holidaysPerPoint(points: SeriesPoint[], holidays: string[], end: string): number[] {
  return points.map((p, i) => {
    const to = points[i + 1]?.start ?? end;
    return holidays.filter((d) => d >= p.start && d < to).length;
  });
}

/**
 * The volume trend: a line on a time axis; in days the holidays are shaded (mark areas over each
 * run of holidays), in weeks and months a pin marks each period with holidays (its number of
 * holiday days on the pin).
 */
export function trendOption(points: SeriesPoint[], holidays: string[], interval: Interval, end: string): Opt {
  const perPoint = holidaysPerPoint(points, holidays, end);
  const half = 12 * 3600_000;
  const fmtAxis = (v: number) => {
    const d = new Date(v);
    return interval === 'month' ? `${d.getFullYear()}-${two(d.getMonth() + 1)}` : `${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  };
  const data = points.map((p, i) => ({ value: [dayMs(p.start), p.count], period: p.period, drill: p.drill ?? null, holidays: perPoint[i] }));
  const series: Opt = {
    type: 'line',
    name: t('dash_count'),
    data,
    showSymbol: interval !== 'day' || points.length < 60,
    symbolSize: 6,
    lineStyle: { width: 2, color: COLORS[0] },
    itemStyle: { color: COLORS[0] },
    areaStyle: { color: 'rgba(27, 79, 156, 0.08)' },
  };
  if (interval === 'day') {
    series.markArea = {
      silent: true,
      itemStyle: { color: HOLIDAY },
      data: dayRuns(holidays).map(([a, b]) => [{ xAxis: dayMs(a) - half }, { xAxis: dayMs(b) + half }]),
    };
  } else {
    series.markPoint = {
      symbol: 'pin',
      symbolSize: 30,
      itemStyle: { color: '#d8412f' },
      label: { fontSize: 10, color: '#fff' },
      data: points.flatMap((p, i) => (perPoint[i] > 0 ? [{ coord: [dayMs(p.start), p.count], value: perPoint[i], name: t('dash_holiday_days', { n: perPoint[i] }) }] : [])),
    };
  }
  return {
    tooltip: {
      ...baseTooltip,
      trigger: 'axis',
      formatter: (ps: { data: (typeof data)[number] }[]) => {
        const d = ps[0]?.data;
        if (!d) return '';
        const hol = d.holidays ? `<br>${escapeHtml(t('dash_holiday_days', { n: d.holidays }))}` : '';
        return `${escapeHtml(d.period)}<br><strong>${num(d.value[1])}</strong> ${escapeHtml(t('dash_tickets_unit'))}${hol}`;
      },
    },
    grid: { left: 8, right: 18, top: 28, bottom: 8, containLabel: true },
    xAxis: { type: 'time', axisLabel: { formatter: fmtAxis, hideOverlap: true, fontSize: 11 }, splitLine: { show: false } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { fontSize: 11 } },
    series: [series],
  };
}

export interface BarItem extends ItemMeta {
  label: string;
  value: number;
}

/** Horizontal bars, largest on top; each bar labelled with its count and share of `total`. */
export function rankBarsOption(items: BarItem[], total: number, color = COLORS[0]): Opt {
  const rev = [...items].reverse();
  return {
    tooltip: {
      ...baseTooltip,
      trigger: 'item',
      formatter: (p: { data: { value: number; label: string } }) => `${escapeHtml(p.data.label)}<br><strong>${num(p.data.value)}</strong> · ${pct(total ? p.data.value / total : null)}`,
    },
    grid: { left: 8, right: 90, top: 4, bottom: 4, containLabel: true },
    xAxis: { type: 'value', minInterval: 1, axisLabel: { show: false }, splitLine: { show: false } },
    yAxis: { type: 'category', data: rev.map((i) => i.label), axisTick: { show: false }, axisLabel: { width: 110, overflow: 'truncate', fontSize: 12 } },
    series: [
      {
        type: 'bar',
        barMaxWidth: 18,
        cursor: 'pointer',
        data: rev.map((i) => ({ value: i.value, label: i.label, drill: i.drill ?? null, code: i.code, others: i.others ?? false, itemStyle: { color: i.others ? MUTED : color, borderRadius: [0, 3, 3, 0] } })),
        label: { show: true, position: 'right', fontSize: 11, formatter: (p: { value: number }) => `${num(p.value)} · ${pct(total ? p.value / total : null)}` },
      },
    ],
  };
}

/** The height of a bar chart of `n` bars. */
export const barsHeight = (n: number) => Math.max(120, 16 + n * 28);

// ---- the district tile map ----------------------------------------------------------------------

/**
 * Beijing's 16 districts as a tile-grid cartogram: one square each, placed roughly where the
 * district lies (north up): [column, row]. No boundary data ships with the UI (the npm packages
 * with Beijing's district shapes carry map data whose licence does not allow redistribution); a
 * city that loads its own (`PUT /api/v1/analytics/geojson`) gets a real map instead.
 */
export const DISTRICT_TILES: Record<string, [number, number]> = {
  '110119': [0, 0], // 延庆
  '110116': [2, 0], // 怀柔
  '110118': [3, 0], // 密云
  '110114': [1, 1], // 昌平
  '110113': [3, 1], // 顺义
  '110117': [4, 1], // 平谷
  '110109': [0, 2], // 门头沟
  '110108': [1, 2], // 海淀
  '110105': [2, 2], // 朝阳
  '110107': [0, 3], // 石景山
  '110102': [1, 3], // 西城
  '110101': [2, 3], // 东城
  '110112': [3, 3], // 通州
  '110111': [0, 4], // 房山
  '110106': [1, 4], // 丰台
  '110115': [2, 4], // 大兴
};
const TILE_COLS = 5;

export interface TileItem extends ItemMeta {
  code: string;
  name: string;
  count: number;
  per10k: number | null;
}

/** The tile map's cell size and height for a container `width` px wide and the districts `codes`. */
export function tileGeometry(width: number, codes: string[]): { cell: number; rows: number; height: number } {
  const unknown = codes.filter((c) => !DISTRICT_TILES[c]).length;
  const rows = 5 + Math.ceil(unknown / TILE_COLS);
  const cell = Math.max(52, Math.min(84, Math.floor((width - 16) / TILE_COLS)));
  return { cell, rows, height: rows * cell + 64 };
}

const shortName = (n: string) => (n.length > 2 && /区$/.test(n) ? n.slice(0, -1) : n.replace(/\s+District$/i, ''));

/** The colour scale of requests per 10,000 residents (both district views). */
function per10kScale(items: TileItem[], itemHeight: number): Opt {
  const vals = items.map((i) => i.per10k).filter((v): v is number => v !== null && v !== undefined);
  const min = vals.length ? Math.min(...vals) : 0;
  const max = vals.length ? Math.max(...vals) : 1;
  return {
    type: 'continuous',
    min: Math.floor(min),
    max: Math.ceil(max) || 1,
    orient: 'horizontal',
    left: 'center',
    bottom: 0,
    itemHeight,
    itemWidth: 12,
    text: [t('dash_high'), t('dash_low')],
    textStyle: { fontSize: 11 },
    inRange: { color: ['#eaf1fb', '#7fa6dc', '#1b4f9c'] },
    calculable: false,
  };
}

const tileTooltip = (i: TileItem) =>
  `${escapeHtml(i.name)}<br>${escapeHtml(t('dash_per10k'))}: <strong>${i.per10k === null ? '—' : i.per10k.toFixed(1)}</strong><br>${escapeHtml(t('dash_count'))}: ${num(i.count)}`;

/**
 * The districts on the city's own map (`GET /analytics/geojson`, registered as `mapName`; the
 * features matched by `properties.code`), coloured by requests per 10,000 residents.
 */
export function districtMapOption(items: TileItem[], mapName: string, height: number): Opt {
  const vals = items.map((i) => i.per10k).filter((v): v is number => v !== null && v !== undefined);
  const [min, max] = [Math.min(...vals), Math.max(...vals)];
  const dark = (v: number | null) => v !== null && max > min && (v - min) / (max - min) > 0.55;
  return {
    tooltip: { ...baseTooltip, trigger: 'item', formatter: (p: { data?: { it: TileItem } }) => (p.data ? tileTooltip(p.data.it) : '') },
    visualMap: per10kScale(items, 200),
    series: [
      {
        type: 'map',
        map: mapName,
        nameProperty: 'code',
        cursor: 'pointer',
        top: 8,
        bottom: 48,
        selectedMode: false,
        itemStyle: { areaColor: '#f2f4f7', borderColor: '#fff', borderWidth: 1 },
        emphasis: { itemStyle: { areaColor: '#f6c7a1' }, label: { show: true } },
        label: {
          show: true,
          fontSize: height < 340 ? 9 : 11,
          color: '#1d2433',
          formatter: (p: { data?: { it: TileItem } }) => (p.data ? `${shortName(p.data.it.name)}\n${p.data.it.per10k === null ? '—' : p.data.it.per10k.toFixed(1)}` : ''),
        },
        data: items.map((it) => ({ name: it.code, value: it.per10k ?? NaN, it, drill: it.drill ?? null, label: { color: dark(it.per10k) ? '#fff' : '#1d2433' } })),
      },
    ],
  };
}

/** The tile map: a heatmap on a hidden 5-column grid, coloured by requests per 10,000 residents. */
export function tileMapOption(items: TileItem[], geom: { cell: number; rows: number }): Opt {
  let spare = 0;
  const placed = items.map((it) => {
    const at = DISTRICT_TILES[it.code] ?? [spare % TILE_COLS, 5 + Math.floor(spare++ / TILE_COLS)];
    return { it, at };
  });
  const vals = items.map((i) => i.per10k).filter((v): v is number => v !== null && v !== undefined);
  const min = vals.length ? Math.min(...vals) : 0;
  const max = vals.length ? Math.max(...vals) : 1;
  const dark = (v: number | null) => v !== null && max > min && (v - min) / (max - min) > 0.55;
  const short = shortName;
  const axis = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  return {
    tooltip: {
      ...baseTooltip,
      trigger: 'item',
      formatter: (p: { data: { it: TileItem } }) => tileTooltip(p.data.it),
    },
    grid: { left: 'center', top: 4, width: geom.cell * TILE_COLS, height: geom.cell * geom.rows },
    xAxis: { type: 'category', data: axis(TILE_COLS), show: false },
    yAxis: { type: 'category', data: axis(geom.rows), show: false, inverse: true },
    visualMap: { ...per10kScale(items, Math.min(220, geom.cell * 3)), dimension: 2 },
    series: [
      {
        type: 'heatmap',
        cursor: 'pointer',
        itemStyle: { borderColor: '#fff', borderWidth: 3, borderRadius: 6 },
        emphasis: { itemStyle: { borderColor: '#d8412f', borderWidth: 3 } },
        data: placed.map(({ it, at }) => ({
          value: [at[0], at[1], it.per10k ?? '-'],
          it,
          drill: it.drill ?? null,
          label: { color: dark(it.per10k) ? '#fff' : '#1d2433' },
        })),
        label: {
          show: true,
          fontSize: geom.cell < 64 ? 10 : 12,
          lineHeight: geom.cell < 64 ? 13 : 16,
          formatter: (p: { data: { it: TileItem } }) => `${short(p.data.it.name)}\n${p.data.it.per10k === null ? '—' : p.data.it.per10k.toFixed(1)}`,
        },
      },
    ],
  };
}

// ---- heat grids -------------------------------------------------------------------------------

export interface HeatCell extends ItemMeta {
  x: number;
  y: number;
  value: number;
}

/** A heat grid: `rows` (y, top to bottom) × `cols` (x, labels on top), coloured by count. */
export function heatGridOption(rows: string[], cols: string[], cells: HeatCell[]): Opt {
  const max = cells.reduce((m, c) => Math.max(m, c.value), 0);
  return {
    tooltip: {
      ...baseTooltip,
      trigger: 'item',
      formatter: (p: { data: { value: [number, number, number] } }) => {
        const [x, y, v] = p.data.value;
        return `${escapeHtml(rows[y] ?? '')} · ${escapeHtml(cols[x] ?? '')}<br><strong>${num(v)}</strong> ${escapeHtml(t('dash_tickets_unit'))}`;
      },
    },
    grid: { left: 8, right: 12, top: 28, bottom: 44, containLabel: true },
    xAxis: { type: 'category', data: cols, position: 'top', axisLabel: { rotate: 50, fontSize: 11, interval: 0, width: 80, overflow: 'truncate' }, axisTick: { show: false }, splitArea: { show: true } },
    yAxis: { type: 'category', data: rows, inverse: true, axisLabel: { fontSize: 11, interval: 0, width: 96, overflow: 'truncate' }, axisTick: { show: false }, splitArea: { show: true } },
    visualMap: {
      type: 'continuous',
      min: 0,
      max: Math.max(1, max),
      dimension: 2,
      orient: 'horizontal',
      left: 8,
      bottom: 0,
      itemWidth: 12,
      itemHeight: 200,
      text: [t('dash_high'), t('dash_low')],
      textStyle: { fontSize: 11 },
      inRange: { color: ['#f7f9fd', '#f6c7a1', '#d8412f', '#7a1d12'] },
      calculable: false,
    },
    series: [
      {
        type: 'heatmap',
        cursor: 'pointer',
        itemStyle: { borderColor: '#fff', borderWidth: 1 },
        data: cells.map((c) => ({ value: [c.x, c.y, c.value], drill: c.drill ?? null })),
      },
    ],
  };
}

// ---- lines ------------------------------------------------------------------------------------

export interface LineSeries {
  name: string;
  color: string;
  /** Values as 0–1 shares or rates (null = no base), with the drill of each point. */
  points: { value: number | null; drill?: string | null }[];
}

/** Lines of percentages over category labels (seasonality shares, the three rates). */
export function percentLinesOption(labels: string[], series: LineSeries[], opts: { min?: number } = {}): Opt {
  return {
    tooltip: { ...baseTooltip, trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v.toFixed(1)}%` : '—') },
    legend: { top: 0, type: 'scroll', itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 12 } },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: labels, boundaryGap: false, axisLabel: { fontSize: 11, hideOverlap: true } },
    yAxis: { type: 'value', min: opts.min, max: (v: { max: number }) => Math.min(100, Math.ceil(v.max / 10) * 10), axisLabel: { formatter: '{value}%', fontSize: 11 } },
    series: series.map((s) => ({
      type: 'line',
      name: s.name,
      connectNulls: false,
      symbolSize: 6,
      cursor: 'pointer',
      lineStyle: { width: 2, color: s.color },
      itemStyle: { color: s.color },
      data: s.points.map((p) => ({ value: p.value === null ? null : Math.round(p.value * 1000) / 10, drill: p.drill ?? null })),
    })),
  };
}

// ---- handling time ----------------------------------------------------------------------------

export type Stage = 'sign' | 'respond' | 'finish';
export const STAGE_COLORS: Record<Stage, string> = { sign: '#1b6fc2', respond: '#0f8b8d', finish: '#6b3fb5' };

/**
 * One stage's handling time by unit kind: a solid bar to the median and a light bar on from the
 * median to the 90th percentile (the tooltip gives both, and the number of tickets).
 */
export function durationOption(rows: DurationRow[], stage: Stage): Opt {
  const rev = [...rows].reverse();
  const med = rev.map((r) => r[stage]?.median_hours ?? null);
  const p90 = rev.map((r) => r[stage]?.p90_hours ?? null);
  const color = STAGE_COLORS[stage];
  return {
    tooltip: {
      ...baseTooltip,
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (ps: { dataIndex: number }[]) => {
        const i = ps[0]?.dataIndex ?? 0;
        const r = rev[i];
        return `${escapeHtml(keyLabel(r.keys[0]))}<br>${escapeHtml(t('dash_median'))}: <strong>${hours(med[i])}</strong> h<br>P90: <strong>${hours(p90[i])}</strong> h<br>${escapeHtml(t('dash_n', { n: num(r.n) }))}`;
      },
    },
    grid: { left: 8, right: 44, top: 4, bottom: 4, containLabel: true },
    xAxis: { type: 'value', axisLabel: { fontSize: 10, formatter: '{value} h', hideOverlap: true } },
    yAxis: { type: 'category', data: rev.map((r) => keyLabel(r.keys[0])), axisTick: { show: false }, axisLabel: { width: 110, overflow: 'truncate', fontSize: 11 } },
    series: [
      { type: 'bar', stack: 'd', barMaxWidth: 14, name: t('dash_median'), itemStyle: { color }, data: med },
      {
        type: 'bar',
        stack: 'd',
        barMaxWidth: 14,
        name: 'P90',
        itemStyle: { color: `${color}40`, borderRadius: [0, 3, 3, 0] },
        data: p90.map((v, i) => (v === null ? null : Math.max(0, v - (med[i] ?? 0)))),
        label: { show: true, position: 'right', fontSize: 10, color: '#667085', formatter: (p: { dataIndex: number }) => hours(p90[p.dataIndex]) },
      },
    ],
  };
}
