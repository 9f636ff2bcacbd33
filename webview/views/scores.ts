// Scores: what a task scores beside its loss (classify's accuracy; any score protocol/scores.ts names),
// on the updates' examples (smoothed as the loss is) and on the held-out examples, against steps or
// wall time, with the score of a model that learned nothing; and classify's confusion matrix of the
// latest held-out evaluation, each row shaded by the share of its true label predicted as each label, or
// translate's table of held-out translations, the tokens a shortest edit to the target touches marked.
import { createChart, configure, hline, type LineChart, type LineDataset } from '../charts.js';
import { fill, h } from '../dom.js';
import { formatValue } from '../model/format.js';
import { smoothBuckets } from '../model/smoothing.js';
import { withAlpha } from '../theme.js';
import { scoreInfo } from '../../src/protocol/scores.js';
import { points, type View, type ViewContext } from './view.js';

/** Labels the confusion matrix shows at most (the most frequent in the held-out examples). */
const MAX_MATRIX_LABELS = 20;

export class ScoresView implements View {
  readonly element: HTMLElement;
  private readonly chart: LineChart;
  private readonly summary: HTMLElement;
  private readonly matrix: HTMLElement;
  private readonly table: HTMLElement;

  constructor(private readonly ctx: ViewContext) {
    this.summary = h('p', { class: 'summary', 'aria-live': 'polite' });
    this.matrix = h('div', { class: 'confusion' });
    this.table = h('div', { class: 'translations' });
    this.element = h('section', { class: 'view' }, this.summary);
    this.chart = createChart(
      this.element,
      'Training and held-out scores',
      { title: 'step', scale: 'linear' },
      { title: 'score', scale: 'linear', min: 0, max: 1 },
      null,
    ).chart;
    this.element.append(this.matrix, this.table);
  }

  render(): void {
    const { model, host } = this.ctx;
    const ui = host.ui;
    const theme = this.ctx.theme();
    const run = model.current;
    const [blue, orange, green] = theme.palette;
    const datasets: LineDataset[] = [];
    const said: string[] = [];
    const heldSaid: string[] = [];
    // Shares run from 0 to 1; a token error rate can exceed 1 (an output far longer than its target), and the axis grows to show it.
    let highest = 1;
    if (run === null || !run.hasScores) {
      this.summary.textContent =
        run?.run?.model.task === 'translate'
          ? `The held-out words are translated every ${run.run.train.evalEvery} updates: their word and token error rates show here then.`
          : run?.run?.examples !== undefined
            ? 'This task scores its held-out examples by their loss alone: see the Loss tab (bits per character).'
            : 'Scores are for task models: train on a .tsv file with the task classify or translate.';
      fill(this.matrix);
      fill(this.table);
    } else {
      const names = [...new Set([...run.trainScores.keys(), ...run.heldOutScores.keys()])];
      names.forEach((name, i) => {
        const info = scoreInfo(name);
        const title = info.higherIsBetter ? info.title : `${info.title} (lower is better)`;
        const train = run.trainScores.get(name);
        if (train) {
          const smooth = smoothBuckets(train.all(), ui.smoothing);
          datasets.push({
            label: `training ${title} (smoothed ${ui.smoothing.toFixed(2)})`,
            data: points(train, ui.xAxis, (_b, i) => smooth[i]!),
            borderColor: withAlpha(blue!, 0.9),
            backgroundColor: blue,
            borderWidth: 2,
            pointRadius: 0,
          });
          const last = smooth[smooth.length - 1];
          if (last !== undefined && Number.isFinite(last)) said.push(`training ${title} ${formatValue(last)} (smoothed)`);
        }
        const held = run.heldOutScores.get(name);
        if (held) {
          // A second held-out score (translate's token error rate beside its word error rate) in a colour of its own.
          const colour = i === 0 ? orange : (theme.palette[2 + i] ?? green);
          for (const b of held.all()) if (Number.isFinite(b.mean)) highest = Math.max(highest, b.mean);
          datasets.push({
            label: `held-out ${title}`,
            data: points(held, ui.xAxis, (b) => b.mean),
            borderColor: colour,
            backgroundColor: colour,
            pointRadius: 2.5,
            borderWidth: 2,
          });
          const last = held.all().at(-1);
          if (last) heldSaid.push(`held-out ${info.title} ${formatValue(last.last)} at step ${last.lastStep}`);
        }
        const base = run.run?.examples?.baselineScores[name];
        const all = (train ?? held)!.all();
        if (base !== undefined && all.length > 0) {
          const x = (i: number, end: 'first' | 'last'): number =>
            ui.xAxis === 'step'
              ? end === 'first'
                ? all[i]!.firstStep
                : all[i]!.lastStep
              : (end === 'first' ? all[i]!.firstMs : all[i]!.lastMs) / 1000;
          datasets.push(
            hline(
              `${run.run!.examples!.baseline}: ${formatValue(base)} (learned nothing)`,
              base,
              x(0, 'first'),
              x(all.length - 1, 'last'),
              green!,
            ),
          );
          said.push(`${run.run!.examples!.baseline} scores ${formatValue(base)}`);
        }
      });
      // The held-out scores first, in the order the task names them.
      const text = [...heldSaid, ...said].join('; ');
      this.summary.textContent = text ? text[0]!.toUpperCase() + text.slice(1) + '.' : 'No scores yet.';
      this.renderMatrix();
      this.renderTranslations();
    }
    this.chart.data.datasets = datasets;
    configure(this.chart, theme, {
      x: { title: ui.xAxis === 'step' ? 'step (updates)' : 'elapsed time (s)', scale: 'linear' },
      y: {
        title: highest > 1 ? 'share of examples (tokens: edits per target token)' : 'share of examples',
        scale: 'linear',
        min: 0,
        max: Math.ceil(highest),
      },
    });
    this.chart.update('none');
  }

