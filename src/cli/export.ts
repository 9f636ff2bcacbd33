// `recurrent export CHECKPOINT --pytorch DIR`: the folder that continues a run in PyTorch (export/pytorchProject.ts):
// the checkpoint (all of it: optimizer, carried state, training record, history), model.py, train.py and a README. Files already there are not replaced
// without --force: a model.safetensors there may hold training done since an earlier export.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCheckpointTarget, checkpointFileBytes, readCheckpointFile, writeCheckpointFile } from '../engine/checkpoint.js';
import { validateTrainConfig } from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { readTrainingRecord } from '../engine/trainingRecord.js';
import { PYTORCH_CHECKPOINT, PYTORCH_FILES, PYTORCH_TASKS, pytorchProject } from '../export/pytorchProject.js';
import { parse, stringOption } from './args.js';

export const EXPORT_USAGE = `usage: recurrent export CHECKPOINT --pytorch DIR [--text FILE] [--force]

  --pytorch DIR   write DIR/${PYTORCH_CHECKPOINT} (the checkpoint), model.py, train.py and README.md:
                  python DIR/train.py TEXT (or torchrun ... DIR/train.py TEXT) continues the run in PyTorch,
                  and recurrent train TEXT --resume DIR/${PYTORCH_CHECKPOINT} brings it back
  --text FILE     the text the run trains on, named in the README's commands
  --force         replace those files if DIR has them already`;

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { pytorch: { type: 'string' }, text: { type: 'string' }, force: { type: 'boolean' } }, [
    'checkpoint',
  ]);
  const source = positionals[0]!;
  const dir = stringOption(values, 'pytorch');
  if (dir === undefined) throw new RecurrentError('say where to export: --pytorch DIR');
  const ck = await readCheckpointFile(source);
  if (!PYTORCH_TASKS.includes(ck.config.task))
    throw new RecurrentError(
      `${source} is a ${ck.config.task} model: train.py continues ${PYTORCH_TASKS.join(', ')} runs so far; continuing a ${ck.config.task} run in PyTorch is still to come`,
    );
  const record = readTrainingRecord(ck);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new RecurrentError(`${dir} is a file, not a folder`);
  const names = [PYTORCH_CHECKPOINT, ...PYTORCH_FILES];
  const present = names.filter((n) => existsSync(join(dir, n)));
  if (present.length && !values.force)
    throw new RecurrentError(
      `${dir} already has ${present.join(', ')} (an earlier export, perhaps trained on since): choose another folder, or --force to replace them`,
    );
  const files = pytorchProject({
    config: ck.config,
    tokenizer: ck.tokenizer.kind,
    train: record ? validateTrainConfig(record.train ?? {}) : null,
    updates: typeof record?.updates === 'number' ? record.updates : 0,
    ...(typeof values.text === 'string' ? { textName: values.text } : {}),
  });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new RecurrentError(`cannot make the folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // The folder writable and the disk with room for the checkpoint, before anything is written there.
  await checkCheckpointTarget(join(dir, PYTORCH_CHECKPOINT), checkpointFileBytes(ck));
  await writeCheckpointFile(join(dir, PYTORCH_CHECKPOINT), ck);
  for (const name of PYTORCH_FILES) {
    try {
      writeFileSync(join(dir, name), files[name]);
    } catch (e) {
      throw new RecurrentError(`cannot write ${join(dir, name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  process.stderr.write(
    `wrote ${names.map((n) => join(dir, n)).join(', ')}\n` +
      `continue in PyTorch: python ${join(dir, 'train.py')} ${typeof values.text === 'string' ? values.text : 'TEXT'} --steps N ` +
      `(or torchrun --nproc_per_node=N ${join(dir, 'train.py')} ...); ${join(dir, 'README.md')} has the commands\n` +
      `back here: recurrent train ${typeof values.text === 'string' ? values.text : 'TEXT'}${ck.config.task === 'lm' ? '' : ` --task ${ck.config.task}`} --resume ${join(dir, PYTORCH_CHECKPOINT)}\n`,
  );
  return 0;
}
