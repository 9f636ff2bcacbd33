// `recurrent train FILE`: trains on a text file with a live progress line, samples now and then, and
// leaves a checkpoint behind: every few minutes while it trains (--save-every), at the end, when stopped
// by Ctrl+C, SIGTERM or a closed terminal, and (the last good state) when the loss turns non-finite.
// Everything that could make the save fail or go somewhere wrong (--out, the folder, the disk, the memory
// the model needs) is checked before the first update.
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { totalmem } from 'node:os';
import { extname } from 'node:path';
import {
  CELL_KINDS,
  DEFAULT_MODEL,
  DEFAULT_TRAIN,
  MAX_THREADS,
  OPTIMIZER_KINDS,
  SCHEDULE_KINDS,
  validateTrainConfig,
  type ModelConfig,
  type TokenizerKind,
} from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { MemoryError } from '../engine/memory.js';
import { parameterCount } from '../engine/parameters.js';
import { Trainer } from '../engine/trainer.js';
import { DIVERGENCE_MARGIN_BITS } from '../engine/validation.js';
import { readCheckpointFile } from '../engine/checkpoint.js';
import { generate } from '../engine/sampling.js';
import { choiceOption, intOption, numberOption, parse, stringOption } from './args.js';
import { readTextFile } from './files.js';
import { formatCount, formatDuration, formatKernels, formatRate } from './format.js';
import { Progress } from './progress.js';
import { RunSaves } from './runSaves.js';
import { refuseSettingsBesideResume, RUN_OPTIONS, runLength, threadsOption } from './runOptions.js';
import { StopSignals } from './stopSignals.js';

export const TRAIN_USAGE = `usage: recurrent train FILE [options]

model
  --cell rnn|lstm|gru       recurrent cell (default ${DEFAULT_MODEL.cell})
  --hidden N                hidden units per layer (default ${DEFAULT_MODEL.hidden})
  --layers N                stacked layers, 1-4 (default ${DEFAULT_MODEL.layers})
  --embedding N             embedding size; 0 = one-hot input (default 0)
  --tokenizer char|word     tokens are characters or words (default char)
  --max-vocab N             word tokenizer: vocabulary cap (default 10000)
training
  --seq T                   window length: sets k1 = k2 = T (default ${DEFAULT_TRAIN.k1})
  --k1 N --k2 N             truncated BPTT: update every k1 tokens, backpropagate k2 steps
  --batch B                 parallel streams over the text (default ${DEFAULT_TRAIN.batch})
  --optimizer NAME          ${OPTIMIZER_KINDS.join('|')} (default ${DEFAULT_TRAIN.optimizer})
  --lr X                    learning rate (default ${DEFAULT_TRAIN.lr})
  --schedule NAME           ${SCHEDULE_KINDS.join('|')} (default constant); --warmup N updates
  --clip X                  clip the global gradient norm to X; 0 = off (default ${DEFAULT_TRAIN.clipNorm})
  --clip-value X            clip each gradient element to [-X, X]; 0 = off (default 0)
  --val-share X             share of the text held out for validation (default ${DEFAULT_TRAIN.valShare})
  --eval-every N            validate a fixed sample every N updates, spaced so validation takes
                            about a tenth of the time; 0 = only at the end (default ${DEFAULT_TRAIN.evalEvery})
  --reset-every N           restart each stream from a zero state every N tokens; 0 = never
                            (default ${DEFAULT_TRAIN.resetEvery})
  --steps N | --time D      stop after N updates or D (30, 90s, 5m, 1h); default: until Ctrl+C
  --sample-every D          print a sample every D (default 20s; 0 = never)
  --seed N                  random seed (default ${DEFAULT_TRAIN.seed})
  --threads N|auto          threads sharing each update, 1-${MAX_THREADS}; auto = min(4, cores, batch) (default auto)
  --resume CHECKPOINT       continue a run exactly where it stopped (with --threads of this machine)
  --out CHECKPOINT          where to save (default: FILE's name with .safetensors, here)
  --save-every D            save to --out every D while training (default 2m; 0 = only at the end)
  --force                   replace --out even if it is a file other than a checkpoint
  --metrics FILE            append each update's metrics and each validation to FILE, one JSON
                            object a line (what train.py of recurrent export writes to metrics.jsonl)`;

const OPTIONS = {
  cell: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  embedding: { type: 'string' },
  tokenizer: { type: 'string' },
  'max-vocab': { type: 'string' },
  seq: { type: 'string' },
  k1: { type: 'string' },
  k2: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  clip: { type: 'string' },
  'clip-value': { type: 'string' },
  'val-share': { type: 'string' },
  'eval-every': { type: 'string' },
  'reset-every': { type: 'string' },
  metrics: { type: 'string' },
  ...RUN_OPTIONS,
} as const;

