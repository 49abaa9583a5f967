// The parts of ECharts the UI uses, registered once: bar, line, heatmap and map charts (the map only
// for a city that loaded its own boundaries); grid, tooltip, legend, visual map (the dashboard's
// colour scales), mark areas and points (holidays on the dashboard's trend); the SVG renderer. Imported lazily by chart.ts, so this chunk is fetched only
// by pages with a chart (the scorecard, the dashboard).

import { use, init, registerMap } from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, MapChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, MarkPointComponent, TooltipComponent, VisualMapContinuousComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

use([BarChart, LineChart, HeatmapChart, MapChart, GridComponent, TooltipComponent, LegendComponent, VisualMapContinuousComponent, MarkAreaComponent, MarkPointComponent, SVGRenderer]);

export { init, registerMap };
