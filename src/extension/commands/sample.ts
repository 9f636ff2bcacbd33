// Sample: asks for a prompt, a length and a temperature (remembered for next time) and streams the
// text into a new editor while training goes on.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import type { Studio } from '../studio.js';

export interface SampleOptions {
  runId?: string;
  prime?: string;
  length?: number;
  temperature?: number;
  seed?: number;
  /** Stream into a new editor (default true). */
  editor?: boolean;
  /** generate models: the label to write for (asked with a quick pick otherwise), and how many texts (default 5). */
  label?: string;
  count?: number;
}

/** Texts a generate model writes for its label when Sample does not say. */
const TEXTS_PER_LABEL = 5;

export async function sample(studio: Studio, opts: SampleOptions = {}): Promise<string | undefined> {
  const s = studio.target(opts.runId, (x) => x.alive && x.status !== 'starting', 'has a model');
  const config = vscode.workspace.getConfiguration('recurrent');
  const memory = studio.context.globalState;
  if (s.task === 'classify')
    throw new RecurrentError(`${s.label} is a classifier: it names the label of a text and writes none; use Recurrent: Predict`);
  let label: string | undefined;
  if (s.task === 'generate') {
    label =
      opts.label ??
      (await vscode.window.showQuickPick([...(s.description?.model.labels ?? [])], {
        title: `Sample from ${s.label}: texts for which label?`,
        ignoreFocusOut: true,
      }));
    if (label === undefined) return undefined;
  }
  const ask = opts.prime === undefined;
  const prime =
    opts.prime ??
    (await vscode.window.showInputBox({
      ignoreFocusOut: true,
      title: `Sample from ${s.label}: prompt`,
      prompt:
        label === undefined
          ? 'Text the model continues (empty: start from a line break)'
          : `Each text for ${label} starts with (may be empty)`,
      value: memory.get<string>('sample.prime', ''),
    }));
  if (prime === undefined) return undefined;
  const lengthText =
    opts.length !== undefined
      ? String(opts.length)
      : await vscode.window.showInputBox({
          ignoreFocusOut: true,
          title: `Sample from ${s.label}: length`,
          prompt: 'Tokens to generate',
          value: String(memory.get<number>('sample.length', config.get<number>('sampling.length', 500))),
          validateInput: (v) => (/^\d+$/.test(v.trim()) && +v >= 1 && +v <= 1000000 ? undefined : 'a whole number from 1 to 1000000'),
        });
  if (lengthText === undefined) return undefined;
  const temperatureText =
    opts.temperature !== undefined
      ? String(opts.temperature)
      : await vscode.window.showInputBox({
          ignoreFocusOut: true,
          title: `Sample from ${s.label}: temperature`,
          prompt: 'Below 1: safer and more repetitive; above 1: more surprising',
          value: String(memory.get<number>('sample.temperature', s.samplingTemperature)),
          validateInput: (v) => (Number.isFinite(+v) && +v > 0 && +v <= 10 ? undefined : 'a number greater than 0 and at most 10'),
        });
  if (temperatureText === undefined) return undefined;
  const length = Number(lengthText);
  const temperature = Number(temperatureText);
  if (ask) {
    await memory.update('sample.prime', prime);
    await memory.update('sample.length', length);
    await memory.update('sample.temperature', temperature);
  }
  const request = {
    prime,
    length,
    temperature,
    topK: config.get<number>('sampling.topK', 0),
    topP: config.get<number>('sampling.topP', 1),
    greedy: false,
    seed: opts.seed ?? randomBytes(4).readUInt32LE(0),
    ...(label !== undefined ? { label, count: opts.count ?? TEXTS_PER_LABEL } : {}),
  };
  if (opts.editor === false) return s.sample(request);

  const doc = await vscode.workspace.openTextDocument({ content: prime, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  // Edits are applied one after another; a closed editor just stops receiving them.
  let edits: Thenable<unknown> = Promise.resolve();
  const append = (text: string): void => {
    edits = edits.then(
      () => editor.edit((b) => b.insert(doc.positionAt(doc.getText().length), text), { undoStopBefore: false, undoStopAfter: false }),
      () => undefined,
    );
  };
  const text = await s.sample(request, append);
  await edits;
  return text;
}
