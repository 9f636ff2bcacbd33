// `recurrent train FILE.tsv --task classify|generate|translate`: trains on a task file (input<TAB>output per
// line) with a live progress line, the held-out examples scored every --eval-every updates, and a
// checkpoint left behind as the language model's run leaves one (runSaves.ts, stopSignals.ts): every few
// minutes, at the end, on Ctrl+C, SIGTERM or a closed terminal, and (the last good state) when the loss
// turns non-finite; --out is checked before the first update (files.ts).
import { CELL_KINDS, MAX_THREADS, OPTIMIZER_KINDS, POOLINGS, SCHEDULE_KINDS, type TokenizerKind } from '../engine/config.js';
import { readCheckpointFile } from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';
import {
  defaultTaskThreads,
  EXAMPLE_TASKS,
  TASK_DEFAULTS,
  TaskTrainer,
  VALIDATION_SAMPLE,
  type ExampleTask,
} from '../engine/taskTrainer.js';
import type { TaskEvaluation } from '../engine/taskEval.js';
import { choiceOption, intOption, numberOption, parse, stringOption } from './args.js';
import { readTextFile } from './files.js';
import { formatCount, formatDuration, formatKernels, formatRate } from './format.js';
import { Progress } from './progress.js';
import { RunSaves } from './runSaves.js';
import { refuseSettingsBesideResume, RUN_OPTIONS, runLength, threadsOption } from './runOptions.js';
import { StopSignals } from './stopSignals.js';

const C = TASK_DEFAULTS.classify;
const G = TASK_DEFAULTS.generate;
const T = TASK_DEFAULTS.translate;
const TOKENIZER_KINDS = ['char', 'word', 'symbol'] as const;

export const TASK_TRAIN_USAGE = `usage: recurrent train FILE.tsv --task classify|generate|translate [options]

FILE.tsv holds one example per line, input<TAB>output. classify learns the output (a label) of each
input text; generate learns to write the input text for each output (label), ending with an end token;
translate learns to write the output for each input (source<TAB>target, each side its own vocabulary).

model
  --cell rnn|lstm|gru       recurrent cell (classify, generate ${C.model.cell}; translate ${T.model.cell})
  --hidden N                hidden units per layer (classify ${C.model.hidden}, generate ${G.model.hidden}, translate
                            ${T.model.hidden}: the encoder's; its decoder has this times the encoder's directions)
  --layers N                stacked layers, 1-4 (default 1; translate: the encoder's and the decoder's)
  --embedding N             embedding size; 0 = one-hot input (default 0)
  --bidirectional           classify, translate: read each text in both directions
  --pooling last|mean       classify: the final states, or the mean of the outputs (default last)
  --max-length N            cut texts to N tokens; 0 = no limit (classify, generate ${C.model.maxLength}; translate ${T.model.maxLength})
  --max-output N            translate: write at most N tokens, the end token included (default: twice the
                            longest training target)
  --tokenizer char|word|symbol
                            tokens are characters, words, or the symbols between spaces (default char;
                            translate: symbol when most of the side's lines have a space, else char)
  --target-tokenizer char|word|symbol
                            translate: the same for the targets
training
  --batch B                 examples per update (classify, generate ${C.train.batch}; translate ${T.train.batch})
  --optimizer NAME          ${OPTIMIZER_KINDS.join('|')} (default ${C.train.optimizer})
  --lr X                    learning rate (classify ${C.train.lr}, generate ${G.train.lr}, translate ${T.train.lr})
  --schedule NAME           ${SCHEDULE_KINDS.join('|')} (classify, generate constant; translate ${T.train.schedule}, over
                            --time or --steps, else 10,000 updates); --warmup N updates
  --clip X                  clip the global gradient norm to X; 0 = off (default ${C.train.clipNorm})
  --weight-decay X          (default 0)
  --val-share X             share of the lines held out, a seeded random sample (default ${C.train.valShare})
  --val-max N               hold out at most N lines; 0 = no limit (classify, generate 0; translate ${T.train.valMax})
  --eval-every N            score the held-out lines every N updates (classify, generate ${C.train.evalEvery};
                            translate ${T.train.evalEvery}, translating ${VALIDATION_SAMPLE} of them, all at the end)
  --steps N | --time D      stop after N updates or D (30, 90s, 5m, 1h); default: until Ctrl+C
  --sample-every D          generate: print a text per label every D (default 20s; 0 = never)
  --seed N                  random seed of the split, initialisation and batches (default 1)
  --threads N|auto          threads sharing each update's examples, 1-${MAX_THREADS}; auto = min(4, cores) (default
                            translate auto; classify, generate 1: an update on a few dozen names is small, so
                            threads pay only on an idle machine)
  --resume CHECKPOINT       continue a run on the same file
  --out CHECKPOINT          where to save (default: FILE's name with .safetensors, here)
  --save-every D            save to --out every D while training (default 2m; 0 = only at the end)
  --force                   replace --out even if it is a file other than a checkpoint`;

