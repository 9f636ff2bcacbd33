// `recurrent predict CHECKPOINT [FILE]`: one prediction per input line (stdin without FILE).
//   classify: `label<TAB>probability` for the line's text (of a task file's line, the text before the tab);
//   generate: a text the model writes for the line's label;
//   translate: the translation of the line's text (of a task file's line, the source before the tab).
import { readFileSync } from 'node:fs';
import { readCheckpointFile } from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';
import { Model } from '../engine/model.js';
import { TaskPredictor } from '../engine/taskPredict.js';
import { Tokenizer } from '../engine/tokenizer.js';
import { intOption, numberOption, parse, stringOption } from './args.js';
import { readTextFile } from './files.js';
import { writeOut } from './output.js';

export const PREDICT_USAGE = `usage: recurrent predict CHECKPOINT [FILE] [options]

One line out per line in (stdin without FILE; empty lines are skipped).
classify models: each line's text (before a tab, if it has one) -> label<TAB>probability
  --top N               the N most probable labels, label<TAB>probability each, tab-separated (default 1)
  --json                one JSON object per line: {"text", "label", "probability", "ranked": [...], "unknown"}
generate models: each line is a label -> a text the model writes for it
  --count N             texts per label (default 1)
  --prime TEXT          every text starts with TEXT
  --temperature X       (default 0.8); --seed N (default 1)
translate models: each line's text (before a tab, if it has one) -> its translation
  --beam K              beam search of width K (default 1: greedy)
  --json                one JSON object per line: {"text", "translation", "tokens", "unknown"}`;

export async function predictCommand(argv: string[]): Promise<number> {
  const options = {
    top: { type: 'string' },
    json: { type: 'boolean' },
    count: { type: 'string' },
    prime: { type: 'string' },
    temperature: { type: 'string' },
    seed: { type: 'string' },
    beam: { type: 'string' },
  } as const;
  // FILE is optional: one positional reads stdin.
  let parsed;
  try {
    parsed = parse(argv, { ...options }, ['checkpoint', 'file']);
  } catch {
    parsed = parse(argv, { ...options }, ['checkpoint']);
  }
  const { values, positionals } = parsed;
  const ck = await readCheckpointFile(positionals[0]!, { tensors: 'parameters' });
  if (ck.config.task === 'lm') throw new RecurrentError(`${positionals[0]} is a language model: use recurrent sample, or recurrent eval`);
  const model = new Model(ck.config);
  model.loadTensors(ck.tensors);
  const target = ck.targetTokenizer !== undefined ? Tokenizer.fromSpec(ck.targetTokenizer) : null;
  const predictor = new TaskPredictor(model, Tokenizer.fromSpec(ck.tokenizer), target);
  // An option of another task's predictions would be silently ignored: say so instead.
  const own = { classify: ['top', 'json'], generate: ['count', 'prime', 'temperature', 'seed'], translate: ['beam', 'json'] }[
    ck.config.task
  ];
  const foreign = Object.keys(options).filter((k) => values[k as keyof typeof values] !== undefined && !own.includes(k));
  if (foreign.length)
    throw new RecurrentError(
      `${foreign.map((k) => '--' + k).join(', ')}: not an option for ${ck.config.task} models (see recurrent predict --help)`,
    );
  const input = positionals[1] !== undefined ? await readTextFile(positionals[1]) : readFileSync(0, 'utf8');
  const lines = input.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const out: string[] = [];
  if (ck.config.task === 'translate') {
    const texts = lines.map((l) => (l.includes('\t') ? l.slice(0, l.indexOf('\t')) : l));
    predictor.translate(texts, intOption(values, 'beam', 1, 1000) ?? 1).forEach((t, i) => {
      out.push(values.json ? JSON.stringify({ text: texts[i], translation: t.text, tokens: t.tokens, unknown: t.unknown }) : t.text);
    });
  } else if (ck.config.task === 'classify') {
    const top = intOption(values, 'top', 1, 1 << 20) ?? 1;
    const texts = lines.map((l) => (l.includes('\t') ? l.slice(0, l.indexOf('\t')) : l));
    predictor.classify(texts).forEach((c, i) => {
      if (values.json)
        out.push(JSON.stringify({ text: texts[i], label: c.label, probability: c.probability, ranked: c.ranked, unknown: c.unknown }));
      else
        out.push(
          c.ranked
            .slice(0, top)
            .map((r) => `${r.label}\t${r.probability.toFixed(4)}`)
            .join('\t'),
        );
    });
  } else {
    const count = intOption(values, 'count', 1, 1e6) ?? 1;
    const temperature = numberOption(values, 'temperature', 1e-3, 100) ?? 0.8;
    let seed = intOption(values, 'seed', 0, 0xffffffff) ?? 1;
    const prime = stringOption(values, 'prime') ?? '';
    for (const label of lines) {
      for (let k = 0; k < count; k++) {
        out.push(await predictor.generate(label.trim(), { temperature, topK: 0, topP: 1, greedy: false, seed: seed++, prime }));
      }
    }
  }
  await writeOut(out.length ? out.join('\n') + '\n' : '');
  return 0;
}
