// `recurrent eval CHECKPOINT FILE.tsv` for task models: scores the file's examples (or,
// with --held-out, only the lines the run held out: the same seeded sample, from the share and seed in
// the checkpoint). A language model's checkpoint goes on to the language model's eval (eval.ts).
import { readCheckpointFile, type Checkpoint } from '../engine/checkpoint.js';
import { validateTrainConfig } from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { Model } from '../engine/model.js';
import { encodeExamples, encodeTranslations, END_OF_TEXT, splitExamples } from '../engine/taskData.js';
import { evaluateTask } from '../engine/taskEval.js';
import { TaskNet } from '../engine/taskNet.js';
import { TASK_TRAINING_KEY } from '../engine/taskTrainer.js';
import { Tokenizer } from '../engine/tokenizer.js';
import { TranslationDecoder } from '../engine/translateDecode.js';
import { parseTsv } from '../engine/tsv.js';
import { choiceOption, intOption, parse } from './args.js';
import { evalCommand } from './eval.js';
import { readTextFile } from './files.js';

export const TASK_EVAL_USAGE = `usage: recurrent eval CHECKPOINT FILE.tsv [--json] [--held-out] [--unknown skip|error] [--beam K]   (task models)

classify: accuracy, mean loss, per-label recall and precision, the confusion matrix;
  --json {"task", "examples", "accuracy", "loss", "perClass": {...}, "confusion": [[...]], "labels", "unknown"}
generate: mean loss per output character (the end of each text included);
  --json {"task", "examples", "tokens", "loss", "bitsPerToken", "unknown"}
translate: the share of sources whose translation is not exactly the target (word error rate), the summed
  edit distances over the summed target lengths (token error rate), and the mean loss per target token;
  greedy, or a beam search of width K with --beam K;
  --json {"task", "examples", "wordErrorRate", "tokenErrorRate", "beam", "tokens", "loss", "bitsPerToken", "unknown"}
Characters the model never saw are left out of the texts (the text reads on from the next known one) and
counted ("unknown": {"count", "symbols", "at": [{"line", "character"}]}); --unknown error refuses them. --held-out scores only the lines the run held out.`;

export async function evalDispatch(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { json: { type: 'boolean' }, 'held-out': { type: 'boolean' }, unknown: { type: 'string' }, beam: { type: 'string' } },
    ['checkpoint', 'file'],
  );
  const ck = await readCheckpointFile(positionals[0]!, { tensors: 'parameters' });
  if (ck.config.task === 'lm') {
    if (values['held-out']) throw new RecurrentError('--held-out is an option for task models');
    if (values.beam !== undefined) throw new RecurrentError('--beam is an option for translate models');
    return evalCommand(argv);
  }
  if (values.beam !== undefined && ck.config.task !== 'translate') throw new RecurrentError('--beam is an option for translate models');
  const beam = intOption(values, 'beam', 1, 1000) ?? 1;
  const file = positionals[1]!;
  const strict = (choiceOption(values, 'unknown', ['skip', 'error'] as const) ?? 'skip') === 'error';
  const full = evaluateFile(ck, await readTextFile(file), file, { heldOut: values['held-out'] === true, strict, beam });
  // The translations themselves are not part of the report.
  const result = full.task === 'translate' ? (({ outputs: _o, distances: _d, ...rest }) => rest)(full) : full;
  if (values.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  const out: string[] = [];
  if (result.task === 'classify') {
    out.push(`${result.examples} examples: accuracy ${result.accuracy.toFixed(4)}, loss ${result.loss.toFixed(4)} nats`);
    for (const [label, c] of Object.entries(result.perClass)) {
      out.push(`  ${label}: ${c.examples} examples, recall ${c.recall.toFixed(3)}, precision ${c.precision.toFixed(3)}`);
    }
    out.push(`confusion (rows: true label, columns: predicted; ${result.labels.join(', ')}):`);
    for (const row of result.confusion) out.push('  ' + row.map((n) => String(n).padStart(6)).join(' '));
  } else if (result.task === 'translate') {
    out.push(
      `${result.examples} examples (${result.beam === 1 ? 'greedy' : `beam ${result.beam}`}): word error rate ${result.wordErrorRate.toFixed(4)}, token error rate ${result.tokenErrorRate.toFixed(4)}; ${result.tokens} target tokens: loss ${result.loss.toFixed(4)} nats, ${result.bitsPerToken.toFixed(4)} bits per token`,
    );
  } else {
    out.push(
      `${result.examples} examples, ${result.tokens} output tokens: loss ${result.loss.toFixed(4)} nats, ${result.bitsPerToken.toFixed(4)} bits per token`,
    );
  }
  if (result.unknown.count > 0) out.push(`${result.unknown.count} unknown character(s) left out (--json lists where)`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

export function evaluateFile(ck: Checkpoint, text: string, source: string, opts: { heldOut: boolean; strict: boolean; beam?: number }) {
  let examples = parseTsv(text, source);
  if (opts.heldOut) {
    const raw = ck.metadata[TASK_TRAINING_KEY];
    if (raw === undefined)
      throw new RecurrentError(`${source}: the checkpoint has no training record, so which lines were held out is unknown`);
    const train = validateTrainConfig((JSON.parse(raw) as { train?: object }).train ?? {});
    examples = splitExamples(examples, train.valShare, train.seed, train.valMax).heldOut;
    if (examples.length === 0) throw new RecurrentError(`the run held out no lines (validation share ${train.valShare})`);
  }
  const cfg = ck.config;
  const tok = Tokenizer.fromSpec(ck.tokenizer);
  const targetTok = ck.targetTokenizer !== undefined ? Tokenizer.fromSpec(ck.targetTokenizer) : null;
  const seqs =
    targetTok !== null
      ? encodeTranslations(examples, tok, targetTok, { maxLength: cfg.maxLength ?? 0, source })
      : encodeExamples(examples, tok, cfg.labels!, { maxLength: cfg.maxLength ?? 0, endToken: cfg.task === 'generate', source });
  if (opts.strict && seqs.unknown > 0) {
    const first = seqs.unknownAt[0]!;
    throw new RecurrentError(
      `${source}:${first.line}: the ${targetTok !== null && tok.kind !== 'char' ? 'token' : 'character'} ${JSON.stringify(first.token)} is not in the model's vocabulary (${seqs.unknown} such in all); with --unknown skip they are left out and counted`,
    );
  }
  const model = new Model(cfg);
  model.loadTensors(ck.tensors);
  let longest = 1;
  for (const side of [seqs.ids, seqs.targets ?? []]) for (const s of side) longest = Math.max(longest, s.length);
  const end = cfg.task === 'generate' ? tok.id(END_OF_TEXT)! : cfg.task === 'translate' ? targetTok!.id(END_OF_TEXT)! : -1;
  const net = new TaskNet(model, 32, longest, end);
  const decoder =
    cfg.task === 'translate' ? new TranslationDecoder(model, { maxBatch: 32, maxSource: longest, beam: opts.beam ?? 1 }, end) : null;
  const result = evaluateTask(net, seqs, cfg.labels ?? [], undefined, decoder);
  const symbols = Object.fromEntries(seqs.unknownSymbols);
  const at = seqs.unknownAt.map((u) => ({ line: u.line, character: u.token }));
  return { ...result, unknown: { count: seqs.unknown, symbols, at } };
}
