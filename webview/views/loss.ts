// Loss: training loss (raw and smoothed) and validation loss against steps or wall time, in nats or
// bits per token, linear or log, with the learning rate on a second axis, every clipped update
// marked, and the unigram entropy of the text: what a model that learned nothing would score.
import { createChart, configure, hline, type LineChart, type LineDataset } from '../charts.js';
import { checkbox, h, labelled, select } from '../dom.js';
import { smoothBuckets } from '../model/smoothing.js';
import { bitsTo, natsTo, unitLabel, type AxisScale, type LossUnit } from '../model/units.js';
import { formatValue } from '../model/format.js';
import { withAlpha } from '../theme.js';
import { bucketSpan, points, type View, type ViewContext } from './view.js';
import type { Bucket } from '../model/series.js';

export class LossView implements View {
  readonly element: HTMLElement;
  private readonly chart: LineChart;
  private readonly summary: HTMLElement;
  /** Buckets behind each dataset's points, so hover can show exact statistics. */
  private buckets: Array<readonly Bucket[] | null> = [];

  constructor(private readonly ctx: ViewContext) {
    const ui = ctx.host.ui;
    const set = (patch: Partial<typeof ui>): void => {
      ctx.host.update(patch);
      ctx.redraw('loss');
    };
    const slider = h('input', {
      type: 'range',
      min: 0,
      max: 0.999,
      step: 0.001,
      value: ui.smoothing,
      'aria-valuetext': String(ui.smoothing),
    });
    const sliderValue = h('output', {}, ui.smoothing.toFixed(3));
    slider.addEventListener('input', () => {
      const v = Number(slider.value);
      sliderValue.textContent = v.toFixed(3);
      slider.setAttribute('aria-valuetext', v.toFixed(3));
      set({ smoothing: v });
    });
    const controls = h(
      'div',
      { class: 'controls', role: 'group', 'aria-label': 'Loss chart options' },
      labelled(
        'Units',
        select<LossUnit>(
          [
            ['bits', 'bits/token'],
            ['nats', 'nats/token'],
          ],
          ui.unit,
          (unit) => {
            set({ unit });
            ctx.redraw('compare');
          },
        ),
      ),
      labelled(
        'Scale',
        select<AxisScale>(
          [
            ['linear', 'linear'],
            ['log', 'log'],
          ],
          ui.lossScale,
          (lossScale) => set({ lossScale }),
        ),
      ),
      labelled(
        'X axis',
        select<'step' | 'time'>(
          [
            ['step', 'steps'],
            ['time', 'wall time'],
          ],
          ui.xAxis,
          (xAxis) => {
            set({ xAxis });
            ctx.redraw('gradNorm');
          },
        ),
      ),
      h('span', { class: 'field' }, labelled('Smoothing', slider), sliderValue),
      checkbox('raw', ui.showRaw, (showRaw) => set({ showRaw })),
      checkbox('learning rate', ui.showLr, (showLr) => set({ showLr })),
    );
    this.summary = h('p', { class: 'summary', 'aria-live': 'polite' });
    this.element = h('section', { class: 'view' }, controls, this.summary);
    this.chart = createChart(
      this.element,
      'Training and validation loss',
      { title: 'step', scale: 'linear' },
      { title: unitLabel(ui.unit), scale: ui.lossScale },
      { title: 'learning rate', scale: 'linear' },
      (item) => this.tooltip(item.datasetIndex, item.dataIndex, item.parsed.y ?? NaN, String(item.dataset.label)),
    ).chart;
  }

  private tooltip(ds: number, i: number, y: number, label: string): string | string[] {
    const b = this.buckets[ds]?.[i];
    const unit = this.ctx.host.ui.unit;
    if (b === undefined) return `${label}: ${formatValue(y)}`;
    if (label.startsWith('learning rate')) return `${label}: ${formatValue(b.last)} (${bucketSpan(b)})`;
    const lines = [`${label}: ${formatValue(y)} ${unit}`, bucketSpan(b)];
    if (b.count > 1) lines.push(`min ${formatValue(natsTo(unit, b.min))}, max ${formatValue(natsTo(unit, b.max))}`);
    if (b.nonFinite > 0) lines.push(`${b.nonFinite} non-finite (NaN/inf) losses`);
    if (b.flagged > 0) lines.push(`${b.flagged} clipped update${b.flagged > 1 ? 's' : ''}`);
    return lines;
  }

