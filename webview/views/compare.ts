// Compare runs: the smoothed loss curves of this run and earlier runs on the same file on one chart,
// each labelled by its config, and a table that puts the numbers side by side: loss at a step every
// run reached, best validation loss, and how far back each one's gradient reaches.
import { createChart, configure, type LineChart, type LineDataset } from '../charts.js';
import { fill, h } from '../dom.js';
import { smoothBuckets } from '../model/smoothing.js';
import { natsTo, unitLabel } from '../model/units.js';
import { summariseFlow } from '../model/gradientFlow.js';
import { formatCount, formatValue } from '../model/format.js';
import type { RunModel } from '../model/dashboardModel.js';
import { points, type View, type ViewContext } from './view.js';

/** Smoothed loss of a run at the bucket that contains `step` (NaN if the run never got there). */
function smoothedAt(r: RunModel, smooth: Float64Array, step: number): number {
  const all = r.loss.all();
  for (let i = 0; i < all.length; i++) if (all[i]!.lastStep >= step) return smooth[i]!;
  return NaN;
}

export class CompareView implements View {
  readonly element: HTMLElement;
  private readonly chart: LineChart;
  private readonly toggles: HTMLElement;
  private readonly table: HTMLTableElement;

  constructor(private readonly ctx: ViewContext) {
    this.toggles = h('div', { class: 'controls', role: 'group', 'aria-label': 'Runs to show' });
    this.table = h('table', { class: 'compare' });
    this.element = h('section', { class: 'view' }, this.toggles);
    this.chart = createChart(
      this.element,
      'Smoothed training loss of this run and earlier runs on the same file',
      { title: 'step', scale: 'linear' },
      { title: 'loss', scale: 'linear' },
      null,
      (item) => `${String(item.dataset.label)}: ${formatValue(item.parsed.y ?? NaN)} near step ${item.parsed.x}`,
    ).chart;
    this.element.append(this.table);
  }

  render(): void {
    const { model, host } = this.ctx;
    const ui = host.ui;
    const theme = this.ctx.theme();
    const runs = [...(model.current ? [model.current] : []), ...model.others()];
    fill(
      this.toggles,
      ...runs.map((r, i) => {
        const c = h('input', { type: 'checkbox', id: `cmp-${i}` });
        c.checked = !ui.compareHidden.includes(r.runId);
        c.addEventListener('change', () => {
          const hidden = new Set(ui.compareHidden);
          if (c.checked) hidden.delete(r.runId);
          else hidden.add(r.runId);
          host.update({ compareHidden: [...hidden] });
          this.ctx.redraw('compare');
          this.ctx.redraw('flow');
        });
        return h(
          'span',
          { class: 'field' },
          c,
          h('span', { class: 'swatch', style: `background:${theme.palette[i % theme.palette.length]}` }),
          h('label', { for: c.id }, `${r.title}${r === model.current ? ' (this run)' : ''}`),
        );
      }),
    );
    const shown = runs.filter((r) => !ui.compareHidden.includes(r.runId));
    const smooths = new Map(runs.map((r) => [r, smoothBuckets(r.loss.all(), ui.smoothing)]));
    const datasets: LineDataset[] = shown.map((r) => {
      const colour = theme.palette[runs.indexOf(r) % theme.palette.length]!;
      const s = smooths.get(r)!;
      return {
        label: `${r.title}${r === model.current ? ' (this run)' : ''}`,
        data: points(r.loss, 'step', (_b, i) => natsTo(ui.unit, s[i]!)),
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: r === model.current ? 2.5 : 1.5,
      };
    });
    this.chart.data.datasets = datasets;
    configure(this.chart, theme, {
      x: { title: 'step (updates)', scale: 'linear' },
      y: { title: `${unitLabel(ui.unit)} (smoothed ${ui.smoothing.toFixed(2)})`, scale: ui.lossScale },
    });
    this.chart.update('none');

    const withSteps = runs.filter((r) => r.last !== null);
    const common = withSteps.length > 0 ? Math.min(...withSteps.map((r) => r.last!.step)) : 0;
    const head = h(
      'tr',
      {},
      ...['run', 'parameters', 'steps', `loss at step ${common}`, 'best validation', 'gradient reach', 'clipped'].map((t) =>
        h('th', { scope: 'col' }, t),
      ),
    );
    const rows = runs.map((r) => {
      const s = smooths.get(r)!;
      let best = Infinity;
      for (const b of r.validation.all()) if (b.min < best) best = b.min;
      const flow = r.gradientFlow ? summariseFlow(r.gradientFlow.fromLast[r.gradientFlow.fromLast.length - 1] ?? []) : null;
      const reach = flow === null ? '–' : flow.reachesWholeWindow ? `> ${r.gradientFlow!.window - 1} steps` : `${flow.reach} steps`;
      return h(
        'tr',
        {},
        h('th', { scope: 'row' }, `${r.title}${r === model.current ? ' (this run)' : ''}`),
        h('td', {}, r.run ? formatCount(r.run.parameterCount) : '–'),
        h('td', {}, r.last ? String(r.last.step) : '0'),
        h('td', {}, common > 0 ? `${formatValue(natsTo(ui.unit, smoothedAt(r, s, common)))} ${ui.unit}` : '–'),
        h('td', {}, Number.isFinite(best) ? `${formatValue(natsTo(ui.unit, best))} ${ui.unit}` : '–'),
        h('td', {}, reach),
        h('td', {}, String(r.clipCount)),
      );
    });
    fill(
      this.table,
      h('caption', {}, runs.length > 1 ? 'Runs on this file, side by side' : 'Earlier runs on this file appear here for comparison.'),
      h('thead', {}, head),
      h('tbody', {}, ...rows),
    );
  }
}
