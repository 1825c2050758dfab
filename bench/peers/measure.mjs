// Interleaved timing with tinybench: every round runs each task exactly once (one iteration, in
// an order rotated by one per round), so a machine that speeds up or slows down mid-run affects
// all contenders alike. The first round is a warm-up and is dropped. No forced GC between tasks
// (a forced full GC hands freed buffers back to the OS and every contender would then measure a
// cold heap, as bench/run.mjs explains).
import { Bench } from 'tinybench';

/** Median, min and max of numbers. */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * Runs `rounds` interleaved rounds (plus one warm-up) of the tasks.
 * @param tasks - [{ id, fn, sync?, per? }]: `fn` is timed once per round; the sample is its time
 *   in ms divided by `per` (messages per batch, default 1)
 * @returns Map id -> samples (ms per operation), one per timed round, in round order
 */
export async function interleaved(tasks, rounds) {
  const samples = new Map(tasks.map((t) => [t.id, []]));
  for (let r = 0; r <= rounds; r++) {
    const bench = new Bench({ iterations: 1, time: 0, warmup: false, throws: true });
    const k = r % tasks.length;
    // `async` given explicitly: otherwise tinybench probes a function by calling it once.
    for (const t of tasks.slice(k).concat(tasks.slice(0, k))) bench.add(t.id, t.fn, { async: !t.sync });
    await bench.run();
    if (r === 0) continue;
    for (const t of bench.tasks) {
      const spec = tasks.find((x) => x.id === t.name);
      samples.get(t.name).push(t.result.latency.mean / (spec.per ?? 1));
    }
  }
  return samples;
}

/**
 * How many messages one batch needs to last about `ms` (so timer and scheduling noise stay small
 * against it), from the fastest of a few single calls.
 */
export async function batchSize(op, ms, cap = 200_000) {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await op();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.max(1, Math.min(cap, Math.round(ms / Math.max(best, 1e-4))));
}
