// The examples of a task file: one per line, `input<TAB>output` (classify: `text<TAB>label`; generate
// reads the same file the other way, a text for each label). Line ends may be \n or \r\n; blank lines
// are skipped. Any other line without exactly one tab, or with an empty side, stops the run before it
// starts, with its line number and how many more lines are like it: a silently skipped line would train
// a model on less than the user gave it, and a second column split at a stray tab would mislabel it.
import { RecurrentError } from './errors.js';

export interface TsvExample {
  input: string;
  output: string;
  /** 1-based line number in the file. */
  line: number;
}

function problem(line: string): string | null {
  const tab = line.indexOf('\t');
  if (tab < 0) return 'has no tab between its input and its output';
  if (line.indexOf('\t', tab + 1) >= 0)
    return `has ${line.split('\t').length - 1} tabs; a line holds exactly one, between its input and its output`;
  if (tab === 0) return 'has an empty input (nothing before the tab)';
  if (tab === line.length - 1) return 'has an empty output (nothing after the tab)';
  return null;
}

/** Every example of a tab-separated file; `source` names the file in messages. */
export function parseTsv(text: string, source: string): TsvExample[] {
  const examples: TsvExample[] = [];
  let first: { line: number; why: string } | null = null;
  let bad = 0;
  let line = 0;
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    line++;
    let s = text.slice(at, end);
    if (s.endsWith('\r')) s = s.slice(0, -1);
    at = end + 1;
    if (s.trim().length === 0) continue;
    const why = problem(s);
    if (why !== null) {
      bad++;
      first ??= { line, why };
      continue;
    }
    const tab = s.indexOf('\t');
    examples.push({ input: s.slice(0, tab), output: s.slice(tab + 1), line });
  }
  if (first !== null) {
    const more = bad > 1 ? ` (${bad - 1} more line${bad > 2 ? 's are' : ' is'} not input<TAB>output either)` : '';
    throw new RecurrentError(`${source}:${first.line}: the line ${first.why}${more}; fix or remove such lines and start again`);
  }
  if (examples.length === 0) throw new RecurrentError(`${source} has no examples: write one per line as input<TAB>output`);
  return examples;
}
