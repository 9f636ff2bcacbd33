// Experiment: the concept an experiment puts to the test and what the theory predicts, beside what its
// runs measured: the verdict (agrees, partly, disagrees or inconclusive, with the numbers), its table
// and figure, and every run's progress while they train one after another.
import { createChart, configure, type LineChart, type LineDataset } from '../charts.js';
import { fill, h } from '../dom.js';
import { formatCount, formatValue } from '../model/format.js';
import type { ExperimentReport } from '../../src/engine/experiments/report.js';
import type { View, ViewContext } from './view.js';

const AGREEMENT: Record<string, string> = {
  agrees: 'Agrees with the theory',
  partly: 'Partly agrees with the theory',
  disagrees: 'Disagrees with the theory',
  inconclusive: 'Inconclusive',
};

export class ExperimentView implements View {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly concept: HTMLElement;
  private readonly measured: HTMLElement;
  private readonly figureBox: HTMLElement;
  private readonly chart: LineChart;
  private readonly runs: HTMLTableElement;

  constructor(private readonly ctx: ViewContext) {
    this.title = h('h2', {});
    this.status = h('p', { class: 'experiment-status', 'aria-live': 'polite' });
    this.concept = h('div', { class: 'experiment-concept' });
    this.measured = h('div', { class: 'experiment-measured' });
    const figure = h('div', { class: 'experiment-figure' });
    const made = createChart(
      figure,
      "The experiment's figure: what its runs measured",
      { title: '', scale: 'linear' },
      { title: '', scale: 'linear' },
      null,
      (item) => `${String(item.dataset.label)}: ${formatValue(item.parsed.y ?? NaN)} at ${formatValue(item.parsed.x ?? NaN)}`,
    );
    this.chart = made.chart;
    this.figureBox = figure;
    this.runs = h('table', { class: 'compare experiment-runs' });
    this.element = h(
      'section',
      { class: 'view experiment' },
      this.title,
      this.status,
      h('div', { class: 'experiment-columns' }, this.concept, h('div', {}, this.measured, figure)),
      this.runs,
    );
  }

  render(): void {
    const r = this.ctx.model.experiment;
    if (r === null) {
      this.title.textContent = 'No experiment';
      this.status.textContent = 'Run Recurrent: New Experiment... to put a claim of the theory to the test.';
      fill(this.concept);
      fill(this.measured);
      fill(this.runs);
      this.figureBox.hidden = true;
      return;
    }
    this.title.textContent = `${r.title}${r.quick ? ' (quick)' : ''}`;
    this.status.textContent = statusLine(r);
    fill(
      this.concept,
      h('h3', {}, 'The idea'),
      h('p', {}, r.concept),
      h('h3', {}, 'What the theory predicts'),
      h('p', {}, r.prediction),
      h('ul', { class: 'sources' }, ...r.sources.map((s) => h('li', {}, s))),
    );
    const v = r.verdict;
    if (v === null) {
      const done = r.runs.filter((x) => x.status === 'done').length;
      fill(
        this.measured,
        h('h3', {}, 'What the runs measured'),
        h('p', { class: 'verdict pending' }, `No verdict yet: ${done} of ${r.runs.length} runs done.`),
      );
      this.figureBox.hidden = true;
    } else {
      fill(
        this.measured,
        h('h3', {}, 'What the runs measured'),
        h(
          'p',
          { class: `verdict ${v.agreement}`, 'data-agreement': v.agreement },
          h('strong', {}, `${AGREEMENT[v.agreement] ?? v.agreement}. `),
          v.summary,
        ),
        table(v.table.caption, v.table.columns, v.table.rows, 'verdict-table'),
      );
      this.drawFigure(r);
    }
    fill(
      this.runs,
      h(
        'caption',
        {},
        `Runs, trained one after another (${r.seeds.length > 1 ? `seeds ${r.seeds.join(', ')}` : `seed ${r.seeds[0]}`}); data files in ${r.folder}`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          // The bidirectional experiment's runs are classifiers, scored per line.
          ...['run', 'state', 'updates', 'keys recalled', r.name === 'bidirectional' ? 'held-out bits/line' : 'held-out bits/char'].map(
            (c) => h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...r.runs.map((x) => {
          const acc = x.outcome?.recall.at(-1)?.accuracy ?? x.accuracy;
          const held = x.outcome?.validationBits;
          return h(
            'tr',
            { class: `run-${x.status}` },
            h('th', { scope: 'row' }, x.label),
            h('td', {}, x.problem ? `${x.status}: ${x.problem}` : x.status),
            h('td', {}, `${formatCount(x.updates)} / ${formatCount(x.steps)}`),
            h('td', {}, acc === null || acc === undefined ? '–' : `${Math.round(acc * 100)}%`),
            h('td', {}, held === null || held === undefined ? '–' : formatValue(held)),
          );
        }),
      ),
    );
  }

  private drawFigure(r: ExperimentReport): void {
    const f = r.verdict?.figure ?? null;
    this.figureBox.hidden = f === null;
    if (f === null) return;
    const theme = this.ctx.theme();
    this.chart.canvas.setAttribute('aria-label', f.title);
    const datasets: LineDataset[] = f.series.map((s, i) => {
      const colour = theme.palette[i % theme.palette.length]!;
      return {
        label: s.name,
        data: s.points.map(([x, y]) => ({ x, y: Number.isFinite(y) && (f.y.scale !== 'log' || y > 0) ? y : NaN })),
        borderColor: colour,
        backgroundColor: colour,
        pointRadius: s.points.length <= 12 ? 3 : 0,
      };
    });
    this.chart.data.datasets = datasets;
    configure(this.chart, theme, {
      x: { title: f.x.title, scale: f.x.scale },
      y: {
        title: f.y.title,
        scale: f.y.scale,
        ...(f.y.min !== undefined ? { min: f.y.min } : {}),
        ...(f.y.max !== undefined ? { max: f.y.max } : {}),
      },
    });
    this.chart.update('none');
  }
}

function statusLine(r: ExperimentReport): string {
  const training = r.runs.findIndex((x) => x.status === 'running');
  const done = r.runs.filter((x) => x.status === 'done').length;
  const failed = r.runs.filter((x) => x.status === 'failed').length;
  if (training >= 0) {
    const x = r.runs[training]!;
    return `Training run ${training + 1} of ${r.runs.length}: ${x.label}, update ${formatCount(x.updates)} of ${formatCount(x.steps)}${x.accuracy !== null ? `, ${Math.round(x.accuracy * 100)}% of held-out keys recalled` : ''}.`;
  }
  if (r.state === 'done') return `Done: ${done} of ${r.runs.length} runs${failed ? `, ${failed} failed` : ''}.`;
  if (r.state === 'cancelled') return `Cancelled after ${done} of ${r.runs.length} runs: no verdict.`;
  return `${done} of ${r.runs.length} runs done; starting the next.`;
}

function table(caption: string, columns: string[], rows: string[][], cls: string): HTMLTableElement {
  return h(
    'table',
    { class: `compare ${cls}` },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      ...rows.map((row) => h('tr', {}, ...row.map((cell, i) => (i === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell))))),
    ),
  );
}
