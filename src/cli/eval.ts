// `recurrent eval CHECKPOINT FILE`: how well the model predicts FILE, read as one sequence from a zero
// state (docs/checkpoint-format.md, "The evaluation contract"). Characters the model never saw are left out and counted
// (scoring.ts says how); --unknown error refuses them instead. Any length of file runs in the memory of one
// window, and --json streams the per-token losses rather than building one string of them.
import { readCheckpointFile } from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';
import { scoreText, type TextScore, type UnknownPolicy } from '../engine/scoring.js';
import { loadModel } from './load.js';
import { choiceOption, parse } from './args.js';
import { readTextFile } from './files.js';
import { formatCount } from './format.js';
import { writeOut } from './output.js';

export const EVAL_USAGE = `usage: recurrent eval CHECKPOINT FILE [--json] [--unknown skip|error]

Prints the mean loss in nats and bits per token of FILE read from a zero state.
Characters outside the model's vocabulary are left out: not scored, the state carried
across them, counted apart; --unknown error refuses such a file instead.
--json prints {"tokens", "scored", "loss", "bitsPerToken", "unknown": {"count",
"symbols", "positions"}, "perToken"}: perToken[i-1] = -ln p(t_i | t_<i) in nats,
null where t_i was not scored.`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, unknown: { type: 'string' } }, ['checkpoint', 'file']);
  const policy: UnknownPolicy = choiceOption(values, 'unknown', ['skip', 'error'] as const) ?? 'skip';
  const ck = await readCheckpointFile(positionals[0]!, { tensors: 'parameters' });
  const text = await readTextFile(positionals[1]!);
  const { model, tokenizer } = loadModel(ck);
  const score = scoreText(model, tokenizer, text, { policy });
  if (score.scored === 0) {
    throw new RecurrentError(
      `${positionals[1]} has ${score.tokens} token(s)${score.unknown.count ? `, ${score.unknown.count} of them unknown to the model` : ''}; evaluation needs at least 2 known tokens`,
    );
  }
  if (values.json) await writeJson(score);
  else {
    const u = score.unknown;
    const unknownNote = u.count ? ` (${formatCount(u.count)} unknown, not scored: ${describeSymbols(u.symbols)})` : '';
    await writeOut(
      `${formatCount(score.tokens)} tokens${unknownNote}: loss ${score.lossNats.toFixed(4)} nats, ${score.bitsPerToken.toFixed(4)} bits per token\n`,
    );
  }
  return 0;
}

function describeSymbols(symbols: Map<string, number>): string {
  const list = [...symbols.entries()].sort((a, b) => b[1] - a[1]);
  const shown = list.slice(0, 8).map(([s, n]) => `${JSON.stringify(s)} x${n}`);
  return shown.join(', ') + (list.length > 8 ? `, and ${list.length - 8} more` : '');
}

/** One JSON object, its perToken array written in chunks, waiting for stdout to drain between them. */
async function writeJson(score: TextScore): Promise<void> {
  const head = {
    tokens: score.tokens,
    scored: score.scored,
    loss: score.lossNats,
    bitsPerToken: score.bitsPerToken,
    unknown: {
      count: score.unknown.count,
      symbols: Object.fromEntries(score.unknown.symbols),
      positions: Array.from(score.unknown.positions),
    },
  };
  await writeOut(JSON.stringify(head).slice(0, -1) + ',"perToken":[');
  const per = score.perToken;
  const CHUNK = 65536;
  for (let i = 0; i < per.length; i += CHUNK) {
    const parts: string[] = [];
    for (let j = i; j < Math.min(per.length, i + CHUNK); j++) parts.push(Number.isNaN(per[j]!) ? 'null' : String(per[j]));
    await writeOut((i > 0 ? ',' : '') + parts.join(','));
  }
  await writeOut(']}\n');
}
