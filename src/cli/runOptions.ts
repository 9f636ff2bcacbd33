// The options a training run has whatever it trains (the language model's `recurrent train`, and the
// tasks' `--task`): how long it runs, how often it samples and saves, where its checkpoint goes, how
// many threads share an update, and what it resumes. One reading of them, so both commands say the
// same about the same mistake.
import { availableParallelism } from 'node:os';
import { basename, extname } from 'node:path';
import { automaticThreads, MAX_THREADS } from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { durationOption, intOption, intOrAutoOption, type Values } from './args.js';
import { checkOutputFile, isStream } from './files.js';
import { DEFAULT_AUTOSAVE_MS } from './runSaves.js';

export const RUN_OPTIONS = {
  steps: { type: 'string' },
  time: { type: 'string' },
  'sample-every': { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  resume: { type: 'string' },
  out: { type: 'string' },
  'save-every': { type: 'string' },
  force: { type: 'boolean' },
} as const;

/** What a run may still be given with --resume: everything else is the run's own. */
const KEPT_ON_RESUME = ['resume', 'out', 'steps', 'time', 'sample-every', 'save-every', 'threads', 'force'];

export interface RunLength {
  /** 0: no limit. */
  maxSteps: number;
  maxMs: number;
  sampleEveryMs: number;
  saveEveryMs: number;
  out: string;
}

/**
 * Reads how long the run goes and where it saves, and checks --out against `file` (what it calls
 * `what`) before anything is read or trained: an --out that would replace the training file, or a
 * file that is not a checkpoint.
 */
export async function runLength(values: Values, file: string, what: string): Promise<RunLength> {
  const maxSteps = intOption(values, 'steps', 1, 1e12) ?? 0;
  const maxMs = durationOption(values, 'time') ?? 0;
  if (maxSteps && maxMs) throw new RecurrentError('give --steps or --time, not both');
  const sampleEveryMs = values['sample-every'] === '0' ? 0 : (durationOption(values, 'sample-every') ?? 20000);
  const saveEveryMs = values['save-every'] === '0' ? 0 : (durationOption(values, 'save-every') ?? DEFAULT_AUTOSAVE_MS);
  const given = typeof values.out === 'string' ? values.out : undefined;
  if (given === undefined && (await isStream(file)))
    throw new RecurrentError(`${file} is a pipe or a device, not a named file: say where the checkpoint goes with --out`);
  const out = given ?? `${basename(file, extname(file)) || basename(file)}.safetensors`;
  await checkOutputFile(out, [{ path: file, what }], values.force === true);
  return { maxSteps, maxMs, sampleEveryMs, saveEveryMs, out };
}

/** `--threads auto`: the command line owns the machine, so it leaves no core spare. */
export function autoThreads(cores: number): number {
  return automaticThreads(cores, 0);
}

/** --threads as a count: `auto` (or no --threads, where the default is auto) takes this machine's cores. */
export function threadsOption(values: Values, fallback: number | 'auto'): number {
  const given = intOrAutoOption(values, 'threads', 1, MAX_THREADS) ?? fallback;
  return given === 'auto' ? autoThreads(availableParallelism()) : given;
}

/** --resume continues a run with its own settings: any other setting given beside it is refused, by name. */
export function refuseSettingsBesideResume(values: Values, options: object, alsoKept: readonly string[] = []): void {
  const ignored = Object.keys(options).filter((k) => values[k] !== undefined && !KEPT_ON_RESUME.includes(k) && !alsoKept.includes(k));
  if (ignored.length)
    throw new RecurrentError(`--resume continues the run with its own settings; drop ${ignored.map((k) => '--' + k).join(', ')}`);
}