  private renderMatrix(): void {
    const c = this.ctx.model.current?.confusion;
    if (!c) {
      fill(this.matrix);
      return;
    }
    const totals = c.counts.map((row) => row.reduce((a, b) => a + b, 0));
    const shown = c.labels
      .map((_, i) => i)
      .sort((a, b) => totals[b]! - totals[a]!)
      .slice(0, MAX_MATRIX_LABELS);
    const n = totals.reduce((a, b) => a + b, 0);
    const right = c.counts.reduce((a, row, k) => a + (row[k] ?? 0), 0);
    const caption = h(
      'caption',
      {},
      `Confusion matrix of the ${n} held-out examples at step ${c.step}: rows are the true labels, columns the model's; ${right} on the diagonal` +
        (shown.length < c.labels.length ? ` (the ${shown.length} most frequent of ${c.labels.length} labels)` : '') +
        '.',
    );
    const head = h(
      'tr',
      {},
      h('th', { scope: 'col' }, 'true \\ predicted'),
      ...shown.map((j) => h('th', { scope: 'col' }, c.labels[j]!)),
      h('th', { scope: 'col' }, 'recall'),
    );
    const rows = shown.map((i) => {
      const total = totals[i]!;
      return h(
        'tr',
        {},
        h('th', { scope: 'row' }, c.labels[i]!),
        ...shown.map((j) => {
          const count = c.counts[i]![j] ?? 0;
          const share = total > 0 ? count / total : 0;
          const cell = h(
            'td',
            { class: i === j ? 'diagonal' : '', title: `${count} of ${total} (${(100 * share).toFixed(1)}%)` },
            String(count),
          );
          cell.style.setProperty('--share', share.toFixed(3));
          return cell;
        }),
        h('td', { class: 'recall' }, total > 0 ? `${((100 * (c.counts[i]![i] ?? 0)) / total).toFixed(1)}%` : '–'),
      );
    });
    fill(this.matrix, h('table', { class: 'confusion-matrix' }, caption, h('thead', {}, head), h('tbody', {}, ...rows)));
  }

  /** translate: source, target and output of a fixed dozen held-out examples, wrong output tokens and missed target tokens marked. */
  private renderTranslations(): void {
    const t = this.ctx.model.current?.translations;
    if (!t || t.rows.length === 0) {
      fill(this.table);
      return;
    }
    const tokens = (list: string[], marked: number[], cls: string, what: string): HTMLElement => {
      const set = new Set(marked);
      const spans = list.flatMap((tok, i) => {
        const span = set.has(i) ? h('span', { class: cls, title: what }, tok) : h('span', {}, tok);
        return i > 0 ? [' ', span] : [span];
      });
      return h('td', { class: 'tokens' }, ...(list.length ? spans : [h('span', { class: 'empty' }, '(nothing)')]));
    };
    const right = t.rows.filter((r) => r.edits === 0).length;
    const caption = h(
      'caption',
      {},
      `${right} of ${t.rows.length} held-out examples translated exactly at step ${t.step} (greedy); ` +
        'marked: the output tokens a shortest edit to the target replaces or deletes, and the target tokens it has other tokens for or lacks.',
    );
    const head = h('tr', {}, ...['line', 'source', 'target', 'output', 'edits'].map((c) => h('th', { scope: 'col' }, c)));
    const rows = t.rows.map((r) => {
      const ok = r.edits === 0;
      return h(
        'tr',
        { class: ok ? 'right' : 'wrong' },
        h('td', { class: 'line' }, String(r.line)),
        h('th', { scope: 'row' }, r.source),
        tokens(r.target, r.missed, 'missed', 'missing or replaced in the output'),
        tokens(r.output, r.wrong, 'wrong', 'not in the target here'),
        h('td', { class: 'edits' }, ok ? '✓' : String(r.edits)),
      );
    });
    fill(this.table, h('table', { class: 'translations' }, caption, h('thead', {}, head), h('tbody', {}, ...rows)));
  }
}