/** Exit status of a run that finished but diverged (see Trainer.diverged). */
export const EXIT_DIVERGED = 3;

/** The command line's names for the settings a run too large for memory should lower. */
const MEMORY_NAMES = { batch: '--batch', window: '--seq', hidden: '--hidden', vocabulary: 'the vocabulary (--max-vocab)' };

/** Memory the machine gives this process: its RAM, or less under a cgroup limit (a container). */
function machineMemory(): number {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return limit ? Math.min(limit, totalmem()) : totalmem();
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...OPTIONS }, ['file']);
  const file = positionals[0]!;

  const { maxSteps, maxMs, sampleEveryMs, saveEveryMs, out } = await runLength(values, file, 'the training text');
  const threads = threadsOption(values, 'auto');
  const text = await readTextFile(file);

  let trainer: Trainer;
  const resume = stringOption(values, 'resume');
  try {
    if (resume) {
      refuseSettingsBesideResume(values, OPTIONS, ['metrics']);
      const checkpoint = await readCheckpointFile(resume);
      if (checkpoint.config.task !== 'lm') {
        throw new RecurrentError(`${resume} holds a ${checkpoint.config.task} model: continue it with --task ${checkpoint.config.task}`);
      }
      // Threads belong to this machine, not to the run: the count recorded in the checkpoint is not reused.
      trainer = within(file, () => Trainer.resume(text, checkpoint, { threads, memoryBytes: machineMemory() }));
    } else {
      const seq = intOption(values, 'seq', 1, 100000);
      const k1 = intOption(values, 'k1', 1, 100000) ?? seq ?? DEFAULT_TRAIN.k1;
      const k2 = intOption(values, 'k2', 1, 100000) ?? Math.max(k1, seq ?? DEFAULT_TRAIN.k2);
      const train = validateTrainConfig({
        k1,
        k2,
        batch: intOption(values, 'batch', 1, 4096),
        optimizer: choiceOption(values, 'optimizer', OPTIMIZER_KINDS),
        lr: numberOption(values, 'lr', 0, 100),
        schedule: choiceOption(values, 'schedule', SCHEDULE_KINDS),
        warmupSteps: intOption(values, 'warmup', 0, 1e9),
        totalSteps: maxSteps || undefined,
        clipNorm: numberOption(values, 'clip', 0, 1e9),
        clipValue: numberOption(values, 'clip-value', 0, 1e9),
        valShare: numberOption(values, 'val-share', 0, 0.5),
        evalEvery: intOption(values, 'eval-every', 0, 1e9),
        resetEvery: intOption(values, 'reset-every', 0, 1e12),
        seed: intOption(values, 'seed', 0, 0xffffffff),
        threads,
      });
      const model: Omit<ModelConfig, 'vocabSize'> = {
        ...DEFAULT_MODEL,
        cell: choiceOption(values, 'cell', CELL_KINDS) ?? DEFAULT_MODEL.cell,
        hidden: intOption(values, 'hidden', 1, 4096) ?? DEFAULT_MODEL.hidden,
        layers: intOption(values, 'layers', 1, 4) ?? DEFAULT_MODEL.layers,
        embedding: intOption(values, 'embedding', 0, 4096) ?? DEFAULT_MODEL.embedding,
      };
      const tokenizer: TokenizerKind = choiceOption(values, 'tokenizer', ['char', 'word'] as const) ?? 'char';
      const maxVocab = intOption(values, 'max-vocab', 2, 1 << 20) ?? 10000;
      trainer = Trainer.create(text, model, train, tokenizer, { maxVocab, memoryBytes: machineMemory() });
    }
  } catch (e) {
    throw e instanceof MemoryError ? new RecurrentError(e.withNames(MEMORY_NAMES)) : e;
  }

  const metricsPath = stringOption(values, 'metrics');
  const metrics = metricsPath === undefined ? null : createWriteStream(metricsPath, { flags: 'a' });
  try {
    return await runTraining(trainer, { file, text, out, maxSteps, maxMs, sampleEveryMs, saveEveryMs, resume, metrics });
  } finally {
    // The trainer's worker threads would keep the process alive after the last line is printed.
    trainer.close();
    if (metrics) await new Promise((resolve) => metrics.end(resolve));
  }
}

/** Names the text in an error about it (a character the resumed model's vocabulary lacks). */
function within<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RecurrentError && !(e instanceof MemoryError)) throw new RecurrentError(`${file}: ${e.message}`);
    throw e;
  }
}

