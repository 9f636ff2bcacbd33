// The settings of a run, in one table: the `recurrent.*` settings in package.json, the JSON schema of
// `.recurrent.json` and the checks applied when a run starts all come from it (a unit test keeps the
// manifest and the schema equal to it). A run's values come from the user's settings, overridden by a
// `.recurrent.json` beside the trained file; every bad value is named with where it came from.
import { availableParallelism } from 'node:os';
import {
  automaticThreads as engineAutomaticThreads,
  CELL_KINDS,
  DEFAULT_MODEL,
  POOLINGS,
  DEFAULT_TRAIN,
  MAX_THREADS,
  OPTIMIZER_KINDS,
  validateTrainConfig,
  type ModelConfig,
  type Task,
  type TokenizerKind,
  type TrainConfig,
} from '../engine/config.js';
import { RecurrentError } from '../engine/errors.js';
import { TASK_DEFAULTS, type ExampleTask } from '../engine/taskTrainer.js';

interface Setting {
  /** Key under `recurrent.`; `model.`, `training.` and `sampling.` keys may also be set per file. */
  key: string;
  type: 'integer' | 'number' | 'boolean' | 'string';
  default: number | boolean | string;
  minimum?: number;
  maximum?: number;
  /** The minimum itself is not allowed (a learning rate of 0). */
  exclusiveMinimum?: boolean;
  enum?: readonly string[];
  /** Depends on the machine, not on the text: a `.recurrent.json` (shared with the text) must not set it. */
  machine?: true;
  description: string;
}

/** `model.task` asks for one of the tasks, or leaves it to the file: a `.tsv` file asks once, any other trains a language model. */
export type TaskSetting = 'auto' | Task;

