// Pause, Resume, Stop, Restart from Last Checkpoint and Open Dashboard: commands on a run that exists.
import { DashboardPanel } from '../dashboardPanel.js';
import { showProgress } from '../runNotices.js';
import type { Studio } from '../studio.js';

export function pause(studio: Studio, runId?: string): void {
  studio.target(runId, (s) => s.status === 'running', 'is training').pause();
}

export function resume(studio: Studio, runId?: string): void {
  const s = studio.target(runId, (s) => s.status === 'paused', 'is paused');
  s.resume();
  showProgress(s);
}

export function stop(studio: Studio, runId?: string): void {
  studio.target(runId, (s) => s.status === 'running' || s.status === 'paused', 'is training').stop();
}

export async function restart(studio: Studio, runId?: string): Promise<void> {
  const s = studio.target(runId, (s) => s.status === 'crashed', 'has crashed');
  await s.restart();
  studio.refresh();
  showProgress(s);
}

export function openDashboard(studio: Studio, runId?: string): void {
  const s = studio.target(runId, (x) => x.description !== null, 'has started');
  DashboardPanel.createOrShow(studio.context.extensionUri, s);
}
