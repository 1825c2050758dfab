#!/usr/bin/env node
// Integrity in the same pass (src/integrity/), run by `npm run bench` after the build (dist/).
// Checks first that every path gives the same digests as node:crypto (MD5, SHA-256) and as the
// TypeScript CRC-64 (itself checked bit by bit in test/integrity.test.ts), then times, in
// interleaved rounds (median; the VM is shared: compare ratios):
//   - each checksum alone on 64 KiB pieces (CRC-64 on the WASM core and in TypeScript, MD5, SHA-256);
//   - the same through checksumStream (the pass-through tap), and a bare TransformStream that only
//     forwards the pieces (the cost of the stream machinery itself);
//   - encryptStream alone, and with integrity: ciphertext CRC-64 + MD5 in the same pass.
// "Extra" = (tap − bare stream − checksum alone) / checksum alone: what the tap adds over
// computing the checksum by itself (target ≤ 10%).
import { createHash, randomBytes } from 'node:crypto';
import { aesKey, checksumStream, Crc64, createChecksummer, createCrc64, encryptStream, integrityCheck, ready } from '../dist/index.js';

const MiB = 1 << 20;
const SIZE = Number(process.env.BENCH_INTEGRITY_MIB ?? 16) * MiB;
const PIECE = 64 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

await ready();
const data = randomBytes(SIZE);
const pieces = Array.from({ length: SIZE / PIECE }, (_, i) => data.subarray(i * PIECE, (i + 1) * PIECE));
const source = () => {
  let i = 0;
  return new ReadableStream({ pull: (c) => (i < pieces.length ? c.enqueue(pieces[i++]) : c.close()) }, { highWaterMark: 0 });
};
const sink = () => new WritableStream({ write() {} });

// --- Identical digests. ------------------------------------------------------------------------
const want = { md5: createHash('md5').update(data).digest('base64'), sha256: createHash('sha256').update(data).digest('hex'), crc64: new Crc64('js').update(data).digest().toString() };
const alone = await createChecksummer({ crc64: true, md5: true, sha256: true });
for (const p of pieces) alone.update(p);
const a = alone.digest();
const tap = checksumStream({ crc64: true, md5: true, sha256: true });
await source().pipeThrough(tap).pipeTo(sink());
const t = await tap.digests;
for (const k of ['md5', 'sha256', 'crc64']) {
  if (a[k] !== want[k]) throw new Error(`checksummer ${k} differs`);
  if (t[k] !== want[k]) throw new Error(`checksumStream ${k} differs`);
}
if ((await createCrc64()).engine !== 'wasm') throw new Error('the WASM CRC-64 is not in use');
console.log(`integrity: digests identical to node:crypto and the TypeScript CRC-64 (${SIZE / MiB} MiB)`);

// --- Timing. -----------------------------------------------------------------------------------
const key = aesKey({ id: 'b', key: randomBytes(32) });
const only = (spec) => async () => {
  const c = await createChecksummer(spec);
  for (const p of pieces) c.update(p);
  c.digest();
};
const tapped = (spec) => async () => {
  const s = checksumStream(spec);
  await source().pipeThrough(s).pipeTo(sink());
  await s.digests;
};
const contenders = {
  'bare TransformStream': async () => source().pipeThrough(new TransformStream()).pipeTo(sink()),
  'crc64 wasm alone': only({ crc64: true }),
  'crc64 js alone': async () => {
    const c = new Crc64('js');
    for (const p of pieces) c.update(p);
    c.digest();
  },
  'crc64 tap': tapped({ crc64: true }),
  'md5 alone': only({ md5: true }),
  'md5 tap': tapped({ md5: true }),
  'sha256 alone': only({ sha256: true }),
  'sha256 tap': tapped({ sha256: true }),
  'crc64+md5 alone': only({ crc64: true, md5: true }),
  'crc64+md5 tap': tapped({ crc64: true, md5: true }),
  'encryptStream': async () => source().pipeThrough(encryptStream({ recipients: [key] })).pipeTo(sink()),
  'encryptStream + ciphertext crc64+md5': async () => {
    const check = integrityCheck({ ciphertext: { crc64: true, md5: true } });
    await source().pipeThrough(encryptStream({ recipients: [key], integrity: check })).pipeTo(sink());
    await check.digests;
  },
};
const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of Object.entries(contenders)) {
    const t0 = performance.now();
    await f();
    times[name].push(performance.now() - t0);
  }
}
// The fastest round estimates the unloaded cost best on a shared machine; the median is shown too.
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.min(...v)]));
const mbs = (t, k) => (SIZE / MiB / (t[k] / 1000)).toFixed(0);
console.log(`\n| contender (${SIZE / MiB} MiB, 64 KiB pieces, ${ROUNDS} rounds) | MB/s (fastest) | MB/s (median) |\n|---|---:|---:|`);
for (const k of Object.keys(contenders)) console.log(`| ${k} | ${mbs(ms, k)} | ${mbs(med, k)} |`);
console.log('\n| checksum (fastest rounds) | tap / alone | extra over alone (minus the bare stream) |\n|---|---:|---:|');
for (const c of ['crc64', 'md5', 'sha256', 'crc64+md5']) {
  const al = c === 'crc64' ? ms['crc64 wasm alone'] : ms[`${c} alone`];
  const tp = ms[`${c} tap`];
  console.log(`| ${c} | ${(tp / al).toFixed(2)} | ${(((tp - ms['bare TransformStream'] - al) / al) * 100).toFixed(1)}% |`);
}
const enc = ms['encryptStream'];
const encI = ms['encryptStream + ciphertext crc64+md5'];
console.log(`\nencryptStream with ciphertext crc64+md5: ${((encI / enc - 1) * 100).toFixed(1)}% slower than encryptStream; the checksums alone cost ${((ms['crc64+md5 alone'] / enc) * 100).toFixed(1)}% of it, so the same-pass extra is ${(((encI - enc - ms['crc64+md5 alone']) / ms['crc64+md5 alone']) * 100).toFixed(1)}% of the checksum alone`);