  render(): void {
    const { model, host } = this.ctx;
    const ui = host.ui;
    const theme = this.ctx.theme();
    const run = model.current;
    const [blue, orange, green, purple] = theme.palette;
    const unit = ui.unit;
    // What one unit of the loss is: a token of the text, or of a task, an output character or an example.
    const ex = run?.run?.examples;
    const per = ex?.lossPer === 'example' ? 'example' : ex && run?.run?.tokenizer === 'char' ? 'character' : 'token';
    const learnedNothing = ex ? ex.baseline : 'unigram entropy';
    const datasets: LineDataset[] = [];
    this.buckets = [];
    const add = (d: LineDataset, b: readonly Bucket[] | null): void => {
      datasets.push(d);
      this.buckets.push(b);
    };
    if (run !== null) {
      const loss = run.loss.all();
      const smooth = smoothBuckets(loss, ui.smoothing);
      if (ui.showRaw)
        add(
          {
            label: 'training loss (raw)',
            data: points(run.loss, ui.xAxis, (b) => natsTo(unit, b.mean)),
            borderColor: withAlpha(blue!, 0.35),
            backgroundColor: withAlpha(blue!, 0.35),
            borderWidth: 1,
          },
          loss,
        );
      add(
        {
          label: `training loss (smoothed ${ui.smoothing.toFixed(2)})`,
          data: points(run.loss, ui.xAxis, (_b, i) => natsTo(unit, smooth[i]!)),
          borderColor: blue,
          backgroundColor: blue,
          borderWidth: 2,
        },
        loss,
      );
      const val = run.validation.all();
      add(
        {
          label: 'validation loss',
          data: points(run.validation, ui.xAxis, (b) => natsTo(unit, b.mean)),
          borderColor: orange,
          backgroundColor: orange,
          pointRadius: 2.5,
          borderWidth: 2,
        },
        val,
      );
      const clipped = points(run.loss, ui.xAxis, (b) => (b.flagged > 0 ? natsTo(unit, b.max) : NaN)).filter((p) => Number.isFinite(p.y));
      const clippedBuckets = loss.filter((b) => b.flagged > 0 && Number.isFinite(b.max));
      add(
        {
          label: `clipped updates (${run.clipCount})`,
          data: clipped,
          borderColor: theme.error,
          backgroundColor: theme.error,
          showLine: false,
          pointRadius: 3.5,
          pointStyle: 'triangle',
        },
        clippedBuckets,
      );
      const first = loss[0];
      const last = loss[loss.length - 1];
      if (run.run !== null && first !== undefined && last !== undefined) {
        const x0 = ui.xAxis === 'step' ? first.firstStep : first.firstMs / 1000;
        const x1 = ui.xAxis === 'step' ? last.lastStep : last.lastMs / 1000;
        add(
          hline(
            `${learnedNothing} ${formatValue(bitsTo(unit, run.run.unigramBits))} (learned nothing)`,
            bitsTo(unit, run.run.unigramBits),
            x0,
            x1,
            green!,
          ),
          null,
        );
      }
      if (ui.showLr)
        add(
          {
            label: 'learning rate',
            data: points(run.lr, ui.xAxis, (b) => b.last),
            borderColor: purple,
            backgroundColor: purple,
            borderDash: [2, 3],
            borderWidth: 1,
            yAxisID: 'y2',
          },
          run.lr.all(),
        );
      const lastSmooth = smooth[smooth.length - 1];
      const lastVal = val[val.length - 1];
      this.summary.textContent =
        loss.length === 0
          ? 'No training steps yet.'
          : `Training loss ${formatValue(natsTo(unit, lastSmooth ?? NaN))} ${unit}/${per} (smoothed) at step ${last!.lastStep}` +
            (lastVal ? `; validation ${formatValue(natsTo(unit, lastVal.mean))} at step ${lastVal.lastStep}` : '') +
            (run.run ? `; a model that learned nothing scores ${formatValue(bitsTo(unit, run.run.unigramBits))}.` : '.') +
            (run.loss.stride > 1 ? ` Drawn from ${run.loss.length} buckets of ${run.loss.stride} updates.` : '');
    } else {
      this.summary.textContent = 'Waiting for the run to start…';
    }
    this.chart.data.datasets = datasets;
    configure(this.chart, theme, {
      x: { title: ui.xAxis === 'step' ? 'step (updates)' : 'elapsed time (s)', scale: 'linear' },
      y: { title: unitLabel(unit).replace(/token$/, per), scale: ui.lossScale },
      y2: ui.showLr ? { title: 'learning rate', scale: 'linear', min: 0 } : null,
    });
    this.chart.update('none');
  }
}
