// The header: what is training (config, parameter count, file), how far it got (steps, chars per
// second, elapsed time, state), and pause / resume / stop.
import { scoreInfo } from '../../src/protocol/scores.js';
import { describeSegments } from '../../src/engine/history.js';
import { fill, h } from '../dom.js';
import { formatCount, formatDuration, formatValue } from '../model/format.js';
import type { View, ViewContext } from './view.js';

export class HeaderView implements View {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly config: HTMLElement;
  private readonly where: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly pause: HTMLButtonElement;
  private readonly resume: HTMLButtonElement;
  private readonly stop: HTMLButtonElement;

  constructor(private readonly ctx: ViewContext) {
    this.title = h('h1', {});
    this.config = h('p', { class: 'config' });
    this.where = h('p', { class: 'config where', hidden: true });
    this.stats = h('dl', { class: 'stats', 'aria-live': 'off' });
    this.banner = h('p', { class: 'banner', role: 'alert', hidden: true });
    this.pause = h('button', { type: 'button', title: 'Pause training (the worker keeps its state)' }, 'Pause');
    this.resume = h('button', { type: 'button', title: 'Resume training' }, 'Resume');
    this.stop = h('button', { type: 'button', class: 'secondary', title: 'Stop training for good' }, 'Stop');
    this.pause.addEventListener('click', () => ctx.host.send({ type: 'pause' }));
    this.resume.addEventListener('click', () => ctx.host.send({ type: 'resume' }));
    this.stop.addEventListener('click', () => ctx.host.send({ type: 'stop' }));
    this.element = h(
      'header',
      { class: 'header' },
      h(
        'div',
        { class: 'title-row' },
        this.title,
        h('div', { class: 'buttons', role: 'group', 'aria-label': 'Training' }, this.pause, this.resume, this.stop),
      ),
      this.config,
      this.where,
      this.stats,
      this.banner,
    );
  }

  render(): void {
    const r = this.ctx.model.current;
    if (r === null) {
      this.title.textContent = 'Recurrent Studio';
      this.config.textContent = 'Waiting for the run to start…';
      fill(this.stats);
      for (const b of [this.pause, this.resume, this.stop]) b.disabled = true;
      return;
    }
    this.title.textContent = `${r.title}${r.file ? ` — ${r.file.split(/[\\/]/).pop()}` : ''}`;
    this.title.title = r.file;
    const d = r.run;
    if (d !== null) {
      const m = d.model;
      const t = d.train;
      const ex = d.examples;
      const labels = m.labels?.length ?? 0;
      const parts = [
        ...(m.task === 'classify'
          ? [`classify into ${labels} labels`]
          : m.task === 'generate'
            ? [`generate texts for ${labels} labels`]
            : m.task === 'translate'
              ? [`translate into ${m.targetVocabSize ?? '?'} target tokens, at most ${m.maxOutput ?? '?'} out`]
              : []),
        `${m.task === 'translate' ? 'encoder ' : ''}${m.cell.toUpperCase()}, hidden ${m.hidden}, ${m.layers} layer${m.layers > 1 ? 's' : ''}` +
          (m.bidirectional ? ', bidirectional' : '') +
          (m.task === 'classify' && m.pooling === 'mean' ? ', mean-pooled' : '') +
          (m.task === 'translate' ? `; decoder hidden ${m.hidden * (m.bidirectional ? 2 : 1)}` : ''),
        m.embedding > 0 ? `embedding ${m.embedding}` : 'one-hot input',
        `${d.tokenizer} tokens, vocabulary ${d.vocabSize}`,
        `${formatCount(d.parameterCount)} parameters`,
        `${t.optimizer} lr ${formatValue(t.lr)}`,
        `batch ${t.batch}`,
        ...(ex ? [] : [t.k1 === t.k2 ? `BPTT ${t.k1} steps` : `truncated BPTT k1 ${t.k1}, k2 ${t.k2}`]),
        t.clipNorm > 0
          ? `clip norm ${formatValue(t.clipNorm)}`
          : t.clipValue > 0
            ? `clip value ${formatValue(t.clipValue)}`
            : 'no clipping',
        ex
          ? `${formatCount(ex.train)} training examples, ${formatCount(ex.heldOut)} held out`
          : `${formatCount(d.trainTokens)} training tokens`,
      ];
      this.config.textContent = parts.join(' · ');
      // A run continued elsewhere (train.py in PyTorch) says where each stretch of its curve trained.
      const where = describeSegments(d.segments ?? []);
      this.where.hidden = where === null;
      this.where.textContent = where === null ? '' : `Trained ${where}`;
    } else {
      this.config.textContent = 'Starting…';
    }
    const last = r.last;
    const perSecond = d?.tokenizer === 'word' ? 'words/second' : 'chars/second';
    const ex = d?.examples;
    // A translator's loss is per target token, whatever its sources are made of.
    const lossUnit =
      ex?.lossPer === 'example'
        ? 'bits/example'
        : d?.tokenizer === 'char' && ex && d.model.task !== 'translate'
          ? 'bits/char'
          : 'bits/token';
    // The latest held-out scores (classify's accuracy, translate's word and token error rates).
    const scores = [...r.heldOutScores].flatMap(([name, series]) => {
      const latest = series.all().at(-1);
      return latest ? [[`held-out ${scoreInfo(name).title}`, formatValue(latest.last)] as [string, string]] : [];
    });
    const items: Array<[string, string]> = [
      ['state', r.state],
      ['step', last ? String(last.step) : '0'],
      ...(ex && last?.epoch !== undefined ? [['epoch', String(last.epoch)] as [string, string]] : []),
      ['loss', last ? `${formatValue(last.bitsPerToken)} ${lossUnit}` : '–'],
      ...scores,
      ex
        ? ['examples/second', last?.examplesPerSecond !== undefined ? formatCount(last.examplesPerSecond) : '–']
        : [perSecond, last ? formatCount(last.tokensPerSecond) : '–'],
      ['elapsed', last ? formatDuration(last.elapsedMs) : '–'],
      ['clipped', String(r.clipCount)],
    ];
    fill(this.stats, ...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { class: k === 'state' ? `state-${v}` : '' }, v)]));
    const live = r.state === 'running' || r.state === 'paused';
    this.pause.disabled = r.state !== 'running';
    this.resume.disabled = r.state !== 'paused';
    this.stop.disabled = !live;
    if (r.error !== null) {
      this.banner.hidden = false;
      this.banner.textContent =
        r.error.kind === 'nonFinite'
          ? `The loss became NaN or infinite${r.error.step !== undefined ? ` at step ${r.error.step}` : ''}; training stopped and the last good checkpoint stands. Try a lower learning rate or clipping. (${r.error.message})`
          : r.error.message;
    } else {
      this.banner.hidden = true;
    }
  }
}
