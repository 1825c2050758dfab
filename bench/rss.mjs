// Peak RSS of streaming 1 GiB (BENCH_RSS_MIB) of generated data through enseal's Web streams
// (64 KiB pieces) into a sink that discards it: `encryptStream`, and `encryptStream` piped into
// `decryptStream`, each without and with a worker pool (`workers: 2`). Target: < 100 MiB peak,
// with and without workers. Run by bench/run.mjs.
//
// Each case runs in a fresh process (a peak never goes down): without arguments this script
// spawns itself once per case and exits non-zero when a 1 GiB case reaches 100 MiB.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const GiB = 1 << 30;
const TOTAL = Number(process.env.BENCH_RSS_MIB ?? 1024) * (1 << 20);
const CASES = ['encrypt', 'encrypt, workers: 2', 'encrypt | decrypt', 'encrypt | decrypt, workers: 2'];

/** Peak RSS in MiB. Linux keeps getrusage's maxRSS across exec (it would report the parent's peak),
 * so prefer /proc/self/status VmHWM, which belongs to this process image. */
function peakMiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}

const which = process.argv[2];
if (which === undefined) {
  let failed = false;
  console.log(`\nPeak RSS, ${TOTAL / GiB} GiB streamed (64 KiB pieces, Web streams), node ${process.version}; target < 100 MiB`);
  for (let i = 0; i < CASES.length; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(i)], { stdio: 'inherit' });
    if (r.status !== 0) failed = true;
  }
  if (failed) process.exitCode = 1;
} else {
  const name = CASES[Number(which)];
  const { aesKey, decryptStream, encrypt, encryptStream } = await import('../dist/index.js');
  const workers = name.includes('workers') ? { workers: 2 } : {};
  const PIECE = 64 * 1024;
  const source = randomBytes(1 << 20); // pieces are slices of this, so generation allocates nothing
  const key = aesKey({ id: 'rss', key: randomBytes(32) });
  const before = peakMiB();
  // With workers: start the shared pool first (a 1-byte message), so the threads' own footprint
  // (an isolate each) shows apart from what streaming adds.
  if (name.includes('workers')) await encrypt(new Uint8Array(1), { recipients: [key], ...workers });
  const threads = peakMiB();
  let produced = 0;
  let written = 0;
  const started = performance.now();
  let s = new ReadableStream({
    pull(c) {
      if (produced >= TOTAL) return c.close();
      const off = (produced / PIECE) % 16;
      c.enqueue(source.subarray(off * PIECE, off * PIECE + PIECE));
      produced += PIECE;
    },
  }).pipeThrough(encryptStream({ recipients: [key], ...workers }));
  if (name.includes('decrypt')) s = s.pipeThrough(decryptStream({ keys: [key], ...workers }));
  await s.pipeTo(new WritableStream({ write(chunk) { written += chunk.length; } }));
  const seconds = (performance.now() - started) / 1000;
  const peak = peakMiB();
  console.log(
    `  ${name.padEnd(30)} ${written} bytes out in ${seconds.toFixed(2)} s (${(TOTAL / 1e6 / seconds).toFixed(0)} MB/s); ` +
      `peak RSS ${peak.toFixed(1)} MiB (after start-up: ${before.toFixed(1)} MiB${name.includes('workers') ? `; pool threads started: ${threads.toFixed(1)} MiB` : ''})${TOTAL === GiB && peak >= 100 ? '  OVER TARGET' : ''}`,
  );
  if (TOTAL === GiB && peak >= 100) process.exitCode = 1;
}
