// Gradient flow through time: for the loss at the last step of a window, |dL_T/dh_{T-k}| against k on
// a log scale, per layer, beside the same curve of earlier runs on the file: a vanilla RNN's falls
// off geometrically (vanishing gradient); a gated cell's can stay up where some units hold their gate
// open (on sotu.txt a GRU's does across the window, an LSTM's does not: see the README's Dashboard
// section). Below, a heatmap of |dL/dh_t| per step and layer for the loss summed over the window.
import { createChart, configure, hline, type LineChart, type LineDataset } from '../charts.js';
import { checkbox, fill, h } from '../dom.js';
import { colourKey, Heatmap } from '../heatmap.js';
import { REACH_RATIO } from '../../src/engine/thresholds.js';
import { normalise, positiveExtent, summariseFlow } from '../model/gradientFlow.js';
import { formatValue } from '../model/format.js';
import type { RunModel } from '../model/dashboardModel.js';
import type { View, ViewContext } from './view.js';

const DASHES: number[][] = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

export class FlowView implements View {
  readonly element: HTMLElement;
  private readonly chart: LineChart;
  private readonly reach: HTMLElement;
  private readonly heatmap: Heatmap;
  private readonly heatmapCaption: HTMLElement;

  constructor(private readonly ctx: ViewContext) {
    const ui = ctx.host.ui;
    const controls = h(
      'div',
      { class: 'controls', role: 'group', 'aria-label': 'Gradient flow options' },
      checkbox('relative to k = 0', ui.flowNormalised, (flowNormalised) => {
        ctx.host.update({ flowNormalised });
        ctx.redraw('flow');
      }),
      checkbox('show earlier runs', ui.flowShowOthers, (flowShowOthers) => {
        ctx.host.update({ flowShowOthers });
        ctx.redraw('flow');
      }),
    );
    this.reach = h('ul', { class: 'reach', 'aria-live': 'polite', 'aria-label': 'How far back the gradient reaches' });
    this.element = h('section', { class: 'view' }, controls, this.reach);
    this.chart = createChart(
      this.element,
      "Gradient norm of the last step's loss with respect to the hidden state k steps earlier, log scale",
      { title: 'k (steps back in time)', scale: 'linear' },
      { title: '|dL_T / dh_(T-k)|', scale: 'log' },
      null,
      (item) => `${String(item.dataset.label)}: k = ${item.parsed.x}, ${formatValue(item.parsed.y ?? NaN)}`,
    ).chart;
    this.heatmapCaption = h('figcaption', {});
    this.heatmap = new Heatmap('Gradient norm per step and layer for the summed loss', 160, 22);
    this.element.append(h('figure', { class: 'gate' }, this.heatmapCaption, this.heatmap.element));
  }

