// Predict: runs a classify, generate or translate model on the selection (one prediction per line; of a
// task file's line, its input for a classifier or a translator and its label for a generator) or on a
// text typed in the palette. One answer shows as a message; several open beside as a tab-separated list.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { RecurrentError } from '../../engine/errors.js';
import type { Run } from '../run.js';
import type { Studio } from '../studio.js';
import { splitLine } from '../editor/taskLines.js';

export interface PredictOptions {
  runId?: string;
  /** Lines to predict instead of the selection or the palette's question. */
  text?: string;
  /** Show the answers (default true). */
  show?: boolean;
}

/** One answer per line: what was asked, and the model's output with its probability (generate: a text, no probability). */
export interface Prediction {
  input: string;
  output: string;
  probability?: number;
  ranked?: Array<{ output: string; probability: number }>;
  /** translate: edits from the translation to the line's own output, when the line has one. */
  distance?: number;
}

export async function predict(studio: Studio, opts: PredictOptions = {}): Promise<Prediction[] | undefined> {
  const run = studio.target(
    opts.runId,
    (r) => r.alive && r.status !== 'starting' && r.task !== 'lm',
    'with a classify, generate or translate model',
  );
  if (run.task === 'lm')
    throw new RecurrentError(
      `${run.label} trains a language model: use Recurrent: Sample, or train on a .tsv file with the task classify, generate or translate`,
    );
  const generate = run.task === 'generate';
  const translate = run.task === 'translate';
  const labels = run.description?.model.labels ?? [];
  let text = opts.text;
  const editor = vscode.window.activeTextEditor;
  if (text === undefined && editor && !editor.selection.isEmpty) text = editor.document.getText(editor.selection);
  if (text === undefined) {
    text = generate
      ? await vscode.window.showQuickPick([...labels], {
          title: `Predict with ${run.label}: write a text for which label?`,
          ignoreFocusOut: true,
        })
      : await vscode.window.showInputBox({
          title: `Predict with ${run.label}`,
          prompt: translate
            ? 'A text to translate'
            : `A text to label (the model knows ${labels.map((l) => JSON.stringify(l)).join(', ')})`,
          ignoreFocusOut: true,
        });
  }
  if (text === undefined) return undefined;
  const lines = text.split('\n').flatMap((l) => {
    const pair = splitLine(l);
    return pair ? [pair] : [];
  });
  if (lines.length === 0) throw new RecurrentError('nothing to predict: the text is empty');
  const answers = generate ? await writeFor(run, lines) : translate ? await translateLines(run, lines) : await classify(run, lines);
  if (opts.show !== false) await (translate ? showTranslations(run, answers) : show(run, answers, generate));
  return answers;
}

/** A translator translates each line's input; a line with an output is also told how far the translation is from it. */
async function translateLines(run: Run, lines: Array<[string, string]>): Promise<Prediction[]> {
  const out = await run.request('predictLines', lines);
  return out.map((p, i) => ({ input: lines[i]![0], output: p.output, ...(p.distance !== undefined ? { distance: p.distance } : {}) }));
}

async function showTranslations(run: Run, answers: Prediction[]): Promise<void> {
  const off = (a: Prediction): string =>
    a.distance === undefined ? '' : a.distance === 0 ? ' (as the line says)' : ` (${a.distance} edits from the line's)`;
  if (answers.length === 1) {
    const a = answers[0]!;
    void vscode.window.showInformationMessage(`${run.label}: ${JSON.stringify(a.input)} → ${JSON.stringify(a.output)}${off(a)}`);
    return;
  }
  const scored = answers.some((a) => a.distance !== undefined);
  const rows = answers.map((a) => [a.input, a.output, ...(scored ? [a.distance ?? ''] : [])].join('\t'));
  const header = scored ? 'input\ttranslation\tedits from the line' : 'input\ttranslation';
  const doc = await vscode.workspace.openTextDocument({ content: [header, ...rows].join('\n') + '\n' });
  await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
}

async function classify(run: Run, lines: Array<[string, string]>): Promise<Prediction[]> {
  const out = await run.request(
    'predictLines',
    lines.map(([input]) => [input, '']),
  );
  return out.map((p, i) => ({ input: lines[i]![0], output: p.output, probability: p.probability, ranked: p.ranked }));
}

/** A generator writes one text for each line's label: the text after a tab, or the whole line. */
async function writeFor(run: Run, lines: Array<[string, string]>): Promise<Prediction[]> {
  const out: Prediction[] = [];
  let seed = randomBytes(4).readUInt32LE(0);
  for (const [input, output] of lines) {
    const label = output || input;
    const written = await run.sample({
      prime: '',
      length: 200,
      temperature: run.samplingTemperature,
      topK: 0,
      topP: 1,
      greedy: false,
      seed: seed++ >>> 0,
      label,
    });
    out.push({ input: label, output: written });
  }
  return out;
}

async function show(run: Run, answers: Prediction[], generate: boolean): Promise<void> {
  const line = (a: Prediction): string =>
    generate ? `${a.output}\t${a.input}` : `${a.input}\t${a.output}\t${(a.probability ?? NaN).toFixed(3)}`;
  if (answers.length === 1) {
    const a = answers[0]!;
    const others = (a.ranked ?? [])
      .slice(1, 3)
      .map((r) => `${r.output} ${(100 * r.probability).toFixed(0)}%`)
      .join(', ');
    void vscode.window.showInformationMessage(
      generate
        ? `${run.label} writes for ${JSON.stringify(a.input)}: ${JSON.stringify(a.output)}`
        : `${run.label}: ${JSON.stringify(a.input)} is ${a.output} (${(100 * (a.probability ?? 0)).toFixed(0)}%${others ? `; then ${others}` : ''})`,
    );
    return;
  }
  const header = generate ? 'text\tlabel' : 'input\tprediction\tprobability';
  const doc = await vscode.workspace.openTextDocument({ content: [header, ...answers.map(line)].join('\n') + '\n' });
  await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
}
