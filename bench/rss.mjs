// Stream-encrypts 1 GiB of generated data (Web streams, 64 KiB pieces) into a sink that discards it,
// then prints the process's peak RSS. Run by bench/run.mjs in a fresh process.
import { randomBytes } from 'node:crypto';
import { aesKey, encryptStream } from '../dist/index.js';

const GiB = 1 << 30;
const TOTAL = Number(process.env.BENCH_RSS_MIB ?? 1024) * (1 << 20);
const PIECE = 64 * 1024;
const pool = randomBytes(1 << 20); // pieces are slices of this, so generation allocates nothing
const key = aesKey({ id: 'rss', key: randomBytes(32) });
import { readFileSync } from 'node:fs';

/** Peak RSS in MiB. Linux keeps getrusage's maxRSS across exec (it would report the parent's peak),
 * so prefer /proc/self/status VmHWM, which belongs to this process image. */
function peakMiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}
const before = peakMiB();
let produced = 0;
let written = 0;
const started = performance.now();
await new ReadableStream({
  pull(c) {
    if (produced >= TOTAL) return c.close();
    const off = (produced / PIECE) % 16;
    c.enqueue(pool.subarray(off * PIECE, off * PIECE + PIECE));
    produced += PIECE;
  },
})
  .pipeThrough(encryptStream({ recipients: [key] }))
  .pipeTo(new WritableStream({ write(chunk) { written += chunk.length; } }));
const seconds = (performance.now() - started) / 1000;
const peak = peakMiB();
console.log(
  `\n${TOTAL / GiB} GiB stream encryption: ${written} bytes out in ${seconds.toFixed(2)} s (${(TOTAL / 1e6 / seconds).toFixed(0)} MB/s); ` +
    `peak RSS ${peak.toFixed(1)} MiB (after start-up: ${before.toFixed(1)} MiB); target < 100 MiB`,
);
if (TOTAL === GiB && peak >= 100) process.exitCode = 1;
