/**
 * The chart: every figure as a ratio to runc's in the same run, one row of bars per app,
 * rendered headless to SVG by vega (no browser: vega's View renders SVG as a string).
 */
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import * as vegaLite from 'vega-lite';
import type { RuntimeName } from './options.js';
import { cellOf, metricsFor, type BenchResult } from './results.js';
import { ratio } from './stats.js';

export interface ChartPoint {
  app: string;
  metric: string;
  runtime: RuntimeName;
  ratio: number;
}

const COLORS: Record<RuntimeName, string> = { runc: '#888888', runsc: '#e4572e', nabla: '#2e86ab' };

/** The ratios to runc, for every app, metric and runtime that has a figure on both sides. */
export function chartPoints(result: BenchResult): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const app of result.apps) {
    const runc = cellOf(result, app.name, 'runc');
    if (!runc || runc.failed) continue;
    for (const metric of metricsFor(app.kind)) {
      for (const runtime of result.runtimes.filter((r) => r !== 'runc')) {
        const cell = cellOf(result, app.name, runtime);
        if (!cell || cell.failed) continue;
        const r = ratio(metric.value(cell), metric.value(runc));
        if (r !== undefined && r > 0) points.push({ app: app.name, metric: metric.short, runtime, ratio: r });
      }
    }
  }
  return points;
}

export function chartSpec(result: BenchResult): TopLevelSpec {
  const metrics = [...new Set(result.apps.flatMap((app) => metricsFor(app.kind).map((m) => m.short)))];
  const runtimes = result.runtimes.filter((r) => r !== 'runc');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'runsc (gVisor) and nabla, as a ratio to runc in the same run',
      subtitle: [
        'log scale; 1 = runc. requests/s: higher is better; every other figure: lower is better.',
        `${result.machine.cpu}, ${result.machine.cores} cores, Linux ${result.machine.kernel}, ${result.started.slice(0, 10)}`,
      ],
      anchor: 'start',
    },
    data: { values: chartPoints(result) },
    facet: { row: { field: 'app', type: 'nominal', title: null, sort: result.apps.map((a) => a.name), header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' } } },
    spec: {
      width: 560,
      height: 130,
      encoding: {
        x: { field: 'metric', type: 'nominal', sort: metrics, title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'runtime', type: 'nominal', sort: runtimes },
        y: { field: 'ratio', type: 'quantitative', scale: { type: 'log', domain: [0.03, 50], nice: false, clamp: true }, title: '× runc' },
      },
      layer: [
        {
          // Bars from 1 (runc) to the ratio: up is more than runc, down less.
          mark: { type: 'bar' },
          encoding: {
            y2: { datum: 1 },
            color: { field: 'runtime', type: 'nominal', sort: runtimes, scale: { domain: runtimes, range: runtimes.map((r) => COLORS[r]) }, title: null },
          },
        },
        {
          mark: { type: 'text', fontSize: 8, baseline: { expr: "datum.ratio >= 1 ? 'bottom' : 'top'" }, dy: { expr: 'datum.ratio >= 1 ? -2 : 2' } },
          encoding: { text: { field: 'ratio', type: 'quantitative', format: '.2f' } },
        },
        { mark: { type: 'rule', color: '#333333' }, encoding: { y: { datum: 1 }, x: null, xOffset: null } },
      ],
    },
    resolve: { scale: { x: 'independent', xOffset: 'independent' } },
    config: { font: 'sans-serif', view: { stroke: null }, legend: { orient: 'top' } },
  } as TopLevelSpec;
}

export async function renderChart(result: BenchResult): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(chartSpec(result)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
