// One ECharts chart (grouped bars of the three rates), loaded on demand so the main bundle stays
// small: only the bar chart, grid, tooltip and legend components and the SVG renderer are bundled.

export interface RateSeries {
  name: string;
  values: (number | null)[];
  color: string;
}

export async function rateBars(el: HTMLElement, categories: string[], series: RateSeries[], opts: { percent?: boolean } = {}): Promise<() => void> {
  const { init } = await import('./echarts-lite');
  const chart = init(el, undefined, { renderer: 'svg' });
  const pct = opts.percent !== false;
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: (v: unknown) => (typeof v === 'number' ? (pct ? `${v.toFixed(1)}%` : v.toFixed(1)) : '—'),
    },
    legend: { top: 0, itemWidth: 12, itemHeight: 10 },
    grid: { left: 8, right: 12, top: 34, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: categories,
      axisLabel: { interval: 0, rotate: categories.length > 8 ? 35 : 0, fontSize: 11 },
      axisTick: { alignWithLabel: true },
    },
    yAxis: { type: 'value', min: (v: { min: number }) => Math.max(0, Math.floor(v.min / 10) * 10 - 10), max: 100, axisLabel: { formatter: pct ? '{value}%' : '{value}' } },
    series: series.map((s) => ({
      name: s.name,
      type: 'bar',
      barMaxWidth: 14,
      itemStyle: { color: s.color, borderRadius: [2, 2, 0, 0] },
      data: s.values.map((v) => (v === null ? null : Math.round(v * 1000) / 10)),
    })),
  });
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  return () => {
    window.removeEventListener('resize', onResize);
    chart.dispose();
  };
}

// ---- any chart (the dashboard) -------------------------------------------------------------------

/** The charts on the page now, so printing can size them to the paper and back. */
const live = new Set<{ resize: (o?: { width?: number | 'auto' }) => void }>();
let printHooked = false;

/** The width of a chart on paper (A4 portrait with the print margins, at 96 px per inch). */
const PRINT_WIDTH = 640;

function hookPrint(): void {
  if (printHooked) return;
  printHooked = true;
  window.addEventListener('beforeprint', () => live.forEach((c) => c.resize({ width: PRINT_WIDTH })));
  window.addEventListener('afterprint', () => live.forEach((c) => c.resize({ width: 'auto' })));
}

/** A data item's own fields (a `drill` link) as ECharts hands them to a click. */
export interface ChartClick {
  seriesIndex?: number;
  dataIndex: number;
  componentType?: string;
  data?: unknown;
  name?: string;
}

/**
 * Draws `option` into `el` with the lazily loaded ECharts (SVG renderer), follows window resizes and
 * printing, and calls `onClick` for a click on a data item. Returns the disposer.
 */
export async function mountChart(el: HTMLElement, option: Record<string, unknown>, onClick?: (p: ChartClick) => void): Promise<() => void> {
  const { init } = await import('./echarts-lite');
  hookPrint();
  const chart = init(el, undefined, { renderer: 'svg' });
  chart.setOption({ animation: false, textStyle: { fontFamily: getComputedStyle(document.body).fontFamily }, ...option });
  if (onClick) chart.on('click', (p) => onClick(p as unknown as ChartClick));
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  live.add(chart);
  return () => {
    live.delete(chart);
    window.removeEventListener('resize', onResize);
    chart.dispose();
  };
}

/** Registers a GeoJSON FeatureCollection as the map `name` (for a `map` series). */
export async function registerGeo(name: string, geojson: unknown): Promise<void> {
  const { registerMap } = await import('./echarts-lite');
  registerMap(name, geojson as Parameters<typeof registerMap>[1]);
}
