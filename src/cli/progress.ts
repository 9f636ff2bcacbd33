// One status line rewritten in place on a terminal; plain lines at a slower pace when stdout is a
// file or a pipe, so logs stay readable.
export class Progress {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly interactive = Boolean(out.isTTY),
    private readonly plainEveryMs = 5000,
  ) {}

  /** Shows `line` now if enough time passed since the last one (or `force`). */
  update(line: string, force = false): void {
    const now = Date.now();
    const every = this.interactive ? 100 : this.plainEveryMs;
    if (!force && now - this.lastDraw < every) return;
    this.lastDraw = now;
    if (this.interactive) {
      const width = this.out.columns || 120;
      this.out.write(`\r\x1b[2K${line.length > width - 1 ? line.slice(0, width - 1) : line}`);
      this.drawn = true;
    } else {
      this.out.write(line + '\n');
    }
  }

  /** Prints a block of text above the status line. */
  print(text: string): void {
    this.clear();
    this.out.write(text.endsWith('\n') ? text : text + '\n');
  }

  clear(): void {
    if (this.interactive && this.drawn) {
      this.out.write('\r\x1b[2K');
      this.drawn = false;
    }
  }
}