  render(): void {
    const { model, host } = this.ctx;
    const ui = host.ui;
    const theme = this.ctx.theme();
    const runs: RunModel[] = [];
    const cur = model.current;
    if (cur !== null) runs.push(cur);
    if (ui.flowShowOthers) runs.push(...model.others().filter((r) => !ui.compareHidden.includes(r.runId)));
    const datasets: LineDataset[] = [];
    const lines: HTMLElement[] = [];
    let maxK = 0;
    runs.forEach((r, ri) => {
      const f = r.gradientFlow;
      if (f === null) return;
      const colour = theme.palette[ri % theme.palette.length]!;
      f.fromLast.forEach((curve, layer) => {
        const ys = ui.flowNormalised ? normalise(curve) : curve;
        maxK = Math.max(maxK, curve.length - 1);
        datasets.push({
          label: `${r.title}${r === cur ? ' (this run)' : ''} · ${f.curves?.[layer] ?? `layer ${layer + 1}`}`,
          data: Array.from(ys, (y, k) => ({ x: k, y: y > 0 && Number.isFinite(y) ? y : NaN })),
          borderColor: colour,
          backgroundColor: colour,
          borderDash: DASHES[layer % DASHES.length]!,
          borderWidth: r === cur ? 2.5 : 1.5,
        });
      });
      const s = summariseFlow(f.fromLast[f.fromLast.length - 1] ?? []);
      if (s !== null) {
        const reach = s.reachesWholeWindow ? `more than ${f.window - 1} steps (the whole window)` : `${s.reach} steps`;
        lines.push(
          h(
            'li',
            {},
            h('span', { class: 'swatch', style: `background:${colour}` }),
            h('strong', {}, r.title),
            r === cur ? ' (this run)' : '',
            `: gradient reaches back ${reach} before falling below 1/${Math.round(1 / REACH_RATIO)} of its size; it shrinks ×${formatValue(s.decayPerStep)} per step` +
              (f.fromLast.length > 1 ? ` (${f.curves?.at(-1) ?? 'top layer'}, step ${f.step})` : ` (step ${f.step})`),
          ),
        );
      }
    });
    if (ui.flowNormalised && maxK > 0) datasets.push(hline(`1/${Math.round(1 / REACH_RATIO)} of k = 0`, REACH_RATIO, 0, maxK, theme.muted));
    fill(
      this.reach,
      ...(lines.length > 0 ? lines : [h('li', { class: 'empty' }, 'No gradient-flow probe yet: it arrives during training.')]),
    );
    this.chart.data.datasets = datasets;
    configure(this.chart, theme, {
      x: {
        title:
          cur?.gradientFlow?.examples !== undefined
            ? 'k: tokens before the state the loss reads (a reverse cell: after the first token)'
            : 'k: steps back in time from the last step T of the window',
        scale: 'linear',
        min: 0,
        ...(maxK > 0 ? { max: maxK } : {}),
      },
      y: { title: ui.flowNormalised ? '|dL_T/dh_(T-k)| relative to k = 0' : '|dL_T/dh_(T-k)|', scale: 'log' },
    });
    this.chart.update('none');

    const f = cur?.gradientFlow ?? null;
    if (f === null || f.perStep.length === 0) {
      fill(this.heatmapCaption, 'Gradient per step: no probe yet.');
      this.heatmap.set(null, theme);
      return;
    }
    const L = f.perStep.length;
    const W = f.perStep[0]!.length;
    const values = new Float32Array(L * W);
    f.perStep.forEach((row, l) => values.set(row.subarray(0, W), l * W));
    const ext = positiveExtent(f.perStep) ?? [1e-8, 1];
    const range = { kind: 'log' as const, lo: ext[0], hi: Math.max(ext[1], ext[0] * 1.0001) };
    // A task's probe runs over one example: its rows are cells (a bidirectional layer has two), its columns the example's tokens.
    const rowName = (r: number): string => f.curves?.[r] ?? `layer ${r + 1}`;
    const example = f.tokens !== undefined ? f.tokens.join('') : null;
    fill(
      this.heatmapCaption,
      h(
        'strong',
        {},
        example === null ? '|dL/dh_t| for the loss summed over the window' : `|dL/dh_t| over the example ${JSON.stringify(example)}`,
      ),
      ` · rows: ${f.curves ? f.curves.join(', ') : L > 1 ? `layers 1–${L}` : `layer 1`}, columns: ` +
        (example === null ? `t = 0…${W - 1} (tokens ${f.start}… of the text)` : 'its tokens') +
        (f.examples !== undefined ? `; the curves above average ${f.examples} held-out examples` : '') +
        ' · log colour ',
      colourKey(range, theme, formatValue(range.lo), formatValue(range.hi)),
    );
    this.heatmap.set(
      {
        values,
        rows: L,
        cols: W,
        range,
        colLabels: Array.from({ length: W }, (_, t) => (f.tokens !== undefined ? (f.tokens[t] ?? '') : t % 8 === 0 ? String(t) : '')),
        rowTitle: 'layer',
        rowLabel: (r) => (f.curves?.[r] ?? `L${r + 1}`).replace(/^layer /, 'L'),
        describe: (r, c, v) =>
          `${rowName(r)} · t = ${c}${f.tokens?.[c] !== undefined ? ` (${JSON.stringify(f.tokens[c])})` : ''} · |dL/dh_t| = ${formatValue(v)}`,
      },
      theme,
    );
  }
}
