// The `recurrent` command line: the same engine as the extension, headless. Bad input ends with one
// line on stderr and a non-zero exit, never a stack trace (RECURRENT_DEBUG=1 shows traces of bugs); a
// reader that closes the pipe ends a command quietly (output.ts). What every command shares for faults:
// files.ts (reading texts and streams, checking --out), output.ts (closed pipes), stopSignals.ts (Ctrl+C,
// SIGTERM, SIGHUP) and autosave.ts (a checkpoint every few minutes).
import { RecurrentError } from '../engine/errors.js';
import { trainCommand, TRAIN_USAGE } from './train.js';
import { isTaskTraining, taskTrainCommand, TASK_TRAIN_USAGE } from './taskTrain.js';
import { predictCommand, PREDICT_USAGE } from './predict.js';
import { sampleCommand, SAMPLE_USAGE } from './sample.js';
import { EVAL_USAGE } from './eval.js';
import { evalDispatch, TASK_EVAL_USAGE } from './taskEval.js';
import { gradcheckCommand, GRADCHECK_USAGE } from './gradcheck.js';
import { infoCommand } from './info.js';
import { guardOutput } from './output.js';
import { exportCommand, EXPORT_USAGE } from './export.js';
import { experimentCommand, EXPERIMENT_USAGE } from './experiment.js';

const USAGE = `usage: recurrent <command> [options]

commands
  train FILE              train a model on a text file
  train FILE.tsv --task classify|generate|translate
                          train a classifier, a conditioned generator or an encoder-decoder on
                          input<TAB>output lines
  predict CHECKPOINT [FILE]
                          the label of each line, a text for each label, or each line's translation
                          (stdin without FILE)
  sample CHECKPOINT       generate text from a trained model
  eval CHECKPOINT FILE    per-token loss of a model on a text; a classifier's accuracy, a translator's
                          word and token error rates (--json)
  gradcheck               check every gradient against finite differences
  info CHECKPOINT         configuration, vocabulary, parameter counts and where the run trained
  export CHECKPOINT --pytorch DIR   a folder that continues the run in PyTorch (train.py, torchrun)
  experiment NAME         train the runs of an experiment and judge them against the theory
                          (memory, truncation, exploding, gates)

recurrent <command> --help shows a command's options.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  train: {
    run: (argv) => (isTaskTraining(argv) ? taskTrainCommand(argv) : trainCommand(argv)),
    usage: `${TRAIN_USAGE}\n\n${TASK_TRAIN_USAGE}`,
  },
  predict: { run: predictCommand, usage: PREDICT_USAGE },
  sample: { run: sampleCommand, usage: SAMPLE_USAGE },
  eval: { run: evalDispatch, usage: `${EVAL_USAGE}\n\n${TASK_EVAL_USAGE}` },
  gradcheck: { run: gradcheckCommand, usage: GRADCHECK_USAGE },
  info: { run: infoCommand, usage: 'usage: recurrent info CHECKPOINT [--json]' },
  export: { run: exportCommand, usage: EXPORT_USAGE },
  experiment: { run: experimentCommand, usage: EXPERIMENT_USAGE },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`recurrent: unknown command ${JSON.stringify(name)}\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  return command.run(rest);
}

guardOutput();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof RecurrentError) {
      process.stderr.write(`recurrent: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      const err = e as Error;
      process.stderr.write(`recurrent: internal error: ${err?.message ?? String(e)} (set RECURRENT_DEBUG=1 for details)\n`);
      if (process.env.RECURRENT_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
      process.exitCode = 70;
    }
  },
);
