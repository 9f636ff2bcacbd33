// Ctrl+C (SIGINT), `kill` (SIGTERM, what systemd, docker stop and job schedulers send) and a closed
// terminal (SIGHUP) all ask a long command to stop at its next safe point and save what it has, instead
// of ending it on the spot. A second signal while it finishes ends it at once: the checkpoint being
// written is then abandoned (its temporary file is cleaned up by the next run) and the last one stands.
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof SIGNALS)[number];

export class StopSignals {
  private received: StopSignal | null = null;
  private readonly handlers = new Map<StopSignal, () => void>();

  /** Starts listening; `onFirst` tells the user the request was heard. */
  constructor(onFirst: (signal: StopSignal) => void) {
    for (const signal of SIGNALS) {
      const handler = (): void => {
        if (this.received !== null) {
          process.stderr.write(`\nrecurrent: ${signal} again: stopped at once, without saving\n`);
          process.exit(exitStatus(signal));
        }
        this.received = signal;
        onFirst(signal);
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  /** The signal that asked to stop, if one did. */
  get signal(): StopSignal | null {
    return this.received;
  }

  /** The status a shell reports for a command ended by the signal: 128 + its number (130, 143; SIGHUP's 129 see dispose). */
  get exitStatus(): number {
    return this.received === null ? 0 : exitStatus(this.received);
  }

  /**
   * Stops listening. After a hang-up the command ends as the terminal's other processes do, killed by
   * SIGHUP (the shell reports 129): an ordinary exit would have Node 20 restore the terminal's mode, fail
   * with EIO on a terminal that is gone, and abort (nodejs/node#51519).
   */
  dispose(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
    if (this.received === 'SIGHUP') process.once('exit', () => process.kill(process.pid, 'SIGHUP'));
  }
}

function exitStatus(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}