const OPTIONS = {
  task: { type: 'string' },
  cell: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  embedding: { type: 'string' },
  bidirectional: { type: 'boolean' },
  pooling: { type: 'string' },
  'max-length': { type: 'string' },
  'max-output': { type: 'string' },
  tokenizer: { type: 'string' },
  'target-tokenizer': { type: 'string' },
  'max-vocab': { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  clip: { type: 'string' },
  'weight-decay': { type: 'string' },
  'val-share': { type: 'string' },
  'val-max': { type: 'string' },
  'eval-every': { type: 'string' },
  ...RUN_OPTIONS,
} as const;

/** Whether a `train` command line asks for a task other than the language model. */
export function isTaskTraining(argv: readonly string[]): boolean {
  const i = argv.findIndex((a) => a === '--task' || a.startsWith('--task='));
  if (i < 0) return false;
  const value = argv[i]!.includes('=') ? argv[i]!.slice('--task='.length) : argv[i + 1];
  return value !== 'lm';
}

export async function taskTrainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...OPTIONS }, ['file']);
  const file = positionals[0]!;
  const task = choiceOption(values, 'task', EXAMPLE_TASKS) as ExampleTask;
  const { maxSteps, maxMs, sampleEveryMs, saveEveryMs, out } = await runLength(values, file, 'the training file');
  const text = await readTextFile(file);
  const threads = threadsOption(values, defaultTaskThreads(task));

  let trainer: TaskTrainer;
  const resume = stringOption(values, 'resume');
  if (resume) {
    refuseSettingsBesideResume(values, OPTIONS, ['task']);
    const ck = await readCheckpointFile(resume);
    if (ck.config.task !== task) throw new RecurrentError(`${resume} holds a ${ck.config.task} model, not ${task}`);
    trainer = TaskTrainer.resume(text, file, ck, { threads });
  } else {
    if (task === 'generate' && values.bidirectional) {
      throw new RecurrentError('--bidirectional reads the whole text at once, so it cannot write one; use it with --task classify');
    }
    if (task !== 'classify' && values.pooling !== undefined) throw new RecurrentError('--pooling is an option of --task classify');
    for (const o of ['max-output', 'target-tokenizer'])
      if (task !== 'translate' && values[o] !== undefined) throw new RecurrentError(`--${o} is an option of --task translate`);
    trainer = TaskTrainer.create(text, file, {
      task,
      model: {
        cell: choiceOption(values, 'cell', CELL_KINDS),
        hidden: intOption(values, 'hidden', 1, 4096),
        layers: intOption(values, 'layers', 1, 4),
        embedding: intOption(values, 'embedding', 0, 4096),
        bidirectional: values.bidirectional === true ? true : undefined,
        pooling: choiceOption(values, 'pooling', POOLINGS),
        maxLength: intOption(values, 'max-length', 0, 1_000_000),
        maxOutput: intOption(values, 'max-output', 1, 1_000_000),
      },
      train: {
        batch: intOption(values, 'batch', 1, 4096),
        optimizer: choiceOption(values, 'optimizer', OPTIMIZER_KINDS),
        lr: numberOption(values, 'lr', 0, 100),
        schedule: choiceOption(values, 'schedule', SCHEDULE_KINDS),
        warmupSteps: intOption(values, 'warmup', 0, 1e9),
        totalSteps: maxSteps || undefined,
        clipNorm: numberOption(values, 'clip', 0, 1e9),
        weightDecay: numberOption(values, 'weight-decay', 0, 10),
        valShare: numberOption(values, 'val-share', 0, 0.5),
        valMax: intOption(values, 'val-max', 0, 1e9),
        evalEvery: intOption(values, 'eval-every', 0, 1e9),
        seed: intOption(values, 'seed', 0, 0xffffffff),
        threads,
      },
      tokenizer: choiceOption(values, 'tokenizer', task === 'translate' ? TOKENIZER_KINDS : (['char', 'word'] as const)) as
        TokenizerKind | undefined,
      targetTokenizer: choiceOption(values, 'target-tokenizer', TOKENIZER_KINDS) as TokenizerKind | undefined,
      maxVocab: intOption(values, 'max-vocab', 3, 1 << 20),
    });
  }
  try {
    return await run(trainer, { file, out, maxSteps, maxMs, sampleEveryMs, saveEveryMs });
  } finally {
    trainer.close();
  }
}