interface RunOptions {
  file: string;
  text: string;
  out: string;
  maxSteps: number;
  maxMs: number;
  sampleEveryMs: number;
  saveEveryMs: number;
  resume: string | undefined;
  /** Where each update's metrics and each validation go, a JSON object a line; null for nowhere. */
  metrics: WriteStream | null;
}

async function runTraining(
  trainer: Trainer,
  { file, text, out, maxSteps, maxMs, sampleEveryMs, saveEveryMs, resume, metrics }: RunOptions,
): Promise<number> {
  const err = process.stderr;
  const record = (type: 'start' | 'metrics' | 'validation', fields: object): void => {
    metrics?.write(JSON.stringify({ type, ...fields }) + '\n');
  };
  record('start', { update: trainer.updates, by: 'recurrent-studio', threads: trainer.threads });
  const progress = new Progress(err);
  const saves = new RunSaves(out, saveEveryMs, (line) => progress.print(line));
  // The folder, its permissions and the disk's room for a checkpoint of this very run.
  await saves.prepare(trainer);
  const mc = trainer.modelConfig;
  const tc = trainer.train;
  const unit = trainer.tokenizer.kind === 'char' ? 'char' : 'token';
  err.write(`${file}: ${formatCount(text.length)} characters, vocabulary ${trainer.tokenizer.size} ${trainer.tokenizer.kind} tokens\n`);
  err.write(
    `model: ${mc.cell} hidden ${mc.hidden} x ${mc.layers} layer(s), ${mc.embedding ? `embedding ${mc.embedding}` : 'one-hot input'}, ${formatCount(parameterCount(mc))} parameters\n`,
  );
  err.write(
    `training: batch ${tc.batch}, k1 ${tc.k1}, k2 ${tc.k2}, ${tc.optimizer} lr ${tc.lr}, clip ${tc.clipNorm ? `norm ${tc.clipNorm}` : tc.clipValue ? `value ${tc.clipValue}` : 'off'}, seed ${tc.seed}, ${trainer.threads} thread${trainer.threads === 1 ? '' : 's'}, ${formatKernels(trainer.model.arena.wasmHeap?.kernels.set)}${trainer.updates ? `, resumed at update ${trainer.updates}` : ''}\n`,
  );
  if (trainer.continuation === 'other text') {
    err.write(
      `note: ${file} is not the text ${resume} was trained on: its weights, optimizer state and update count carry on, ` +
        `but the streams start again at the beginning of this text from a zero state, so this is not an exact continuation of that run\n`,
    );
  } else if (trainer.continuation === 'weights only') {
    err.write(`note: ${resume} holds no training state: a new run starts from its weights, with the default training settings\n`);
  }
  err.write(`unigram entropy ${trainer.unigramBits().toFixed(3)} bits/${unit} (a model that learned nothing)\n`);

  const validating = trainer.validationTokens >= 2;
  const first = trainer.validate('sample');
  if (validating) record('validation', first);
  if (validating) err.write(`validation before training: ${first.bitsPerToken.toFixed(3)} bits/${unit}\n`);
  err.write(
    maxSteps ? `training for ${formatCount(maxSteps)} updates` : maxMs ? `training for ${formatDuration(maxMs)}` : 'training until Ctrl+C',
  );
  err.write(`; checkpoint: ${out}${saveEveryMs ? `, saved every ${formatDuration(saveEveryMs)}` : ''}\n`);

  // Kept until the command ends: a second signal during the last save still ends it at once.
  const stop = new StopSignals((signal) => progress.print(`${signal}: stopping after this update and saving ${out}`));
  try {
    const start = Date.now();
    const startUpdates = trainer.updates;
    let lastVal = first;
    let divergedAt = 0;
    let lastSample = Date.now();
    let lastYield = Date.now();
    let tokens = 0;
    let lossNats = NaN;
    let failure: string | null = null;

    try {
      for (;;) {
        const done = trainer.updates - startUpdates;
        const elapsed = Date.now() - start;
        if (stop.signal || (maxSteps && done >= maxSteps) || (maxMs && elapsed >= maxMs)) break;
        const m = trainer.step();
        if (!Number.isFinite(m.lossNats)) {
          failure = `loss became ${m.lossNats} at update ${m.step}; training stopped there (lower --lr, or turn on --clip)`;
          break;
        }
        lossNats = m.lossNats;
        tokens += tc.batch * tc.k1;
        record('metrics', m);
        if (trainer.validationDue()) {
          lastVal = trainer.validate('sample');
          record('validation', lastVal);
          if (trainer.diverged(lastVal)) divergedAt ||= trainer.updates;
          else divergedAt = 0;
        }
        const rate = (tokens / Math.max(1, Date.now() - start)) * 1000;
        const left = maxSteps
          ? ((maxSteps - done - 1) / Math.max(1, done + 1)) * (Date.now() - start)
          : maxMs
            ? maxMs - (Date.now() - start)
            : NaN;
        progress.update(
          `update ${formatCount(m.step)}  loss ${m.lossNats.toFixed(4)}  ${m.bitsPerToken.toFixed(3)} bits/${unit}  ` +
            (validating ? `val ${lastVal.bitsPerToken.toFixed(3)}${divergedAt ? ' DIVERGED' : ''}  ` : '') +
            `${formatRate(rate)} ${unit}s/s  ${m.clipped ? 'clipped  ' : ''}elapsed ${formatDuration(Date.now() - start)}${Number.isFinite(left) ? `  left ${formatDuration(left)}` : ''}`,
        );
        // A diverged run keeps the last autosave from before it diverged, as its last save does.
        if (saves.due() && !divergedAt) await saves.autosave(trainer);
        if (sampleEveryMs && Date.now() - lastSample >= sampleEveryMs) {
          lastSample = Date.now();
          const sample = await generate(trainer.stepper(), trainer.tokenizer, {
            prime: '',
            length: 200,
            temperature: 0.8,
            topK: 0,
            topP: 1,
            greedy: false,
            seed: tc.seed + trainer.updates,
          });
          progress.print(`--- sample at update ${trainer.updates} (temperature 0.8) ---\n${sample}\n---`);
        }
        if (Date.now() - lastYield > 50) {
          // Let signals and stdout flushes through without slowing the loop.
          lastYield = Date.now();
          await new Promise((r) => setImmediate(r));
        }
      }
    } finally {
      progress.clear();
    }

    const elapsed = Date.now() - start;
    const autosaved = saves.kept();
    // Only a state worth keeping replaces what is at --out.
    const unkeepable = saves.unkeepable(trainer, failure);
    if (unkeepable) {
      err.write(unkeepable);
      return 1;
    }
    if (failure) {
      await saves.final(out, trainer);
      err.write(`recurrent: ${failure}\n`);
      err.write(`kept the last good state (update ${trainer.updates}) in ${out}\n`);
      return 1;
    }
    if (trainer.updates === startUpdates) {
      // Stopped before the first update: nothing new to save, and a fresh model must not replace a checkpoint.
      err.write(`${stop.signal ?? 'stopped'} before the first update: nothing to save${existsSync(out) ? `, ${out} is as it was` : ''}\n`);
      return stop.signal ? stop.exitStatus : 0;
    }
    const final = trainer.validate('full');
    if (validating) record('validation', final);
    const diverged = validating && trainer.diverged(final);
    // A diverged run does not replace a checkpoint that is already there: it goes beside it.
    const target = diverged && existsSync(out) ? divergedName(out) : out;
    await saves.final(target, trainer);
    const rate = (tokens / Math.max(1, elapsed)) * 1000;
    err.write(
      `${stop.signal ? `stopped by ${stop.signal}` : 'done'}: ${formatCount(trainer.updates - startUpdates)} updates in ${formatDuration(elapsed)}, ${formatRate(rate)} ${unit}s/s\n`,
    );
    const trained = `training loss ${Number.isFinite(lossNats) ? (lossNats / Math.LN2).toFixed(3) : '--'} bits/${unit}`;
    err.write(
      validating
        ? `${trained}; validation ${first.bitsPerToken.toFixed(3)} -> ${final.bitsPerToken.toFixed(3)} bits/${unit} (all ${formatCount(final.tokens)} held-out tokens)\n`
        : `${trained}; no validation (--val-share 0)\n`,
    );
    if (diverged) {
      const left = autosaved ? `${autosaved}, from before it diverged` : `${out} was left as it was`;
      err.write(
        `recurrent: the run diverged: held-out loss ${final.bitsPerToken.toFixed(3)} bits/${unit} is worse than the unigram entropy ` +
          `${trainer.unigramBits().toFixed(3)} by more than ${DIVERGENCE_MARGIN_BITS} bit and worse than where it started; ` +
          `lower --lr, or clip (--clip)${target !== out ? `; ${left}` : ''}\n`,
      );
    }
    err.write(`saved ${target}\n`);
    return stop.signal ? stop.exitStatus : diverged ? EXIT_DIVERGED : 0;
  } finally {
    stop.dispose();
  }
}

/** Where a diverged run is saved when --out holds a checkpoint already: run.safetensors -> run.diverged.safetensors. */
export function divergedName(out: string): string {
  const ext = extname(out);
  return `${ext ? out.slice(0, -ext.length) : out}.diverged${ext || '.safetensors'}`;
}
