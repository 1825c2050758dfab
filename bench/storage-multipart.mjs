#!/usr/bin/env node
// Encrypted multipart upload to s3rver on 127.0.0.1: concurrency 4 vs sequential (concurrency 1),
// same run, on dist/ (run `npm run build` first).
//
// - s3rver runs in a child process (its own event loop and core), plain http on loopback, with
//   the S3 adapter opted in (`allowInsecureHttp: true`).
// - BENCH_MIB (default 256) MiB of random plaintext, 8 MiB parts (BENCH_PART_MIB), BENCH_ROUNDS
//   (default 3) interleaved rounds of sequential then parallel; prints MB/s of plaintext
//   (median of the rounds) and the ratio parallel / sequential.
// - First checks that both settings store objects that decrypt to the plaintext and that the
//   two stored objects have the same size (the layout does not depend on concurrency).
//
// The machines here are shared and noisy: compare the ratio, not the MB/s.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { aesKey } from '../dist/index.js';
import { encryptedBucket } from '../dist/storage.js';
import { s3Store } from '../dist/storage/s3.js';

const MiB = 1 << 20;
const SIZE = Number(process.env.BENCH_MIB ?? 256) * MiB;
const PART = Number(process.env.BENCH_PART_MIB ?? 8) * MiB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OBJECT = 'bench.bin'; // one key: it is bound into the header, so both layouts match
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Starts s3rver (bucket `b`, a temporary directory) in a child process; resolves its port. */
function startServer() {
  const source = `
    import S3rver from 's3rver';
    import { mkdtempSync, rmSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    const directory = mkdtempSync(join(tmpdir(), 'enseal-bench-s3rver-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'b' }] });
    const { port } = await server.run();
    process.stdout.write(port + '\\n');
    process.stdin.resume();
    process.stdin.on('end', async () => { await server.close(); rmSync(directory, { recursive: true, force: true }); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { cwd: new URL('..', import.meta.url), stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('s3rver did not start within 30 s')), 30_000);
    child.once('error', reject);
    child.stdout.once('data', (b) => {
      clearTimeout(timer);
      resolve({ port: Number(String(b).trim()), stop: () => new Promise((r) => (child.once('close', r), child.stdin.end())) });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const collect = async (s) => Buffer.from(await new Response(s).arrayBuffer());

const server = await startServer();
try {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${server.port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
  const key = aesKey({ id: 'bench', key: randomBytes(32) });
  const plaintext = new Uint8Array(randomBytes(SIZE));
  const buckets = {
    sequential: encryptedBucket(store, { recipients: [key], keys: [key], partSize: PART, concurrency: 1 }),
    'concurrency 4': encryptedBucket(store, { recipients: [key], keys: [key], partSize: PART, concurrency: 4 }),
  };

  // 1. Same output: both decrypt to the plaintext; same stored size and part count.
  const shape = {};
  for (const [name, bucket] of Object.entries(buckets)) {
    const r = await bucket.putObject(OBJECT, plaintext);
    shape[name] = `${r.storedSize}/${r.parts}`;
    const back = await collect((await bucket.getObject(OBJECT)).body);
    if (!back.equals(Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length))) throw new Error(`${name}: the stored object does not decrypt to the plaintext`);
    await store.delete(OBJECT);
  }
  if (shape.sequential !== shape['concurrency 4']) throw new Error(`stored layouts differ: ${JSON.stringify(shape)}`);

  // 2. Interleaved timed rounds.
  const rates = { sequential: [], 'concurrency 4': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, bucket] of Object.entries(buckets)) {
      const t0 = performance.now();
      await bucket.putObject(OBJECT, plaintext);
      const seconds = (performance.now() - t0) / 1000;
      rates[name].push(SIZE / 1e6 / seconds);
      await store.delete(OBJECT);
    }
  }
  const seq = median(rates.sequential);
  const par = median(rates['concurrency 4']);
  console.log(`\nencrypted multipart upload of ${SIZE / MiB} MiB to s3rver on 127.0.0.1 (${PART / MiB} MiB parts, ${shape.sequential.split('/')[1]} parts; median of ${ROUNDS} rounds):`);
  console.table([
    { upload: 'sequential (concurrency 1)', 'MB/s': seq.toFixed(1), runs: rates.sequential.map((x) => x.toFixed(1)).join(' ') },
    { upload: 'concurrency 4', 'MB/s': par.toFixed(1), runs: rates['concurrency 4'].map((x) => x.toFixed(1)).join(' ') },
  ]);
  console.log(`ratio concurrency 4 / sequential: ${(par / seq).toFixed(2)}×`);
} finally {
  await server.stop();
}
