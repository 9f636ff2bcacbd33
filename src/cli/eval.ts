// `recurrent eval CHECKPOINT FILE`: the evaluation contract of docs/checkpoint-format.md, from a zero
// initial state over the whole file: perToken[i-1] = -ln p(t_i | t_<i), loss their mean.
import { readCheckpointFile } from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';
import { parse } from './args.js';
import { readTextFile } from './files.js';
import { formatCount } from './format.js';
import { evaluateText } from './load.js';

export const EVAL_USAGE = `usage: recurrent eval CHECKPOINT FILE [--json]

Prints the mean loss in nats and bits per token; --json prints
{"tokens": N, "loss": L, "bitsPerToken": B, "perToken": [...]} as docs/checkpoint-format.md fixes.`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, ['checkpoint', 'file']);
  const ck = await readCheckpointFile(positionals[0]!);
  const text = readTextFile(positionals[1]!);
  const { tokens, perToken } = evaluateText(ck, text);
  if (tokens < 2) throw new RecurrentError(`${positionals[1]} has ${tokens} token(s); evaluation needs at least 2`);
  let sum = 0;
  for (let i = 0; i < perToken.length; i++) sum += perToken[i]!;
  const loss = sum / perToken.length;
  const bitsPerToken = loss / Math.LN2;
  if (values.json) {
    process.stdout.write(JSON.stringify({ tokens, loss, bitsPerToken, perToken: Array.from(perToken) }) + '\n');
  } else {
    process.stdout.write(`${formatCount(tokens)} tokens: loss ${loss.toFixed(4)} nats, ${bitsPerToken.toFixed(4)} bits per token\n`);
  }
  return 0;
}
