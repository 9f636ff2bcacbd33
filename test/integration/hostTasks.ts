// The extension host thread's work cut into tasks: each macrotask (a timer, a socket read, a message
// from the worker) together with the promise jobs that run after it, timed in the thread's own CPU.
//
// Why not the CPU used between two ticks of a 10 ms timer: when a loaded machine takes the thread away
// for 100 ms, everything that arrived meanwhile runs before the next tick, and twenty short tasks read
// as one long one (CI failed so, a 51.7 ms "tick" at a load of 3 on 2 cores). What keeps the host from
// answering is one task that runs long, and that is what this measures.
import { createHook, executionAsyncResource } from 'node:async_hooks';
import { PerformanceObserver } from 'node:perf_hooks';

export interface HostTask {
  /** CPU milliseconds of the macrotask and the promise jobs after it. */
  ms: number;
  /** The kind of resource that started it (Timeout, MessagePort, Socket, ...). */
  kind: string;
}

export interface HostTasks {
  tasks: HostTask[];
  /** The longest garbage collection pause while watching, in wall-clock ms. */
  gcMaxMs: number;
  text: string;
}

const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

/**
 * Starts watching the host thread's tasks; `stop` ends it and reports them. `cpuMs` is the thread's CPU
 * clock. A task ends where the next macrotask begins: the thread sleeps in between without using CPU,
 * and what it does outside any callback (the event loop itself, a collection between tasks) counts
 * towards the task before, which errs towards long.
 */
export function watchHostTasks(cpuMs: () => number): { stop(): HostTasks } {
  const tasks: HostTask[] = [];
  let depth = 0;
  let start: { at: number; kind: string } | null = null;
  const hook = createHook({
    before() {
      if (depth++ > 0) return;
      const resource = executionAsyncResource();
      // A promise job continues the task whose code resolved the promise. (Node's internal promises are
      // of another class, hence the test for a then rather than instanceof.)
      if (typeof (resource as { then?: unknown } | undefined)?.then === 'function') return;
      const now = cpuMs();
      if (start) tasks.push({ ms: now - start.at, kind: start.kind });
      start = { at: now, kind: (resource as object | undefined)?.constructor?.name ?? 'unknown' };
    },
    after() {
      depth = Math.max(0, depth - 1);
    },
  });
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  hook.enable();
  return {
    stop(): HostTasks {
      hook.disable();
      gc.disconnect();
      const ms = tasks.map((t) => t.ms);
      const longest = [...tasks].sort((a, b) => b.ms - a.ms).slice(0, 3);
      const f = (x: number): string => x.toFixed(1);
      const text =
        `${tasks.length} host tasks, CPU max ${f(Math.max(0, ...ms))} ms, p99 ${f(percentile(ms, 99))} ms, ` +
        `total ${f(ms.reduce((a, b) => a + b, 0))} ms; longest ${longest.map((t) => `${f(t.ms)} (${t.kind})`).join(', ')}; ` +
        `longest GC pause ${f(gcMaxMs)} ms`;
      return { tasks, gcMaxMs, text };
    },
  };
}
