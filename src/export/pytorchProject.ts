// Export for PyTorch with training: a folder that continues the run in PyTorch. Beside the run's
// checkpoint (PYTORCH_CHECKPOINT, written by the caller), model.py defines the module and loads it,
// train.py continues the run (one process or many under torchrun, CPU or CUDA) and writes the same
// checkpoint back, and README.md says how, with this run's figures. The CLI (recurrent export) and the
// extension (Export for PyTorch) write the same files.
import type { ModelConfig, TokenizerKind, TrainConfig } from '../engine/config.js';
import { modelPy } from './modelPy.js';
import { trainPy } from './trainPy.js';

/** The checkpoint's name in the folder: train.py continues it and, by default, saves over it. */
export const PYTORCH_CHECKPOINT = 'model.safetensors';
/** The tasks whose runs train.py continues: a task added to the engine is refused by name until train.py has it. */
export const PYTORCH_TASKS: readonly string[] = ['lm', 'classify', 'generate', 'translate'];
/** The files besides the checkpoint, in the order they are written. */
export const PYTORCH_FILES = ['model.py', 'train.py', 'README.md'] as const;

export interface ProjectRun {
  config: ModelConfig;
  tokenizer: TokenizerKind;
  /** The run's training settings and update count; null for a checkpoint without them (train.py then starts with the defaults). */
  train: TrainConfig | null;
  updates: number;
  /** The text the run trained on, as the user knows it (a file name), for the README's commands. */
  textName?: string;
}

export function pytorchProject(run: ProjectRun): Record<(typeof PYTORCH_FILES)[number], string> {
  return {
    'model.py': modelPy(run.config, run.tokenizer, PYTORCH_CHECKPOINT),
    'train.py': trainPy(),
    'README.md': run.config.task === 'lm' ? readme(run) : taskReadme(run),
  };
}

function readme(run: ProjectRun): string {
  const c = run.config;
  const t = run.train;
  const text = run.textName && !/\s/.test(run.textName) ? run.textName : 'TEXT';
  const model = `${c.cell.toUpperCase()}, hidden ${c.hidden} x ${c.layers} layer(s), ${c.embedding ? `embedding ${c.embedding}` : 'one-hot input'}, ${c.vocabSize} ${run.tokenizer} tokens`;
  const training = t
    ? `batch ${t.batch}, k1 ${t.k1}, k2 ${t.k2}, ${t.optimizer} lr ${t.lr}, clip ${t.clipNorm ? `norm ${t.clipNorm}` : t.clipValue ? `value ${t.clipValue}` : 'off'}, seed ${t.seed}`
    : 'no training record: train.py starts with the default settings and a fresh optimizer';
  const maxProcesses = t?.batch ?? 32;
  return `# Continue this run in PyTorch

Exported by Recurrent Studio at update ${run.updates.toLocaleString('en-US')}: ${model}; ${training}.

| file | what it is |
| --- | --- |
| \`${PYTORCH_CHECKPOINT}\` | the run: weights, optimizer state, each stream's position and carried state, the training settings and the history of the run |
| \`model.py\` | the PyTorch module; \`python model.py\` loads the checkpoint and prints it |
| \`train.py\` | continues the run: the same text, tokenizer, streams, optimizer state, schedule, clipping and seed as Recurrent Studio |

## Train

\`${text}\` is the text the run trained on (give its path). Needs Python 3 with torch (and numpy).

\`\`\`sh
python train.py ${text} --steps 1000                            # one process on the CPU
python train.py ${text} --time 2h --device cuda                 # one GPU; --precision tf32, bf16 or fp16 for mixed precision
torchrun --nproc_per_node=4 train.py ${text} --device cuda      # four GPUs (or CPU processes without --device cuda)
torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 --rdzv_id=run1 \\
  train.py ${text} --device cuda --time 12h                    # the same command on each of two machines
\`\`\`

Each process trains a share of the ${maxProcesses} streams (so at most ${maxProcesses} processes) and DistributedDataParallel
averages their gradients: any number of processes makes the same updates as one, within float32 rounding.
\`train.py\` saves over \`${PYTORCH_CHECKPOINT}\` when it stops (\`--steps\`, \`--time\`, Ctrl+C or SIGTERM) and every
10 minutes (\`--save-every\`), so running it again goes on from there; \`--out\` saves elsewhere, \`--from\` continues
another checkpoint. Every update's metrics are appended to \`metrics.jsonl\` beside the checkpoint. On another
text the streams start from its beginning. \`python train.py --help\` lists every option.

## Back in Recurrent Studio

\`\`\`sh
recurrent train ${text} --resume ${PYTORCH_CHECKPOINT}     # goes on training where train.py stopped
recurrent info ${PYTORCH_CHECKPOINT}                      # where the run trained: updates here and in PyTorch
recurrent sample ${PYTORCH_CHECKPOINT} --prime "The "
\`\`\`

In VS Code, **Recurrent: Import Run...** loads \`${PYTORCH_CHECKPOINT}\` with its whole loss curve, the part trained
in PyTorch after the part trained in Recurrent Studio.
`;
}

