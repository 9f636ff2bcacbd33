// `recurrent gradcheck`: every parameter tensor's backward pass against central finite differences
// in float64, so a user can see for themselves that the gradients they train with are exact.
import { CELL_KINDS, POOLINGS, validateModelConfig, type ModelConfig } from '../engine/config.js';
import { gradcheck, type GradcheckResult } from '../engine/gradcheck.js';
import { taskGradcheck } from '../engine/taskGradcheck.js';
import { choiceOption, intOption, parse } from './args.js';

export const GRADCHECK_USAGE = `usage: recurrent gradcheck [options]

  --cell rnn|lstm|gru|all   cell(s) to check (default all)
  --hidden N                hidden units (default 5)
  --layers N                stacked layers (default 2)
  --embedding N             embedding size, 0 = one-hot (default 0)
  --vocab N                 vocabulary size (default 7)
  --bidirectional           check the bidirectional wrapper too
  --batch B --steps T       window (default 3 streams of 6 steps)
  --k1 N                    loss over the last k1 steps only (truncated BPTT; default T)
  --seed N                  (default 1)
  --tolerance X             fail above this worst relative error (default 1e-6)
  --task classify|generate|translate
                            the task's network instead of the language model, on a padded batch of
                            examples of lengths 4, 1, 0, 6, 3 (generate: 4, 1, 6, 3; translate: sources of
                            those, targets of 3, 6, 0, 1, 4 and the end token); --pooling last|mean`;

export async function gradcheckCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      cell: { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      embedding: { type: 'string' },
      vocab: { type: 'string' },
      bidirectional: { type: 'boolean' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      k1: { type: 'string' },
      seed: { type: 'string' },
      tolerance: { type: 'string' },
      task: { type: 'string' },
      pooling: { type: 'string' },
    },
    [],
  );
  const task = choiceOption(values, 'task', ['lm', 'classify', 'generate', 'translate'] as const) ?? 'lm';
  const pooling = choiceOption(values, 'pooling', POOLINGS) ?? 'last';
  const which = choiceOption(values, 'cell', [...CELL_KINDS, 'all'] as const) ?? 'all';
  const steps = intOption(values, 'steps', 1, 200) ?? 6;
  const opts = {
    batch: intOption(values, 'batch', 1, 64) ?? 3,
    steps,
    k1: intOption(values, 'k1', 1, steps) ?? steps,
    seed: intOption(values, 'seed', 0, 0xffffffff) ?? 1,
  };
  const tolerance = Number(values.tolerance ?? 1e-6);
  const out = process.stdout;
  let worst = 0;
  for (const cell of which === 'all' ? CELL_KINDS : [which]) {
    const config: ModelConfig = {
      task,
      cell,
      hidden: intOption(values, 'hidden', 1, 64) ?? 5,
      layers: intOption(values, 'layers', 1, 4) ?? 2,
      embedding: intOption(values, 'embedding', 0, 64) ?? 0,
      bidirectional: values.bidirectional === true,
      vocabSize: intOption(values, 'vocab', 2, 256) ?? 7,
      ...(task === 'classify' || task === 'generate' ? { labels: ['a', 'b', 'c'], maxLength: 0 } : {}),
      ...(task === 'classify' ? { pooling } : {}),
      // The targets' vocabulary one smaller than the sources', so a mix-up of the two shows.
      ...(task === 'translate'
        ? { targetVocabSize: Math.max(2, (intOption(values, 'vocab', 2, 256) ?? 7) - 1), maxLength: 0, maxOutput: 8 }
        : {}),
    };
    let r: GradcheckResult;
    if (task === 'lm') r = gradcheck(config, opts);
    else {
      const lengths = task === 'generate' ? [4, 1, 6, 3] : [4, 1, 0, 6, 3];
      r = taskGradcheck(validateModelConfig(config), { lengths, seed: opts.seed });
      out.write(`${cell}: task ${task}${task === 'classify' ? `, ${pooling} pooling` : ''}, examples of lengths ${lengths.join(', ')}\n`);
    }
    out.write(
      `${cell}: hidden ${config.hidden}, layers ${config.layers}, ${config.embedding ? `embedding ${config.embedding}` : 'one-hot'}${config.bidirectional ? ', bidirectional' : ''}, batch ${opts.batch}, window ${steps}, loss over last ${opts.k1}\n`,
    );
    const width = Math.max(...r.tensors.map((t) => t.name.length));
    for (const t of r.tensors) {
      out.write(
        `  ${t.name.padEnd(width)}  ${String(t.checked).padStart(5)} checked  worst relative error ${t.worstRelError.toExponential(2)}\n`,
      );
    }
    out.write(`  worst ${r.worstRelError.toExponential(2)} (${r.worstTensor})\n`);
    worst = Math.max(worst, r.worstRelError);
  }
  const ok = worst < tolerance;
  out.write(`${ok ? 'PASS' : 'FAIL'}: worst relative error ${worst.toExponential(2)} ${ok ? '<' : '>='} ${tolerance}\n`);
  return ok ? 0 : 1;
}