/** One line for the held-out score: accuracy and loss (classify), bits per character (generate), error rates (translate). */
export function describeEvaluation(e: TaskEvaluation, unit: string): string {
  if (e.examples === 0) return 'no held-out examples';
  if (e.task === 'translate')
    return `word error ${e.wordErrorRate.toFixed(3)}, token error ${e.tokenErrorRate.toFixed(3)}, ${e.bitsPerToken.toFixed(3)} bits/token`;
  return e.task === 'classify'
    ? `accuracy ${e.accuracy.toFixed(3)}, loss ${e.loss.toFixed(3)} nats`
    : `${e.bitsPerToken.toFixed(3)} bits/${unit}`;
}

async function run(
  trainer: TaskTrainer,
  o: { file: string; out: string; maxSteps: number; maxMs: number; sampleEveryMs: number; saveEveryMs: number },
): Promise<number> {
  const err = process.stderr;
  const progress = new Progress(err);
  const saves = new RunSaves(o.out, o.saveEveryMs, (line) => progress.print(line));
  await saves.prepare(trainer);
  const mc = trainer.modelConfig;
  const tc = trainer.train;
  const unit = trainer.task !== 'translate' && trainer.tokenizer.kind === 'char' ? 'char' : 'token';
  const { trainSet, heldOut } = trainer;
  const tt = trainer.targetTokenizer;
  err.write(
    `${o.file}: ${formatCount(trainSet.ids.length + heldOut.ids.length)} examples, ${formatCount(heldOut.ids.length)} held out; ${
      tt !== null
        ? `sources ${trainer.tokenizer.size} ${trainer.tokenizer.kind} tokens, targets ${tt.size} ${tt.kind} tokens (the end token included)`
        : `${trainer.labels.length} labels; vocabulary ${trainer.tokenizer.size} ${trainer.tokenizer.kind} tokens`
    }\n`,
  );
  if (trainer.tokenizer.kind === 'word' && trainSet.unknown + heldOut.unknown > 0) {
    err.write(
      `${formatCount(trainSet.unknown + heldOut.unknown)} words past the vocabulary of ${trainer.tokenizer.size} are read as ${JSON.stringify(trainer.tokenizer.vocab[trainer.tokenizer.unknownId])}\n`,
    );
  } else if (heldOut.unknown > 0) {
    const first = heldOut.unknownAt[0]!;
    err.write(
      `held-out lines have ${heldOut.unknown} ${tt !== null ? 'token' : 'character'}(s) the training lines do not (first ${JSON.stringify(first.token)} on line ${first.line}): left out and counted\n`,
    );
  }
  const cut = trainSet.truncated + heldOut.truncated;
  if (cut > 0) err.write(`${cut} text(s) longer than ${mc.maxLength} tokens are cut there (--max-length)\n`);
  const decoder =
    mc.task === 'translate'
      ? `; decoder ${mc.cell} hidden ${mc.hidden * (mc.bidirectional ? 2 : 1)} x ${mc.layers} layer(s) from the encoder's final states, at most ${mc.maxOutput} tokens out`
      : '';
  err.write(
    `model: ${mc.task}, ${mc.task === 'translate' ? 'encoder ' : ''}${mc.bidirectional ? 'bidirectional ' : ''}${mc.cell} hidden ${mc.hidden} x ${mc.layers} layer(s), ${mc.embedding ? `embedding ${mc.embedding}` : 'one-hot input'}${mc.task === 'classify' ? `, ${mc.pooling} pooling` : ''}${decoder}, ${formatCount(trainer.model.parameterCount)} parameters\n`,
  );
  err.write(
    `training: batch ${tc.batch}, ${tc.optimizer} lr ${tc.lr}${tc.schedule === 'constant' ? '' : ` (${tc.schedule} schedule)`}, clip ${tc.clipNorm ? `norm ${tc.clipNorm}` : 'off'}, seed ${tc.seed}, ${trainer.threads} thread${trainer.threads === 1 ? '' : 's'}, ${formatKernels(trainer.model.arena.wasmHeap?.kernels.set)}${trainer.updates ? `, resumed at update ${trainer.updates}` : ''}\n`,
  );
  const base = trainer.baseline();
  err.write(
    trainer.task === 'classify'
      ? `always the most frequent label: accuracy ${base.accuracy.toFixed(3)}, loss ${base.lossNats.toFixed(3)} nats (a model that learned nothing)\n`
      : `unigram entropy ${(base.lossNats / Math.LN2).toFixed(3)} bits/${unit} (a model that learned nothing)\n`,
  );
  err.write(
    (o.maxSteps
      ? `training for ${formatCount(o.maxSteps)} updates`
      : o.maxMs
        ? `training for ${formatDuration(o.maxMs)}`
        : 'training until Ctrl+C') + `; checkpoint: ${o.out}${o.saveEveryMs ? `, saved every ${formatDuration(o.saveEveryMs)}` : ''}\n`,
  );

  const stop = new StopSignals((signal) => progress.print(`${signal}: stopping after this update and saving ${o.out}`));
  try {
    return await loop(trainer, o, progress, saves, stop, unit);
  } finally {
    stop.dispose();
  }
}