/** The README of a classify, generate or translate run: examples in batches rather than streams, and the task's commands back here. */
function taskReadme(run: ProjectRun): string {
  const c = run.config;
  const t = run.train;
  const task = c.task;
  const file = run.textName && !/\s/.test(run.textName) ? run.textName : 'FILE.tsv';
  const outputs = task === 'translate' ? `${c.targetVocabSize} target tokens` : `${c.labels?.length ?? 0} labels`;
  const model = `${task}, ${c.cell.toUpperCase()}, hidden ${c.hidden} x ${c.layers} layer(s)${c.bidirectional ? ', bidirectional' : ''}, ${c.embedding ? `embedding ${c.embedding}` : 'one-hot input'}, ${c.vocabSize} ${run.tokenizer} tokens, ${outputs}`;
  const training = t
    ? `batch ${t.batch} examples, ${t.optimizer} lr ${t.lr}, clip ${t.clipNorm ? `norm ${t.clipNorm}` : t.clipValue ? `value ${t.clipValue}` : 'off'}, held out ${t.valShare} of the lines, seed ${t.seed}`
    : 'no training record: train.py starts with the task defaults and a fresh optimizer';
  const batch = t?.batch ?? 32;
  const scores =
    task === 'classify'
      ? 'accuracy and loss per example'
      : task === 'translate'
        ? 'word and token error rates of greedy translations, and loss in bits per token'
        : 'loss in bits per token';
  const module = task === 'classify' ? 'Classifier' : task === 'generate' ? 'Generator' : 'Translator';
  return `# Continue this ${task} run in PyTorch

Exported by Recurrent Studio at update ${run.updates.toLocaleString('en-US')}: ${model}; ${training}.

| file | what it is |
| --- | --- |
| \`${PYTORCH_CHECKPOINT}\` | the run: weights, labels, optimizer state, where it is in its epoch (with the random state), the training settings and the history of the run |
| \`model.py\` | the PyTorch module (${module}); \`python model.py\` loads the checkpoint and prints it |
| \`train.py\` | continues the run: the same lines read with the same ${task === 'translate' ? 'tokenizers' : 'tokenizer and labels'}, the same held-out lines, the same batches of like length in the same order, the same optimizer state, schedule, clipping and seed as Recurrent Studio |

## Train

\`${file}\` is the task file the run trained on, input<TAB>output per line (give its path). Needs Python 3 with torch.

\`\`\`sh
python train.py ${file} --steps 1000                            # one process on the CPU
python train.py ${file} --time 2h --device cuda                 # one GPU
torchrun --nproc_per_node=4 train.py ${file} --device cuda      # four GPUs (or CPU processes without --device cuda)
\`\`\`

Each process runs a share of each batch's ${batch} examples (so at most ${batch} processes) and DistributedDataParallel
averages their gradients: any number of processes makes the same updates as one, within float32 rounding.
\`train.py\` saves over \`${PYTORCH_CHECKPOINT}\` when it stops (\`--steps\`, \`--time\`, Ctrl+C or SIGTERM) and every
10 minutes (\`--save-every\`), so running it again goes on from there; \`--out\` saves elsewhere, \`--from\` continues
another checkpoint. Every update's metrics and every held-out score (${scores}, every ${t?.evalEvery ?? 100} updates
and at the end) are appended to \`metrics.jsonl\` beside the checkpoint. On another file the batches start a new epoch.

## Back in Recurrent Studio

\`\`\`sh
recurrent train ${file} --task ${task} --resume ${PYTORCH_CHECKPOINT}     # goes on training where train.py stopped
recurrent info ${PYTORCH_CHECKPOINT}                                 # where the run trained: updates here and in PyTorch
recurrent eval ${PYTORCH_CHECKPOINT} ${file} --held-out
\`\`\`

In VS Code, **Recurrent: Import Run...** loads \`${PYTORCH_CHECKPOINT}\` with its whole loss curve, the part trained
in PyTorch after the part trained in Recurrent Studio.
`;
}
