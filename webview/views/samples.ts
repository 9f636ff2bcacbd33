// Samples: text the model wrote every so often (newest first, with its step and temperature), and
// controls to sample now from a prompt at a chosen temperature and length.
import { fill, h, labelled } from '../dom.js';
import { formatValue } from '../model/format.js';
import type { View, ViewContext } from './view.js';

/** Texts a generate model writes per label when asked from here. */
const TEXTS_PER_LABEL = 5;

export class SamplesView implements View {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  /** generate: the label to write for (hidden for a language model). */
  private readonly label: HTMLSelectElement;
  private readonly labelField: HTMLElement;
  private labelsShown = '';

  constructor(private readonly ctx: ViewContext) {
    const ui = ctx.host.ui;
    const prime = h('input', { type: 'text', value: ui.prime, placeholder: 'optional prompt', size: 24 });
    const temp = h('input', { type: 'range', min: 0.1, max: 2, step: 0.05, value: ui.temperature });
    const tempValue = h('output', {}, ui.temperature.toFixed(2));
    const length = h('input', { type: 'number', min: 1, max: 5000, step: 1, value: ui.sampleLength, size: 6 });
    const button = h('button', { type: 'button' }, 'Sample now');
    let debounce: number | undefined;
    temp.addEventListener('input', () => {
      const t = Number(temp.value);
      tempValue.textContent = t.toFixed(2);
      ctx.host.update({ temperature: t });
      // The worker's periodic samples follow the slider too, once it rests.
      window.clearTimeout(debounce);
      debounce = window.setTimeout(() => ctx.host.send({ type: 'setTemperature', temperature: t }), 300);
    });
    prime.addEventListener('change', () => ctx.host.update({ prime: prime.value }));
    length.addEventListener('change', () =>
      ctx.host.update({ sampleLength: Math.max(1, Math.min(5000, Math.round(Number(length.value)) || 200)) }),
    );
    this.label = h('select', {});
    this.labelField = labelled('Label', this.label);
    this.labelField.hidden = true;
    const go = (): void =>
      ctx.host.send({
        type: 'sample',
        prime: prime.value,
        temperature: Number(temp.value),
        length: ctx.host.ui.sampleLength,
        ...(this.labelField.hidden ? {} : { label: this.label.value, count: TEXTS_PER_LABEL }),
      });
    button.addEventListener('click', go);
    prime.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    const controls = h(
      'div',
      { class: 'controls', role: 'group', 'aria-label': 'Sample now' },
      this.labelField,
      labelled('Prompt', prime),
      h('span', { class: 'field' }, labelled('Temperature', temp), tempValue),
      labelled('Length', length),
      button,
    );
    this.list = h('ol', { class: 'samples', 'aria-label': 'Samples, newest first', 'aria-live': 'polite' });
    this.element = h('section', { class: 'view' }, controls, this.list);
  }

  render(): void {
    const run = this.ctx.model.current;
    const labels = run?.run?.model.task === 'generate' ? (run.run.model.labels ?? []) : [];
    const key = labels.join('\u0000');
    if (key !== this.labelsShown) {
      this.labelsShown = key;
      fill(this.label, ...labels.map((l) => h('option', { value: l }, l)));
      this.labelField.hidden = labels.length === 0;
    }
    if (run === null || run.samples.length === 0) {
      fill(this.list, h('li', { class: 'empty' }, 'No samples yet: the model writes one every so often, or press Sample now.'));
      return;
    }
    fill(
      this.list,
      ...run.samples.map((s) =>
        h(
          'li',
          { class: s.pending ? 'sample pending' : 'sample' },
          h(
            'div',
            { class: 'meta' },
            `step ${s.step}`,
            s.label !== undefined ? ` · for ${JSON.stringify(s.label)}` : '',
            Number.isFinite(s.temperature) ? ` · temperature ${formatValue(s.temperature)}` : '',
            s.pending ? ' · writing…' : '',
          ),
          h(
            'pre',
            {},
            s.prime ? h('span', { class: 'prime', title: 'prompt' }, s.prime) : null,
            s.text.startsWith(s.prime) ? s.text.slice(s.prime.length) : s.text,
          ),
        ),
      ),
    );
  }
}
