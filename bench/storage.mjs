#!/usr/bin/env node
// Object-storage benchmark (tinybench), on dist/ (run `npm run build` first):
//
// 1. Checks first that the contenders agree: what the encrypting bucket returns equals the
//    plaintext, and what the bare store returns equals what was stored.
// 2. Times upload and download of BENCH_MIB (default 32) MiB through memoryStore and fsStore,
//    bare vs through encryptedBucket, interleaved in the same run; prints MB/s (median) and the
//    ratio encrypted / bare (issue 7 target: ≥ 0.8×).
// 3. Bytes moved and requests made by a 1 KiB ranged read of a 1 GiB object whose ciphertext a
//    memory store computes on demand (targets: < 64 KiB, ≤ 2 requests).
//
// Machines here are shared and noisy: compare ratios, not absolute numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { aesKey } from '../dist/index.js';
import { encryptedBucket, OBJECT_KEY_CONTEXT } from '../dist/storage.js';
import { memoryStore } from '../dist/storage/memory.js';
import { fsStore } from '../dist/storage/fs.js';
// Internal modules, for the computed 1 GiB object only.
import { sealHeader } from '../dist/envelope/options.js';
import { getBackend } from '../dist/backends/select.js';
import { COBBLESTONE_256, CHUNK_SIZE, SALT_LENGTH, SEALED_CHUNK_SIZE, deriveMessageKeys, sealedSize } from '../dist/format/cobblestone.js';

const MiB = 1 << 20;
const SIZE = Number(process.env.BENCH_MIB ?? 32) * MiB;
const key = aesKey({ id: 'bench', key: randomBytes(32) });
const plaintext = new Uint8Array(randomBytes(SIZE));
const collect = async (s) => new Uint8Array(await new Response(s).arrayBuffer());
const same = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

const dir = mkdtempSync(join(tmpdir(), 'enseal-bench-storage-'));
const stores = [
  ['memoryStore', memoryStore({ multipart: { minPartSize: 5 * MiB } })],
  ['fsStore', fsStore(dir)],
];

const rows = [];
try {
  for (const [name, store] of stores) {
    const bucket = encryptedBucket(store, { recipients: [key], keys: [key], partSize: 8 * MiB, concurrency: 4 });
    await store.put('bare', plaintext);
    await bucket.putObject('enc', plaintext);
    if (!same(await collect((await store.get('bare')).body), plaintext)) throw new Error(`${name}: bare round trip differs`);
    if (!same(await collect((await bucket.getObject('enc')).body), plaintext)) throw new Error(`${name}: encrypted round trip differs`);

    const bench = new Bench({ time: 2000, iterations: 3, warmup: true });
    bench
      .add(`${name} upload bare`, async () => void (await store.put('bare', plaintext)))
      .add(`${name} upload encrypted`, async () => void (await bucket.putObject('enc', plaintext)))
      .add(`${name} download bare`, async () => void (await collect((await store.get('bare')).body)))
      .add(`${name} download encrypted`, async () => void (await collect((await bucket.getObject('enc')).body)));
    await bench.run();
    const mbps = (t) => SIZE / MiB / ((t.result?.latency?.p50 ?? t.result?.period ?? NaN) / 1000);
    const by = Object.fromEntries(bench.tasks.map((t) => [t.name, mbps(t)]));
    for (const op of ['upload', 'download']) {
      const bare = by[`${name} ${op} bare`];
      const enc = by[`${name} ${op} encrypted`];
      rows.push({ store: name, op, 'bare MB/s': bare.toFixed(0), 'encrypted MB/s': enc.toFixed(0), ratio: `${(enc / bare).toFixed(2)}×` });
    }
  }
  console.log(`\nupload/download of ${SIZE / MiB} MiB (median of runs), encrypted vs bare, same run:`);
  console.table(rows);

  // A 1 KiB ranged read of a 1 GiB object computed on demand.
  const backend = getBackend('node');
  const objectKey = 'huge';
  const size = 1024 ** 3;
  const { header, bound, dataKey } = await sealHeader({ recipients: [key], context: { [OBJECT_KEY_CONTEXT]: objectKey } }, backend);
  const salt = backend.randomBytes(SALT_LENGTH);
  const { cipher, commitment } = await deriveMessageKeys(backend, COBBLESTONE_256, dataKey, salt, bound);
  dataKey.fill(0);
  const prefix = new Uint8Array([...header, ...salt, ...commitment]);
  const last = size / CHUNK_SIZE;
  const mem = memoryStore();
  mem.putComputed(objectKey, {
    size: header.length + sealedSize(size),
    async read(start, end) {
      const out = new Uint8Array(end - start);
      for (let pos = start; pos < end; ) {
        if (pos < prefix.length) {
          const n = Math.min(end, prefix.length) - pos;
          out.set(prefix.subarray(pos, pos + n), pos - start);
          pos += n;
          continue;
        }
        const i = Math.floor((pos - prefix.length) / SEALED_CHUNK_SIZE);
        const at = prefix.length + i * SEALED_CHUNK_SIZE;
        const sealed = await cipher.seal(i, new Uint8Array(i === last ? 0 : CHUNK_SIZE));
        const n = Math.min(end, at + sealed.length) - pos;
        out.set(sealed.subarray(pos - at, pos - at + n), pos - start);
        pos += n;
      }
      return out;
    },
  });
  const reader = encryptedBucket(mem, { keys: [key] });
  mem.resetStats();
  const start = 700 * MiB + 12345;
  const got = await reader.getObject(objectKey, { range: { start, end: start + 1023 } });
  const bytes = await collect(got.body);
  console.log(
    `\n1 KiB ranged read of a 1 GiB object: ${bytes.length} plaintext bytes, ${mem.stats.bytesOut} bytes moved, ${mem.stats.requests} requests` +
      ` (targets: < 65536 bytes, ≤ 2 requests)`,
  );
  cipher.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
