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
