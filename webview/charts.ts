// Chart.js, registered with only the parts the dashboard uses (bundled from node_modules, never a
// CDN), and one factory so every chart shares the theme, fonts, hover behaviour and the absence of
// animation (redraws are already throttled; animating them would only cost CPU).
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ScaleOptionsByType,
  type TooltipItem,
} from 'chart.js';
import type { Theme } from './theme.js';
import type { AxisScale } from './model/units.js';
import { h } from './dom.js';
import { formatValue } from './model/format.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

export type Pt = { x: number; y: number };
export type LineDataset = ChartDataset<'line', Pt[]>;
export type LineChart = Chart<'line', Pt[]>;

export interface AxisSpec {
  title: string;
  scale: AxisScale;
  min?: number;
  max?: number;
}

const charts: LineChart[] = [];

/** What each chart shows (its name, legend entries and axis titles), for tests and accessibility checks. */
export function describeCharts(): Array<{ name: string; legend: string[]; axes: string[]; datasets: number; points: number }> {
  return charts.map((c) => ({
    name: c.canvas.getAttribute('aria-label') ?? '',
    legend: (c.legend?.legendItems ?? []).map((i) => i.text),
    axes: Object.values(c.scales)
      .filter((s) => s.options.display !== false)
      .map((s) => [(s.options as { title?: { text?: string | string[] } }).title?.text ?? ''].flat().join(' ')),
    datasets: c.data.datasets.length,
    points: c.data.datasets.reduce((n, d) => n + d.data.length, 0),
  }));
}

/** A chart inside a sized box, with an accessible name and a short description for screen readers. */
export function createChart(
  parent: HTMLElement,
  name: string,
  x: AxisSpec,
  y: AxisSpec,
  y2: AxisSpec | null,
  tooltipLabel?: (item: TooltipItem<'line'>) => string | string[],
): { chart: LineChart; canvas: HTMLCanvasElement; box: HTMLElement } {
  const canvas = h('canvas', { role: 'img', 'aria-label': name });
  const box = h('div', { class: 'chart-box' }, canvas);
  parent.append(box);
  const chart = new Chart<'line', Pt[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      spanGaps: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hitRadius: 6, hoverRadius: 3 }, line: { borderWidth: 1.5 } },
      plugins: {
        legend: { position: 'top', align: 'start', labels: { boxWidth: 14, boxHeight: 2 } },
        tooltip: { callbacks: tooltipLabel ? { label: tooltipLabel } : {} },
      },
      scales: {
        x: axis(x, 'bottom'),
        y: axis(y, 'left'),
        ...(y2 ? { y2: { ...axis(y2, 'right'), grid: { drawOnChartArea: false } } } : {}),
      },
    },
  });
  charts.push(chart);
  return { chart, canvas, box };
}

function axis(a: AxisSpec, position: 'left' | 'right' | 'bottom'): Partial<ScaleOptionsByType<'linear' | 'logarithmic'>> {
  return {
    type: a.scale === 'log' ? 'logarithmic' : 'linear',
    position,
    title: { display: true, text: a.title },
    ...(a.min !== undefined ? { min: a.min } : {}),
    ...(a.max !== undefined ? { max: a.max } : {}),
  } as Partial<ScaleOptionsByType<'linear' | 'logarithmic'>>;
}

/** Re-applies axis types and titles (they change with toggles) and theme colours, then redraws. */
export function configure(chart: LineChart, theme: Theme, axes: Record<string, AxisSpec | null>): void {
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  const scales = chart.options.scales as Record<
    string,
    Record<string, unknown> & { title?: { text?: string; color?: string }; grid?: Record<string, unknown>; ticks?: Record<string, unknown> }
  >;
  for (const [id, spec] of Object.entries(axes)) {
    const s = scales[id];
    if (s === undefined) continue;
    s['display'] = spec !== null;
    if (spec === null) continue;
    s['type'] = spec.scale === 'log' ? 'logarithmic' : 'linear';
    s['min'] = spec.min;
    s['max'] = spec.max;
    s.title = { display: true, text: spec.title, color: theme.foreground } as never;
    s.grid = { ...(s.grid ?? {}), color: theme.grid };
    // A log axis labels only its decades (1e-6 ... 1), as short numbers; a linear one keeps Chart.js's ticks.
    s.ticks = { ...(s.ticks ?? {}), color: theme.muted, callback: spec.scale === 'log' ? decadeLabel : undefined };
  }
  const legend = chart.options.plugins?.legend;
  if (legend?.labels) legend.labels.color = theme.foreground;
}

function decadeLabel(value: number | string): string {
  const v = Number(value);
  const e = Math.log10(v);
  if (!(v > 0) || Math.abs(e - Math.round(e)) > 1e-9) return '';
  return Math.abs(e) <= 3 ? formatValue(v) : `1e${Math.round(e)}`;
}

/** A horizontal line across [x0, x1] as a two-point dataset. */
export function hline(label: string, y: number, x0: number, x1: number, colour: string, yAxisID = 'y'): LineDataset {
  return {
    label,
    data: Number.isFinite(y)
      ? [
          { x: x0, y },
          { x: x1, y },
        ]
      : [],
    borderColor: colour,
    backgroundColor: colour,
    borderDash: [6, 4],
    borderWidth: 1,
    pointRadius: 0,
    yAxisID,
  };
}
