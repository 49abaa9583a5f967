// The parts of ECharts the UI uses (bar chart, grid, tooltip, legend, SVG renderer), registered once.
// Imported lazily by chart.ts, so this chunk is fetched only by pages with a chart.

import { use, init } from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

use([BarChart, GridComponent, TooltipComponent, LegendComponent, SVGRenderer]);

export { init };
