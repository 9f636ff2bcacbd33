// Where the command line writes can go away under it: `recurrent sample m | head -1` closes stdout after
// one line, and a closed terminal (SIGHUP) or a closed log pipe makes stderr fail. Node reports either
// as an 'error' event that, unheard, ends the process with a stack trace. Here a closed stdout ends the
// command quietly, as a Unix tool killed by SIGPIPE does (status 141), and a failing stderr is ignored:
// there is nowhere left to report to, and a run that is training goes on to save its checkpoint.

/** Exit status of a command whose reader went away: 128 + SIGPIPE, as the shell reports a tool SIGPIPE ended. */
export const EXIT_READER_GONE = 141;

function readerGone(e: NodeJS.ErrnoException): boolean {
  return e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';
}

/** Installs the listeners; once per process, before anything is written. */
export function guardOutput(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (readerGone(e)) process.exit(EXIT_READER_GONE);
    // Anything else (a full disk behind `> file`, an I/O error) is the user's to know about.
    process.stderr.write(`recurrent: cannot write the output: ${e.code === 'ENOSPC' ? 'the disk is full' : e.message}\n`);
    process.exit(1);
  });
  process.stderr.on('error', () => undefined);
}

/** Writes to stdout and waits until the text is handed to the system, so a large output keeps its memory bounded. */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}