export const SETTINGS: readonly Setting[] = [
  {
    key: 'model.task',
    type: 'string',
    enum: ['auto', 'lm', 'classify', 'generate', 'translate'],
    default: 'auto',
    description:
      'What the model learns: `lm` the next token of the text; on a tab-separated file of `input<TAB>output` lines, `classify` the output (a label) of each input, `generate` the input (a text) for each label, or `translate` the output (a sequence) of each input with an encoder-decoder; `auto`: a `.tsv` file asks which (remembered per file), any other file trains a language model. Unset settings take defaults that suit the task.',
  },
  {
    key: 'model.bidirectional',
    type: 'boolean',
    default: false,
    description:
      'classify, translate: the encoder reads each text both ways and the head (translate: the decoder, twice as wide) starts from both final states. A language model or a generator reads left to right only.',
  },
  {
    key: 'model.pooling',
    type: 'string',
    enum: POOLINGS,
    default: 'last',
    description: "classify: the head reads the encoder's final states (`last`) or the mean of its outputs over the text (`mean`).",
  },
  {
    key: 'model.cell',
    type: 'string',
    enum: CELL_KINDS,
    default: DEFAULT_MODEL.cell,
    description: "Recurrent cell: `rnn` (tanh), `lstm` (gates i, f, g, o) or `gru` (gates r, z, n), with PyTorch's equations.",
  },
  {
    key: 'model.hiddenSize',
    type: 'integer',
    minimum: 1,
    maximum: 4096,
    default: DEFAULT_MODEL.hidden,
    description: 'Hidden units per layer (H).',
  },
  { key: 'model.layers', type: 'integer', minimum: 1, maximum: 4, default: DEFAULT_MODEL.layers, description: 'Stacked recurrent layers.' },
  {
    key: 'model.embeddingSize',
    type: 'integer',
    minimum: 0,
    maximum: 4096,
    default: DEFAULT_MODEL.embedding,
    description: 'Embedding size; 0 feeds each token as a one-hot vector.',
  },
  {
    key: 'model.tokenizer',
    type: 'string',
    enum: ['char', 'word'],
    default: 'char',
    description: 'Tokens are characters (Unicode code points) or words.',
  },
  {
    key: 'model.maxVocabulary',
    type: 'integer',
    minimum: 2,
    maximum: 1048576,
    default: 10000,
    description: 'Word tokenizer: keep this many most frequent words; the rest become one unknown token.',
  },
  {
    key: 'training.sequenceLength',
    type: 'integer',
    minimum: 1,
    maximum: 100000,
    default: DEFAULT_TRAIN.k1,
    description: 'Tokens per training window (T). Sets k1 and k2 unless they are given.',
  },
  {
    key: 'training.k1',
    type: 'integer',
    minimum: 0,
    maximum: 100000,
    default: 0,
    description: 'Truncated backpropagation through time: tokens between updates. 0 = the sequence length.',
  },
  {
    key: 'training.k2',
    type: 'integer',
    minimum: 0,
    maximum: 100000,
    default: 0,
    description:
      'Truncated backpropagation through time: steps the gradient flows back (at least k1). 0 = the larger of k1 and the sequence length.',
  },
  {
    key: 'training.batchSize',
    type: 'integer',
    minimum: 1,
    maximum: 4096,
    default: DEFAULT_TRAIN.batch,
    description: 'Parallel streams over the text (B).',
  },
  { key: 'training.optimizer', type: 'string', enum: OPTIMIZER_KINDS, default: DEFAULT_TRAIN.optimizer, description: 'Optimizer.' },
  {
    key: 'training.learningRate',
    type: 'number',
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 100,
    default: DEFAULT_TRAIN.lr,
    description: 'Learning rate; it can also be changed while training, from the dashboard.',
  },
  {
    key: 'training.clipNorm',
    type: 'number',
    minimum: 0,
    maximum: 1e9,
    default: DEFAULT_TRAIN.clipNorm,
    description: 'Clip the global gradient norm to this value; 0 = off.',
  },
  {
    key: 'training.clipValue',
    type: 'number',
    minimum: 0,
    maximum: 1e9,
    default: DEFAULT_TRAIN.clipValue,
    description: 'Clip each gradient element to [-value, value]; 0 = off.',
  },
  {
    key: 'training.validationShare',
    type: 'number',
    minimum: 0,
    maximum: 0.5,
    default: DEFAULT_TRAIN.valShare,
    description: 'Share of the text, taken from its end, held out for validation.',
  },
  {
    key: 'training.evaluateEvery',
    type: 'integer',
    minimum: 0,
    maximum: 1000000000,
    default: DEFAULT_TRAIN.evalEvery,
    description:
      'Measure the validation loss on a fixed sample of the held-out text every this many updates, or less often where that would read more than a quarter of the tokens trained; 0 = only at the end.',
  },
  {
    key: 'training.resetEvery',
    type: 'integer',
    minimum: 0,
    maximum: 1000000000000,
    default: DEFAULT_TRAIN.resetEvery,
    description:
      'Each stream starts again from a zero state every this many tokens, one stream at a time, so the model keeps working from the zero state that sampling and evaluation start from; 0 = carry the state until a stream wraps around the text.',
  },
  {
    key: 'training.seed',
    type: 'integer',
    minimum: 0,
    maximum: 4294967295,
    default: DEFAULT_TRAIN.seed,
    description: 'Random seed of initialisation and batching: the same seed, text and settings give the same run.',
  },
  {
    key: 'training.threads',
    type: 'integer',
    minimum: 0,
    maximum: MAX_THREADS,
    default: 0,
    machine: true,
    description:
      "Threads that share each update, each running a share of the batch's streams (so at most the batch size of them run). 0 = automatic: one per core less one left for the editor, at most 4. Resumed runs use this count too.",
  },
  {
    key: 'training.maxSteps',
    type: 'integer',
    minimum: 0,
    maximum: 1000000000,
    default: 0,
    description: 'Stop after this many updates; 0 = until stopped.',
  },
  {
    key: 'training.maxMinutes',
    type: 'number',
    minimum: 0,
    maximum: 100000,
    default: 0,
    description: 'Stop after this many minutes of training; 0 = until stopped.',
  },
  {
    key: 'sampling.temperature',
    type: 'number',
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 10,
    default: 0.8,
    description: 'Sampling temperature: below 1 is more conservative, above 1 more surprising.',
  },
  {
    key: 'sampling.length',
    type: 'integer',
    minimum: 1,
    maximum: 1000000,
    default: 500,
    description: 'Tokens to generate by Recurrent: Sample.',
  },
  {
    key: 'sampling.topK',
    type: 'integer',
    minimum: 0,
    maximum: 1048576,
    default: 0,
    description: 'Sample only among the k most likely tokens; 0 = all.',
  },
  {
    key: 'sampling.topP',
    type: 'number',
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 1,
    default: 1,
    description: 'Nucleus sampling: only among the most likely tokens whose probabilities add up to p; 1 = all.',
  },
  {
    key: 'sampling.everySeconds',
    type: 'number',
    minimum: 0,
    maximum: 3600,
    default: 15,
    description: 'While training, show a sample on the dashboard this often; 0 = never.',
  },
  {
    key: 'maxFileSizeMB',
    type: 'number',
    minimum: 0.001,
    maximum: 4096,
    default: 50,
    description: 'Largest text to train on, in MB (millions of characters, roughly); a larger one can be trained on its first part.',
  },
  {
    key: 'autosaveIntervalSeconds',
    type: 'integer',
    minimum: 0,
    maximum: 86400,
    default: 120,
    description: 'Save a checkpoint into the workspace storage this often while training (and always at the end); 0 = only at the end.',
  },
  { key: 'openDashboardOnStart', type: 'boolean', default: true, description: 'Open the dashboard when a run starts.' },
  {
    key: 'workerMemoryMB',
    type: 'integer',
    minimum: 128,
    maximum: 65536,
    default: 2048,
    description: 'Memory limit of a training worker; a run that exceeds it stops with a message, its last checkpoint kept.',
  },
];

