// The real engine behind the worker's EngineLike (engineApi.ts): a start command's model task picks the
// trainer (the language model's Trainer, or a task's TaskTrainer), each behind its RunTrainer.
import { mkdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname } from 'node:path';
import { readCheckpointFile, writeCheckpointFile } from '../engine/checkpoint.js';
import { RecurrentError } from '../engine/errors.js';
import { MemoryError } from '../engine/memory.js';
import { TaskTrainer, taskModelOptions, type ExampleTask } from '../engine/taskTrainer.js';
import { Trainer } from '../engine/trainer.js';
import type { StartCommand } from '../protocol/messages.js';
import type { EngineLike } from './engineApi.js';
import { LmRunTrainer } from './lmRunTrainer.js';
import { TaskRunTrainer } from './taskRunTrainer.js';

/** The file's name in messages about its lines. */
const source = (cmd: StartCommand): string => cmd.source ?? 'the file';

export const engine: EngineLike = {
  create: (cmd) => {
    const m = cmd.model;
    if (m.task === 'lm')
      return new LmRunTrainer(
        settingNames(() =>
          Trainer.create(cmd.text, m, cmd.train, cmd.tokenizer, {
            ...(cmd.maxVocab ? { maxVocab: cmd.maxVocab } : {}),
            memoryBytes: totalmem(),
          }),
        ),
        cmd.text,
      );
    const trainer = TaskTrainer.create(cmd.text, source(cmd), {
      task: m.task as ExampleTask,
      model: taskModelOptions(m),
      train: cmd.train,
      tokenizer: cmd.tokenizer,
      ...(cmd.maxVocab ? { maxVocab: cmd.maxVocab } : {}),
    });
    return new TaskRunTrainer(trainer, cmd.text);
  },
  resume: (cmd, checkpoint) => {
    const threads = { threads: cmd.train.threads };
    if (checkpoint.config.task === 'lm')
      return new LmRunTrainer(
        settingNames(() => Trainer.resume(cmd.text, checkpoint, { ...threads, memoryBytes: totalmem() })),
        cmd.text,
      );
    return new TaskRunTrainer(TaskTrainer.resume(cmd.text, source(cmd), checkpoint, threads), cmd.text);
  },
  readCheckpoint: (path) => readCheckpointFile(path),
  writeCheckpoint: async (path, c, ownFolder) => {
    if (ownFolder) await mkdir(dirname(path), { recursive: true });
    await writeCheckpointFile(path, c);
  },
};

/** A language model too large for memory names the settings to lower as the user finds them. */
function settingNames<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof MemoryError)) throw e;
    throw new RecurrentError(
      e.withNames({
        batch: 'recurrent.training.batchSize',
        window: 'recurrent.training.sequenceLength (or k2)',
        hidden: 'recurrent.model.hiddenSize',
        vocabulary: 'the vocabulary (recurrent.model.maxVocabulary)',
      }),
    );
  }
}
