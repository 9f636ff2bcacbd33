// `recurrent info CHECKPOINT`: what a checkpoint holds, without loading a model, and where its run trained
// (the history it carries: here, or continued in PyTorch by train.py).
import { readCheckpointFile } from '../engine/checkpoint.js';
import { describeSegment, History, HISTORY_KEY } from '../engine/history.js';
import { parameterShapes } from '../engine/parameters.js';
import { formatCount } from './format.js';
import { parse } from './args.js';

export async function infoCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, ['checkpoint']);
  // The parameters are read (and checked finite) one at a time; the training state is not needed here.
  const ck = await readCheckpointFile(positionals[0]!, { tensors: 'parameters' });
  const shapes = parameterShapes(ck.config);
  const tensors = shapes.map((p) => ({ name: p.name, shape: p.shape, count: p.shape.reduce((a, b) => a * b, 1) }));
  const total = tensors.reduce((n, t) => n + t.count, 0);
  const training = ck.metadata['recurrent.training'];
  let updates: number | undefined;
  try {
    updates = training ? (JSON.parse(training) as { updates?: number }).updates : undefined;
  } catch {
    updates = undefined;
  }
  const history = History.parse(ck.metadata[HISTORY_KEY]);
  const points = history.metrics();
  const validations = history.validations();
  // The curve at each segment's end: the last kept point of the segment, and its last validation.
  const segments = history.segments.map((s) => {
    const last = points.filter((m) => m.step > s.from && m.step <= s.to).at(-1);
    const val = validations.filter((v) => v.step > s.from && v.step <= s.to).at(-1);
    return { segment: s, lossNats: last?.lossNats ?? null, validationNats: val?.lossNats ?? null };
  });
  const extra = ck.stored.filter((k) => !shapes.some((p) => p.name === k));
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        config: ck.config,
        tokenizer: { kind: ck.tokenizer.kind, size: ck.tokenizer.vocab.length },
        ...(ck.targetTokenizer !== undefined
          ? { targetTokenizer: { kind: ck.targetTokenizer.kind, size: ck.targetTokenizer.vocab.length } }
          : {}),
        parameters: total,
        tensors,
        updates: updates ?? null,
        extraTensors: extra.length,
        segments: segments.map((s) => ({
          ...s.segment,
          where: describeSegment(s.segment),
          lossNats: s.lossNats,
          validationNats: s.validationNats,
        })),
        history: { points: points.length, validations: validations.length },
      }) + '\n',
    );
    return 0;
  }
  const c = ck.config;
  const o = process.stdout;
  // classify's loss is per example; the others' per output token (translate's: of the targets).
  const unit = c.task === 'classify' ? 'example' : (ck.targetTokenizer ?? ck.tokenizer).kind === 'char' ? 'char' : 'token';
  o.write(
    `task ${c.task}, cell ${c.cell}, hidden ${c.hidden}, layers ${c.layers}, ${c.embedding ? `embedding ${c.embedding}` : 'one-hot input'}${c.bidirectional ? ', bidirectional' : ''}\n`,
  );
  if (c.labels !== undefined) {
    const pooling = c.pooling !== undefined ? `, ${c.pooling} pooling` : '';
    o.write(`labels (${c.labels.length}): ${c.labels.join(', ')}; texts cut at ${c.maxLength || 'no'} tokens${pooling}\n`);
  }
  if (c.task === 'translate') {
    o.write(
      `decoder ${c.cell}, hidden ${c.hidden * (c.bidirectional ? 2 : 1)}, layers ${c.layers}, from the encoder's final states; sources cut at ${c.maxLength || 'no'} tokens, at most ${c.maxOutput} tokens out\n`,
    );
    o.write(`source tokenizer ${ck.tokenizer.kind}, vocabulary ${ck.tokenizer.vocab.length}\n`);
    o.write(`target tokenizer ${ck.targetTokenizer!.kind}, vocabulary ${ck.targetTokenizer!.vocab.length} (the end token included)\n`);
  } else o.write(`tokenizer ${ck.tokenizer.kind}, vocabulary ${ck.tokenizer.vocab.length}\n`);
  if (updates !== undefined) o.write(`trained for ${formatCount(updates)} updates\n`);
  for (const s of segments) {
    const loss = s.lossNats === null ? '' : `: loss ${(s.lossNats / Math.LN2).toFixed(3)} bits/${unit}`;
    const val = s.validationNats === null ? '' : `, validation ${(s.validationNats / Math.LN2).toFixed(3)}`;
    o.write(`  updates ${formatCount(s.segment.from)}-${formatCount(s.segment.to)} in ${describeSegment(s.segment)}${loss}${val}\n`);
  }
  const width = Math.max(...tensors.map((t) => t.name.length));
  for (const t of tensors) o.write(`  ${t.name.padEnd(width)}  [${t.shape.join(', ')}]  ${formatCount(t.count)}\n`);
  o.write(`parameters ${formatCount(total)}${extra.length ? ` (plus ${extra.length} tensors of training state)` : ''}\n`);
  return 0;
}