/** Settings a workspace file must not set when the workspace is not trusted. */
export const RESTRICTED_SETTINGS = ['recurrent.maxFileSizeMB', 'recurrent.workerMemoryMB'];

export interface RunSettings {
  /** What model.task said; `auto` leaves the choice to the command (a .tsv file asks). */
  taskSetting: TaskSetting;
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  tokenizer: TokenizerKind;
  maxVocab: number;
  maxSteps: number;
  maxMs: number;
  sampling: { temperature: number; length: number; topK: number; topP: number; everyMs: number };
  maxFileSizeMB: number;
  autosaveEveryMs: number;
  workerMemoryMB: number;
}

type Values = Map<string, unknown>;

/** Where a value came from, for the message: `Setting recurrent.x` or `/dir/.recurrent.json: x`. */
interface Source {
  describe(key: string): string;
  values: Values;
}

/** `recurrent.training.threads` 0: the editor shares the machine with training, so one core stays free for it. */
export function automaticThreads(cores: number): number {
  return engineAutomaticThreads(cores, 1);
}

/** What model.task says, from the settings and then the `.recurrent.json` (which wins), checked. */
export function taskSettingOf(get: (key: string) => unknown, file?: { path: string; json: unknown }): TaskSetting {
  const s = SETTINGS.find((x) => x.key === 'model.task')!;
  let value: unknown = get(s.key);
  if (value !== undefined) checkValue(s, value, `Setting recurrent.${s.key}`);
  const fromFile = file ? flattenRunFile(file.path, file.json).get(s.key) : undefined;
  if (fromFile !== undefined) {
    checkValue(s, fromFile, `${file!.path}: ${s.key}`);
    value = fromFile;
  }
  return (value ?? s.default) as TaskSetting;
}

/** The settings whose default a task (classify, generate) replaces with its own (TASK_DEFAULTS). */
function taskDefault(task: ExampleTask, key: string): unknown {
  const d = TASK_DEFAULTS[task];
  const map: Record<string, unknown> = {
    'model.cell': d.model.cell,
    'model.hiddenSize': d.model.hidden,
    'model.layers': d.model.layers,
    'model.embeddingSize': d.model.embedding,
    'model.pooling': d.model.pooling,
    'training.batchSize': d.train.batch,
    'training.optimizer': d.train.optimizer,
    'training.learningRate': d.train.lr,
    'training.clipNorm': d.train.clipNorm,
    'training.validationShare': d.train.valShare,
    'training.evaluateEvery': d.train.evalEvery,
  };
  return map[key];
}

/**
 * Reads a run's settings: `get` reads `recurrent.<key>` (undefined = not set: the default); `file` is a
 * parsed `.recurrent.json`; `cores` decides the automatic thread count; `chosen` is the task the user
 * picked for a file whose model.task is auto.
 */
