// Gates: for a probe text, heatmaps of each gate (units down, characters across) per layer: the LSTM's
// i, f, g, o and cell state c, the GRU's r, z and n, or the RNN's hidden state, each with the share of
// its values that are saturated (where the gate passes almost no gradient).
import { fill, h, labelled } from '../dom.js';
import { colourKey, Heatmap } from '../heatmap.js';
import { GATE_INFO, gateRange, saturation, showToken, unitsByTime } from '../model/gates.js';
import { formatValue } from '../model/format.js';
import type { GateName } from '../../src/engine/measurements.js';
import type { View, ViewContext } from './view.js';

const pct = (x: number): string => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 1 : 0)}%`;

export class GatesView implements View {
  readonly element: HTMLElement;
  private readonly layerSelect: HTMLSelectElement;
  private readonly body: HTMLElement;
  private readonly summary: HTMLElement;
  private heatmaps = new Map<GateName, Heatmap>();
  /** generate: the label whose state the probe reads the text from (hidden for other runs). */
  private readonly label: HTMLSelectElement;
  private readonly labelField: HTMLElement;
  private labelsShown = '';

  constructor(private readonly ctx: ViewContext) {
    const ui = ctx.host.ui;
    this.layerSelect = h('select');
    this.layerSelect.addEventListener('change', () => {
      ctx.host.update({ gatesLayer: Number(this.layerSelect.value) });
      ctx.redraw('gates');
    });
    const probe = h('input', {
      type: 'text',
      value: ui.probeText,
      placeholder: 'text to probe (default: the selection or first line)',
      size: 40,
    });
    const button = h('button', { type: 'button' }, 'Probe');
    this.label = h('select', {});
    this.labelField = labelled('Label', this.label);
    this.labelField.hidden = true;
    const go = (): void => {
      ctx.host.update({ probeText: probe.value });
      if (probe.value.length > 0)
        ctx.host.send({ type: 'probeGates', text: probe.value, ...(this.labelField.hidden ? {} : { label: this.label.value }) });
    };
    button.addEventListener('click', go);
    probe.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    const controls = h(
      'div',
      { class: 'controls', role: 'group', 'aria-label': 'Gate probe' },
      labelled('Layer', this.layerSelect),
      labelled('Probe text', probe),
      this.labelField,
      button,
    );
    this.summary = h('div', { class: 'saturation', role: 'table', 'aria-label': 'Saturation per gate' });
    this.body = h('div', { class: 'gates' });
    this.element = h('section', { class: 'view' }, controls, this.summary, this.body);
  }

  render(): void {
    const run = this.ctx.model.current;
    const theme = this.ctx.theme();
    const known = run?.run?.model.task === 'generate' ? (run.run.model.labels ?? []) : [];
    if (known.join('\u0000') !== this.labelsShown) {
      this.labelsShown = known.join('\u0000');
      fill(this.label, ...known.map((l) => h('option', { value: l }, l)));
      this.labelField.hidden = known.length === 0;
    }
    const probe = run?.gates ?? null;
    if (probe === null || probe.layers.length === 0) {
      fill(this.summary);
      fill(this.body, h('p', { class: 'empty' }, 'No gate probe yet: it arrives during training, or type a probe text and press Probe.'));
      this.heatmaps.clear();
      return;
    }
    const ui = this.ctx.host.ui;
    const layerIndex = Math.min(ui.gatesLayer, probe.layers.length - 1);
    if (this.layerSelect.options.length !== probe.layers.length) {
      fill(
        this.layerSelect,
        ...probe.layers.map((l, i) => h('option', { value: i }, `layer ${l.layer + 1}${l.direction === 'reverse' ? ' (reverse)' : ''}`)),
      );
    }
    this.layerSelect.value = String(layerIndex);
    const layer = probe.layers[layerIndex]!;
    const T = probe.tokens.length;
    const H = probe.hidden;
    const labels = probe.tokens.map(showToken);

    fill(
      this.summary,
      h(
        'div',
        { role: 'row', class: 'sat-row head' },
        h('span', { role: 'columnheader' }, 'gate'),
        h('span', { role: 'columnheader' }, 'saturated'),
        h('span', { role: 'columnheader' }, 'shut / open'),
      ),
      ...layer.gates.map((g) => {
        const s = saturation(g.name, g.data);
        const bar =
          s === null
            ? h('span', { class: 'bar none' })
            : h(
                'span',
                { class: 'bar', 'aria-hidden': 'true' },
                h('span', { class: 'low', style: `width:${(100 * s.low).toFixed(1)}%` }),
                h('span', { class: 'high', style: `width:${(100 * s.high).toFixed(1)}%` }),
              );
        return h(
          'div',
          { role: 'row', class: 'sat-row' },
          h('span', { role: 'cell' }, GATE_INFO[g.name].title),
          h('span', { role: 'cell' }, s === null ? 'n/a (unbounded)' : pct(s.total), bar),
          h('span', { role: 'cell' }, s === null ? '' : `${pct(s.low)} / ${pct(s.high)}`),
        );
      }),
    );

    const keep = new Map<GateName, Heatmap>();
    const blocks: HTMLElement[] = [];
    for (const g of layer.gates) {
      const hm = this.heatmaps.get(g.name) ?? new Heatmap(GATE_INFO[g.name].title);
      keep.set(g.name, hm);
      const range = gateRange(g.name, g.data);
      const s = saturation(g.name, g.data);
      hm.setLabel(
        `Heatmap of ${GATE_INFO[g.name].title}, layer ${layer.layer + 1}: ${H} units by ${T} characters` +
          (s ? `, ${pct(s.total)} saturated` : ''),
      );
      const lo = range.kind === 'unit' ? '0' : formatValue(-(range.kind === 'signed' ? range.limit : 0));
      const hi = range.kind === 'unit' ? '1' : formatValue(range.kind === 'signed' ? range.limit : 0);
      blocks.push(
        h(
          'figure',
          { class: 'gate' },
          h(
            'figcaption',
            {},
            h('strong', {}, GATE_INFO[g.name].title),
            s ? ` · ${pct(s.total)} saturated` : '',
            ' ',
            colourKey(range, theme, lo, hi),
          ),
          hm.element,
        ),
      );
      hm.set(
        {
          values: unitsByTime(g.data, T, H),
          rows: H,
          cols: T,
          range,
          colLabels: labels,
          rowTitle: 'unit',
          rowLabel: String,
          describe: (r, c, v) =>
            `character ${JSON.stringify(probe.tokens[c] ?? '')} (position ${c}) · unit ${r} · ${g.name} = ${formatValue(v)}`,
        },
        theme,
      );
    }
    // Attach before drawing again so the canvases take the width they are shown at.
    fill(this.body, ...blocks);
    for (const hm of keep.values()) hm.draw();
    this.heatmaps = keep;
  }
}