async function loop(
  trainer: TaskTrainer,
  o: { out: string; maxSteps: number; maxMs: number; sampleEveryMs: number },
  progress: Progress,
  saves: RunSaves,
  stop: StopSignals,
  unit: string,
): Promise<number> {
  const err = process.stderr;
  const tc = trainer.train;
  const { heldOut } = trainer;
  if (o.maxMs && !o.maxSteps) trainer.scheduleOverTime(o.maxMs);
  const start = Date.now();
  const startUpdates = trainer.updates;
  let lastVal = '';
  let lastSample = Date.now();
  let lastYield = Date.now();
  let failure: string | null = null;
  let lastLoss = NaN;
  let accSum = 0;
  let accCount = 0;
  try {
    for (;;) {
      const done = trainer.updates - startUpdates;
      if (stop.signal || (o.maxSteps && done >= o.maxSteps) || (o.maxMs && Date.now() - start >= o.maxMs)) break;
      const m = trainer.step();
      if (!Number.isFinite(m.lossNats)) {
        failure = `loss became ${m.lossNats} at update ${m.step}; training stopped there (lower --lr, or turn on --clip)`;
        break;
      }
      lastLoss = m.lossNats;
      if (trainer.task === 'classify') {
        accSum += m.accuracy;
        accCount++;
      }
      if (tc.evalEvery && trainer.updates % tc.evalEvery === 0 && heldOut.ids.length > 0)
        lastVal = describeEvaluation(trainer.validate(true), unit);
      const trainPart =
        trainer.task === 'classify'
          ? `loss ${m.lossNats.toFixed(4)}  accuracy ${(accSum / Math.max(1, accCount)).toFixed(3)}`
          : `${m.bitsPerToken.toFixed(3)} bits/${unit}`;
      progress.update(
        `update ${formatCount(m.step)}  epoch ${m.epoch}  ${trainPart}  held out: ${lastVal || '--'}  ${formatRate(m.examplesPerSecond)} examples/s  elapsed ${formatDuration(Date.now() - start)}`,
      );
      if (trainer.updates % 100 === 0) accSum = accCount = 0;
      if (saves.due()) await saves.autosave(trainer);
      if (trainer.task === 'generate' && o.sampleEveryMs && Date.now() - lastSample >= o.sampleEveryMs) {
        lastSample = Date.now();
        const lines: string[] = [];
        for (const label of trainer.labels.slice(0, 8)) {
          const s = await trainer
            .predictions()
            .generate(label, { temperature: 0.8, topK: 0, topP: 1, greedy: false, seed: tc.seed + trainer.updates });
          lines.push(`${label}: ${s}`);
        }
        progress.print(`--- samples at update ${trainer.updates} (temperature 0.8) ---\n${lines.join('\n')}\n---`);
      }
      if (Date.now() - lastYield > 50) {
        lastYield = Date.now();
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    progress.clear();
  }
  const elapsed = Date.now() - start;
  // Only a state worth keeping replaces what is at --out.
  const unkeepable = saves.unkeepable(trainer, failure);
  if (unkeepable) {
    err.write(unkeepable);
    return 1;
  }
  if (trainer.updates === startUpdates && !failure) {
    // Stopped before the first update: nothing new to save, and a fresh model must not replace a checkpoint.
    err.write(`${stop.signal ?? 'stopped'} before the first update: nothing to save\n`);
    return stop.exitStatus;
  }
  await saves.final(o.out, trainer);
  if (failure) {
    err.write(`recurrent: ${failure}\nkept the last good state (update ${trainer.updates}) in ${o.out}\n`);
    return 1;
  }
  err.write(
    `${stop.signal ? `stopped by ${stop.signal}` : 'done'}: ${formatCount(trainer.updates - startUpdates)} updates (epoch ${trainer.epoch}) in ${formatDuration(elapsed)}\n`,
  );
  if (trainer.task === 'translate') err.write(`translating the ${formatCount(heldOut.ids.length)} held-out lines (greedy)...\n`);
  const final = trainer.validate();
  err.write(
    `training loss ${Number.isFinite(lastLoss) ? (trainer.task === 'classify' ? `${lastLoss.toFixed(3)} nats` : `${(lastLoss / Math.LN2).toFixed(3)} bits/${unit}`) : '--'}; held out (${final.examples} examples): ${describeEvaluation(final, unit)}\n`,
  );
  err.write(`saved ${o.out}\n`);
  return stop.exitStatus;
}