export function resolveRunSettings(
  get: (key: string) => unknown,
  file?: { path: string; json: unknown },
  cores = availableParallelism(),
  chosen?: Task,
): RunSettings {
  const user: Source = { describe: (k) => `Setting recurrent.${k}`, values: new Map() };
  for (const s of SETTINGS) {
    const v = get(s.key);
    if (v !== undefined) user.values.set(s.key, v);
  }
  const sources = [user];
  if (file) sources.push({ describe: (k) => `${file.path}: ${k}`, values: flattenRunFile(file.path, file.json) });

  const v = new Map<string, unknown>();
  const origin = new Map<string, Source>();
  for (const source of sources) {
    for (const [key, value] of source.values) {
      const s = SETTINGS.find((x) => x.key === key)!;
      checkValue(s, value, source.describe(key));
      v.set(key, value);
      origin.set(key, source);
    }
  }
  const taskSetting = (v.get('model.task') ?? 'auto') as TaskSetting;
  const task: Task = taskSetting === 'auto' ? (chosen ?? 'lm') : taskSetting;
  const get1 = <T>(key: string): T =>
    (v.has(key) ? v.get(key) : ((task !== 'lm' ? taskDefault(task, key) : undefined) ?? SETTINGS.find((x) => x.key === key)!.default)) as T;
  const where = (...keys: string[]): string => {
    const k = keys.find((x) => origin.has(x));
    return k ? origin.get(k)!.describe(k) : 'Settings';
  };

  const seq = get1<number>('training.sequenceLength');
  const k1 = get1<number>('training.k1') || seq;
  const k2 = get1<number>('training.k2') || Math.max(k1, seq);
  const maxSteps = get1<number>('training.maxSteps');
  let train: TrainConfig;
  try {
    train = validateTrainConfig({
      ...(task !== 'lm' ? TASK_DEFAULTS[task].train : {}),
      k1,
      k2,
      batch: get1('training.batchSize'),
      optimizer: get1('training.optimizer'),
      lr: get1('training.learningRate'),
      clipNorm: get1('training.clipNorm'),
      clipValue: get1('training.clipValue'),
      valShare: get1('training.validationShare'),
      evalEvery: get1('training.evaluateEvery'),
      resetEvery: get1('training.resetEvery'),
      seed: get1('training.seed'),
      threads: get1<number>('training.threads') || automaticThreads(cores),
      ...(maxSteps ? { totalSteps: maxSteps } : {}),
    });
  } catch (e) {
    throw new RecurrentError(`${where('training.k1', 'training.k2', 'training.sequenceLength')}: ${(e as Error).message}`);
  }
  const bidirectional = get1<boolean>('model.bidirectional');
  if (bidirectional && task !== 'classify' && task !== 'translate')
    throw new RecurrentError(
      `${where('model.bidirectional')}: a bidirectional encoder reads the whole text at once, so only the tasks classify and translate can use it (this run's task is ${task})`,
    );
  const model: Omit<ModelConfig, 'vocabSize'> = {
    task,
    cell: get1('model.cell'),
    hidden: get1('model.hiddenSize'),
    layers: get1('model.layers'),
    embedding: get1('model.embeddingSize'),
    bidirectional,
    ...(task !== 'lm' ? { maxLength: TASK_DEFAULTS[task].model.maxLength } : {}),
    ...(task === 'classify' ? { pooling: get1<ModelConfig['pooling']>('model.pooling') } : {}),
  };
  return {
    taskSetting,
    model,
    train,
    tokenizer: get1('model.tokenizer'),
    maxVocab: get1('model.maxVocabulary'),
    maxSteps,
    maxMs: Math.round(get1<number>('training.maxMinutes') * 60000),
    sampling: {
      temperature: get1('sampling.temperature'),
      length: get1('sampling.length'),
      topK: get1('sampling.topK'),
      topP: get1('sampling.topP'),
      everyMs: Math.round(get1<number>('sampling.everySeconds') * 1000),
    },
    maxFileSizeMB: get1('maxFileSizeMB'),
    autosaveEveryMs: get1<number>('autosaveIntervalSeconds') * 1000,
    workerMemoryMB: get1('workerMemoryMB'),
  };
}

/** Parses the text of a `.recurrent.json`, naming the file and position of a syntax error. */
export function parseRunFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RecurrentError(`${path} is not valid JSON (${(e as Error).message}); fix it or delete it`);
  }
}

const PER_FILE_GROUPS = ['model', 'training', 'sampling'];

/**
 * Sets `group.name` in a parsed `.recurrent.json` when the file already sets it (a value there wins over
 * the settings, so a fix written only to the settings would not take). Returns whether it did.
 */
