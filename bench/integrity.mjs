#!/usr/bin/env node
// Integrity in the same pass (src/integrity/), run by `npm run bench` after the build (dist/).
// Checks first that every path gives the same digests as node:crypto (MD5, SHA-256) and as the
// TypeScript CRC-64 (itself checked bit by bit in test/integrity.test.ts), then times, in
// interleaved rounds (order rotated per round; medians; ratios taken within a round, then their
// median: the VM is shared, so compare ratios, not MB/s):
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

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
const names = Object.keys(contenders);
const times = Object.fromEntries(names.map((k) => [k, []]));
// One warm-up round, then ROUNDS rounds; each round runs every contender once, in an order rotated
// from round to round (so no contender always follows the same neighbour or GC debt).
for (let r = 0; r <= ROUNDS; r++) {
  const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
  for (const name of order) {
    const t0 = performance.now();
    await contenders[name]();
    if (r > 0) times[name].push(performance.now() - t0);
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
// Ratios are taken within each round (both sides measured seconds apart, under the same load),
// then their median over the rounds: steadier on a shared machine than a ratio of medians.
const perRound = (f) => median(times[names[0]].map((_, r) => f((k) => times[k][r])));
const med = Object.fromEntries(names.map((k) => [k, median(times[k])]));
const ms = Object.fromEntries(names.map((k) => [k, Math.min(...times[k])]));
const mbs = (t, k) => (SIZE / MiB / (t[k] / 1000)).toFixed(0);
console.log(`\n| contender (${SIZE / MiB} MiB, 64 KiB pieces, ${ROUNDS} rounds) | MB/s (median) | MB/s (fastest) |\n|---|---:|---:|`);
for (const k of names) console.log(`| ${k} | ${mbs(med, k)} | ${mbs(ms, k)} |`);
console.log('\n| checksum (median over rounds of the same-round ratio) | tap / alone | extra over alone (tap − bare stream − alone) / alone |\n|---|---:|---:|');
for (const c of ['crc64', 'md5', 'sha256', 'crc64+md5']) {
  const al = c === 'crc64' ? 'crc64 wasm alone' : `${c} alone`;
  const tp = `${c} tap`;
  const ratio = perRound((t) => t(tp) / t(al));
  const extra = perRound((t) => (t(tp) - t('bare TransformStream') - t(al)) / t(al));
  console.log(`| ${c} | ${ratio.toFixed(3)} | ${(extra * 100).toFixed(1)}% |`);
}
const enc = 'encryptStream';
const encI = 'encryptStream + ciphertext crc64+md5';
const slower = perRound((t) => t(encI) / t(enc) - 1);
const share = perRound((t) => t('crc64+md5 alone') / t(enc));
const extra = perRound((t) => (t(encI) - t(enc) - t('crc64+md5 alone')) / t('crc64+md5 alone'));
console.log(`\nencryptStream with ciphertext crc64+md5 (medians of same-round ratios): ${(slower * 100).toFixed(1)}% slower than encryptStream; the checksums alone cost ${(share * 100).toFixed(1)}% of it, so the same-pass extra is ${(extra * 100).toFixed(1)}% of the checksum alone`);
