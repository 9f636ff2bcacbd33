// Gradient norm: the global norm of each update's gradient before clipping, with the clip threshold
// as a line. On a log axis an explosion stands out by decades; each bucket's max keeps the spikes
// that averaging over a long run would hide.
import { createChart, configure, hline, type LineChart, type LineDataset } from '../charts.js';
import { h, labelled, select } from '../dom.js';
import { formatValue } from '../model/format.js';
import type { AxisScale } from '../model/units.js';
import type { Bucket } from '../model/series.js';
import { withAlpha } from '../theme.js';
import { bucketSpan, points, type View, type ViewContext } from './view.js';

export class GradNormView implements View {
  readonly element: HTMLElement;
  private readonly chart: LineChart;
  private readonly summary: HTMLElement;
  private buckets: Array<readonly Bucket[] | null> = [];

  constructor(private readonly ctx: ViewContext) {
    const ui = ctx.host.ui;
    const controls = h(
      'div',
      { class: 'controls', role: 'group', 'aria-label': 'Gradient norm chart options' },
      labelled(
        'Scale',
        select<AxisScale>(
          [
            ['log', 'log'],
            ['linear', 'linear'],
          ],
          ui.gradScale,
          (gradScale) => {
            ctx.host.update({ gradScale });
            ctx.redraw('gradNorm');
          },
        ),
      ),
    );
    this.summary = h('p', { class: 'summary', 'aria-live': 'polite' });
    this.element = h('section', { class: 'view' }, controls, this.summary);
    this.chart = createChart(
      this.element,
      'Global gradient norm per update, before clipping',
      { title: 'step', scale: 'linear' },
      { title: 'gradient norm', scale: 'log' },
      null,
      (item) => {
        const b = this.buckets[item.datasetIndex]?.[item.dataIndex];
        const label = String(item.dataset.label);
        if (b === undefined) return `${label}: ${formatValue(item.parsed.y ?? NaN)}`;
        const lines = [`${label}: ${formatValue(item.parsed.y ?? NaN)}`, bucketSpan(b)];
        if (b.count > 1) lines.push(`mean ${formatValue(b.mean)}, max ${formatValue(b.max)}`);
        if (b.flagged > 0) lines.push(`${b.flagged} clipped`);
        return lines;
      },
    ).chart;
  }

  render(): void {
    const { model, host } = this.ctx;
    const ui = host.ui;
    const theme = this.ctx.theme();
    const run = model.current;
    const [blue] = theme.palette;
    const datasets: LineDataset[] = [];
    this.buckets = [];
    if (run !== null) {
      const all = run.gradNorm.all();
      if (run.gradNorm.stride > 1) {
        datasets.push({
          label: 'max in bucket',
          data: points(run.gradNorm, ui.xAxis, (b) => b.max),
          borderColor: withAlpha(theme.error, 0.6),
          backgroundColor: withAlpha(theme.error, 0.6),
          borderWidth: 1,
        });
        this.buckets.push(all);
      }
      datasets.push({
        label: run.gradNorm.stride > 1 ? 'gradient norm (bucket mean)' : 'gradient norm',
        data: points(run.gradNorm, ui.xAxis, (b) => b.mean),
        borderColor: blue,
        backgroundColor: blue,
      });
      this.buckets.push(all);
      const clipped = all.filter((b) => b.flagged > 0 && Number.isFinite(b.max));
      datasets.push({
        label: `clipped updates (${run.clipCount})`,
        data: points(run.gradNorm, ui.xAxis, (b) => (b.flagged > 0 ? b.max : NaN)).filter((p) => Number.isFinite(p.y)),
        borderColor: theme.error,
        backgroundColor: theme.error,
        showLine: false,
        pointRadius: 3.5,
        pointStyle: 'triangle',
      });
      this.buckets.push(clipped);
      const clip = run.run?.train.clipNorm ?? 0;
      const first = all[0];
      const last = all[all.length - 1];
      if (clip > 0 && first && last) {
        const x0 = ui.xAxis === 'step' ? first.firstStep : first.firstMs / 1000;
        const x1 = ui.xAxis === 'step' ? last.lastStep : last.lastMs / 1000;
        datasets.push(hline(`clip threshold ${formatValue(clip)}`, clip, x0, x1, theme.warning));
        this.buckets.push(null);
      }
      let max = -Infinity;
      let maxStep = 0;
      for (const b of all)
        if (b.max > max) {
          max = b.max;
          maxStep = b.lastStep;
        }
      this.summary.textContent =
        all.length === 0
          ? 'No updates yet.'
          : `Largest norm ${formatValue(max)} (near step ${maxStep}); ${run.clipCount} of ${run.gradNorm.points} updates clipped` +
            (clip > 0 ? ` at ${formatValue(clip)}.` : ' (clipping is off).');
    } else {
      this.summary.textContent = 'Waiting for the run to start…';
    }
    this.chart.data.datasets = datasets;
    configure(this.chart, theme, {
      x: { title: ui.xAxis === 'step' ? 'step (updates)' : 'elapsed time (s)', scale: 'linear' },
      y: { title: 'global gradient norm (before clipping)', scale: ui.gradScale },
    });
    this.chart.update('none');
  }
}