export function overrideInRunFile(json: unknown, key: string, value: number | string): boolean {
  const [group, name] = key.split('.') as [string, string | undefined];
  if (!name || typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const inner = (json as Record<string, unknown>)[group];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner) || !(name in inner)) return false;
  (inner as Record<string, unknown>)[name] = value;
  return true;
}

function flattenRunFile(path: string, json: unknown): Values {
  const out: Values = new Map();
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RecurrentError(`${path} must hold a JSON object like {"model": {"cell": "gru"}, "training": {"learningRate": 0.001}}`);
  }
  for (const [group, inner] of Object.entries(json)) {
    if (group === '$schema') continue;
    if (!PER_FILE_GROUPS.includes(group)) {
      throw new RecurrentError(`${path}: unknown section "${group}"; the sections are ${PER_FILE_GROUPS.join(', ')}`);
    }
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
      throw new RecurrentError(`${path}: "${group}" must be an object of settings`);
    }
    for (const [name, value] of Object.entries(inner)) {
      const key = `${group}.${name}`;
      const setting = SETTINGS.find((s) => s.key === key);
      if (!setting) {
        const known = perFileSettings(group).map((s) => s.key.slice(group.length + 1));
        throw new RecurrentError(`${path}: unknown setting ${key}; ${group} takes ${known.join(', ')}`);
      }
      if (setting.machine) {
        throw new RecurrentError(`${path}: ${key} depends on the machine, not on the text; set recurrent.${key} in the settings instead`);
      }
      out.set(key, value);
    }
  }
  return out;
}

function perFileSettings(group: string): Setting[] {
  return SETTINGS.filter((s) => s.key.startsWith(group + '.') && !s.machine);
}

function checkValue(s: Setting, value: unknown, where: string): void {
  const bad = (want: string): never => {
    throw new RecurrentError(`${where} must be ${want}, got ${JSON.stringify(value)}`);
  };
  if (s.enum) {
    if (typeof value !== 'string' || !s.enum.includes(value)) bad(`one of ${s.enum.join(', ')}`);
    return;
  }
  if (s.type === 'boolean') {
    if (typeof value !== 'boolean') bad('true or false');
    return;
  }
  const lo = s.minimum ?? -Infinity;
  const hi = s.maximum ?? Infinity;
  const range = s.exclusiveMinimum ? `greater than ${lo} and at most ${hi}` : `from ${lo} to ${hi}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi || (s.exclusiveMinimum && value === lo)) {
    bad(s.type === 'integer' ? `a whole number ${range}` : `a number ${range}`);
  }
  if (s.type === 'integer' && !Number.isInteger(value)) bad(`a whole number ${range}`);
}

// ---- the manifest and the schema, derived from the table ----------------------------------------

function jsonSchemaOf(s: Setting): Record<string, unknown> {
  return {
    type: s.type,
    default: s.default,
    ...(s.enum ? { enum: [...s.enum] } : {}),
    ...(s.minimum !== undefined ? (s.exclusiveMinimum ? { exclusiveMinimum: s.minimum } : { minimum: s.minimum }) : {}),
    ...(s.maximum !== undefined ? { maximum: s.maximum } : {}),
    markdownDescription: s.description,
  };
}

/** `contributes.configuration` of package.json. */
export function configurationContribution(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    properties[`recurrent.${s.key}`] = {
      ...jsonSchemaOf(s),
      ...(RESTRICTED_SETTINGS.includes(`recurrent.${s.key}`) ? { scope: 'machine-overridable' } : {}),
    };
  }
  return { title: 'Recurrent Studio', properties };
}

/** JSON schema of `.recurrent.json` (media/recurrent.schema.json). */
export function runFileSchema(): Record<string, unknown> {
  const groups: Record<string, unknown> = {};
  for (const g of PER_FILE_GROUPS) {
    const properties: Record<string, unknown> = {};
    for (const s of perFileSettings(g)) properties[s.key.slice(g.length + 1)] = jsonSchemaOf(s);
    groups[g] = { type: 'object', additionalProperties: false, properties };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Recurrent Studio run settings for the files in this folder',
    type: 'object',
    additionalProperties: false,
    properties: { $schema: { type: 'string' }, ...groups },
  };
}
