// Real-runtime smoke test, run unchanged by Node (`node --test`), Bun (`bun test`) and Deno
// (`deno test -A --no-check`) from test/runtimes.test.ts: only node:test and node:assert, against
// the built package (dist/). It checks byte compatibility (our published vectors decrypt),
// every available backend, streams, ranged reads, and the WASM KDF.
import assert from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  aesKey,
  availableBackends,
  decrypt,
  decryptRange,
  decryptStream,
  encrypt,
  encryptStream,
  passphrase,
} from '../../dist/index.js';
import { open as chunkedOpen } from '../../dist/chunked.js';

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const vectors = JSON.parse(readFileSync(new URL('../vectors/enseal-v1.json', import.meta.url), 'utf8'));

async function pipe(ts, input, piece) {
  const out = [];
  const reading = (async () => {
    const r = ts.readable.getReader();
    for (;;) {
      const { done, value } = await r.read();
      if (done) return;
      out.push(value);
    }
  })();
  const w = ts.writable.getWriter();
  for (let o = 0; o < input.length; o += piece) await w.write(input.slice(o, o + piece));
  await w.close();
  await reading;
  const all = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of out) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

test('reports its runtime and backends', () => {
  const runtime = typeof globalThis.Deno !== 'undefined' ? 'deno' : typeof globalThis.Bun !== 'undefined' ? 'bun' : 'node';
  console.log(`runtime=${runtime} backends=${availableBackends().join(',')}`);
  assert.ok(availableBackends().includes('webcrypto'));
});

test('published enseal-v1 vectors decrypt on every backend', async () => {
  for (const backend of availableBackends()) {
    for (const v of vectors.positive) {
      const name = v.recipients[0];
      const key = aesKey({ id: vectors.keys[name].id, key: hex(vectors.keys[name].key) });
      const pt = await decrypt(hex(v.ciphertext), { keys: [key], backend });
      assert.deepStrictEqual(pt, hex(v.plaintext), `${backend}: ${v.name}`);
    }
  }
});

test('round trips: one-shot, streams, ranged reads, on every backend', async () => {
  const key = aesKey({ id: 'rt', key: crypto.getRandomValues(new Uint8Array(32)) });
  const plaintext = crypto.getRandomValues(new Uint8Array(60000));
  for (const backend of availableBackends()) {
    const sealed = await encrypt(plaintext, { recipients: [key], context: { rt: backend }, backend });
    assert.deepStrictEqual(await decrypt(sealed, { keys: [key], backend }), plaintext);
    const streamed = await pipe(encryptStream({ recipients: [key], backend }), plaintext, 7000);
    assert.deepStrictEqual(await pipe(decryptStream({ keys: [key], backend }), streamed, 9999), plaintext);
    const source = { size: sealed.length, read: async (o, n) => sealed.slice(o, o + n) };
    assert.deepStrictEqual(await decryptRange(source, { start: 16000, end: 33000 }, { keys: [key], backend }), plaintext.slice(16000, 33001));
    const tampered = sealed.slice();
    tampered[tampered.length - 20] ^= 1;
    await assert.rejects(decrypt(tampered, { keys: [key], backend }), (e) => e.code === 'ERR_AUTH');
  }
});

test('a view of a detached buffer is refused, never encrypted as empty (ArrayBuffer#detached where the runtime has it)', async () => {
  const key = aesKey({ id: 'det', key: crypto.getRandomValues(new Uint8Array(32)) });
  for (const backend of availableBackends()) {
    const u = crypto.getRandomValues(new Uint8Array(64));
    structuredClone(u.buffer, { transfer: [u.buffer] });
    await assert.rejects(encrypt(u, { recipients: [key], backend }), (e) => e instanceof TypeError && /detached/.test(e.message));
    const p = new Uint8Array(200000);
    const sealing = encrypt(p, { recipients: [key], backend });
    structuredClone(p.buffer, { transfer: [p.buffer] }); // while the call runs
    await sealing.then(
      async (sealed) => assert.strictEqual((await decrypt(sealed, { keys: [key] })).length, 200000), // read in full before it returned
      (e) => assert.strictEqual(e.code, 'ERR_STATE'),
    );
  }
});

test('C2SP payload layer: a Wycheproof-style known answer (enseal-v1 vector 2 payload)', async () => {
  // The payload of vector 2 is a plain Cobblestone-256 message keyed by its data key, with the
  // header's bound part as C2SP context (docs/FORMAT.md §2.3, §6).
  const v = vectors.positive[1];
  const ct = hex(v.ciphertext);
  const header = ct.subarray(0, v.headerLength);
  const bound = new Uint8Array([...header.subarray(0, 8), ...header.subarray(12, 47)]);
  const pt = await chunkedOpen(hex(v.dataKey), ct.subarray(v.headerLength), { context: bound });
  assert.strictEqual(new TextDecoder().decode(pt), 'hello, enseal');
});

test('passphrase provider (hash-wasm Argon2id) round trip', async () => {
  const p = passphrase({ passphrase: 'runtime', kdf: 'argon2id', params: { memoryKiB: 256, iterations: 1, parallelism: 1 } });
  const sealed = await encrypt(new Uint8Array([1, 2, 3]), { recipients: [p] });
  assert.deepStrictEqual(await decrypt(sealed, { keys: [p] }), new Uint8Array([1, 2, 3]));
});
