// The real engine behind the worker's EngineLike (engineApi.ts): a start command's model task picks the
// trainer (the language model's Trainer, or a task's TaskTrainer), each behind its RunTrainer.
import { readCheckpointFile, writeCheckpointFile } from '../engine/checkpoint.js';
import { TaskTrainer, type ExampleTask } from '../engine/taskTrainer.js';
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
        Trainer.create(cmd.text, m, cmd.train, cmd.tokenizer, cmd.maxVocab ? { maxVocab: cmd.maxVocab } : {}),
        cmd.text,
      );
    const trainer = TaskTrainer.create(cmd.text, source(cmd), {
      task: m.task as ExampleTask,
      model: {
        cell: m.cell,
        hidden: m.hidden,
        layers: m.layers,
        embedding: m.embedding,
        bidirectional: m.bidirectional,
        pooling: m.pooling,
        maxLength: m.maxLength,
      },
      train: cmd.train,
      tokenizer: cmd.tokenizer,
      ...(cmd.maxVocab ? { maxVocab: cmd.maxVocab } : {}),
    });
    return new TaskRunTrainer(trainer, cmd.text);
  },
  resume: (cmd, checkpoint) => {
    const threads = { threads: cmd.train.threads };
    if (checkpoint.config.task === 'lm') return new LmRunTrainer(Trainer.resume(cmd.text, checkpoint, threads), cmd.text);
    return new TaskRunTrainer(TaskTrainer.resume(cmd.text, source(cmd), checkpoint, threads), cmd.text);
  },
  readCheckpoint: (path) => readCheckpointFile(path),
  writeCheckpoint: (path, c) => writeCheckpointFile(path, c),
};
