// The Python with torch that the PyTorch tests run, and why they are skipped when there is none.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

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

/** A port nobody listens on now, for torchrun's rendezvous (--standalone would always take 29400). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * torchrun's arguments for one machine. Debian 12's torch 1.13 on Python 3.11 parses its default
 * --redirects/--tee of 0 to None and fails before starting anything (fixed in torch 2.0): there, the
 * output goes through --tee instead.
 */
export async function torchrun(processes: number): Promise<string[]> {
  const probe = spawnSync(PYTHON, ['-c', "from torch.distributed.elastic.multiprocessing.api import Std; print(Std.from_str('0'))"], {
    encoding: 'utf8',
  });
  const broken = probe.stdout.trim() === 'None';
  return [
    '-m',
    'torch.distributed.run',
    '--nnodes=1',
    `--nproc_per_node=${processes}`,
    '--master_addr=127.0.0.1',
    `--master_port=${await freePort()}`,
    ...(broken ? ['--redirects', '2', '--tee', '2'] : []),
  ];
}
