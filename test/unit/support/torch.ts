// The Python with torch that the PyTorch tests run, and why they are skipped when there is none.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's interpreter, which has torch; the `python3` on PATH may be a pyenv without it. */
export const PYTHON = process.env.RECURRENT_TORCH_PYTHON ?? '/usr/bin/python3';

/** Why torch cannot be used here, or null when it can. */
export function torchAbsence(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} does not exist (apt-get install python3-torch, or set RECURRENT_TORCH_PYTHON)`;
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    return `${PYTHON} cannot import torch (apt-get install python3-torch, or set RECURRENT_TORCH_PYTHON): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return null;
}
