// `recurrent sample CHECKPOINT`: streams generated text to stdout as it is sampled.
import { readCheckpointFile } from '../engine/checkpoint.js';
import { generate } from '../engine/sampling.js';
import { intOption, numberOption, parse, stringOption } from './args.js';
import { loadModel } from './load.js';
import { writeOut } from './output.js';

export const SAMPLE_USAGE = `usage: recurrent sample CHECKPOINT [options]

  --prime TEXT          text that sets the model's state before sampling (default: none)
  --length N            tokens to generate (default 500)
  --temperature X       below 1 sharper, above 1 more varied (default 1)
  --top-k N             sample among the N most likely tokens; 0 = all (default 0)
  --top-p X             sample among the most likely tokens whose probabilities sum to X (default 1)
  --greedy              always take the most likely token
  --stop TEXT           stop once the output ends with TEXT
  --seed N              the same seed gives the same text (default 1)`;

export async function sampleCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      prime: { type: 'string' },
      length: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      greedy: { type: 'boolean' },
      stop: { type: 'string' },
      seed: { type: 'string' },
    },
    ['checkpoint'],
  );
  const opts = {
    prime: stringOption(values, 'prime') ?? '',
    length: intOption(values, 'length', 1, 1e8) ?? 500,
    temperature: numberOption(values, 'temperature', 1e-3, 100) ?? 1,
    topK: intOption(values, 'top-k', 0, 1 << 20) ?? 0,
    topP: numberOption(values, 'top-p', 1e-6, 1) ?? 1,
    greedy: values.greedy === true,
    seed: intOption(values, 'seed', 0, 0xffffffff) ?? 1,
    stopAt: stringOption(values, 'stop'),
  };
  const { model, tokenizer } = loadModel(await readCheckpointFile(positionals[0]!, { tensors: 'parameters' }));
  const stepper = model.stepper();
  await writeOut(opts.prime);
  await generate(stepper, tokenizer, opts, writeOut);
  await writeOut('\n');
  return 0;
}
