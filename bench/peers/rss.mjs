// Peak RSS of one contender stream-encrypting generated data, in a process of its own.
// Usage: node bench/peers/rss.mjs <contender-id> <MiB>   (spawned by bench/peers/run.mjs)
// Prints one line: RSS {"id","peakMiB","startMiB","bytesOut","seconds"}.
import { readFileSync } from 'node:fs';
import { ensealBackends, registry, workersSupported } from './contenders.mjs';
import { counter, generated } from './io.mjs';

/** Peak RSS of this process image in MiB: VmHWM (getrusage's maxRSS survives exec on Linux). */
function peakMiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}

const [id, mib] = process.argv.slice(2);
const total = Number(mib) * (1 << 20);
if (!id || !(total > 0)) throw new RangeError('usage: rss.mjs <contender-id> <MiB>');
const make = registry(await ensealBackends(), await workersSupported()).get(id);
if (make === undefined) throw new RangeError(`unknown contender ${id}`);
const c = await make();
if (c.na !== undefined || c.stream === undefined) throw new Error(`${id} has no stream to measure`);
const start = peakMiB();
const out = counter();
const t0 = performance.now();
await c.stream.enc(generated(total), out.sink);
const seconds = (performance.now() - t0) / 1000;
await c.close?.();
console.log(`RSS ${JSON.stringify({ id, peakMiB: peakMiB(), startMiB: start, bytesOut: out.n, seconds })}`);
