// The WASM core in real runtimes, run unchanged by Node (`node --test`), Bun (`bun test`) and Deno
// (`deno test -A --no-check`) from test/wasm-runtimes.test.ts: only node:test and node:assert,
// against the built package (dist/). Known answers (kat.json), Wycheproof AES-GCM with 96-bit IVs,
// the enseal-v1 vectors on backend 'wasm', byte equality with the webcrypto backend, CTR wraps.
import assert from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { aesKey, decrypt, encrypt, getBackend, ready, wasmSync } from '../../dist/index.js';
import { open as chunkedOpen, seal as chunkedSeal } from '../../dist/chunked.js';

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const json = (p) => JSON.parse(readFileSync(new URL(`../vectors/${p}`, import.meta.url), 'utf8'));
const runtime = typeof Deno !== 'undefined' ? 'deno' : typeof Bun !== 'undefined' ? 'bun' : 'node';
console.log(`runtime=${runtime} wasm`);

test('kat.json AES-GCM (96-bit IVs) and AES-CTR through the synchronous API', async () => {
  await ready();
  const w = wasmSync();
  const kat = json('kat.json');
  for (const k of kat.aes_gcm.filter((k) => k.iv.length === 24)) {
    assert.strictEqual(toHex(w.gcmSeal(hex(k.key), hex(k.iv), hex(k.plaintext), hex(k.aad))), k.ciphertext + k.tag, k.id);
  }
  for (const k of kat.aes_ctr) assert.strictEqual(toHex(w.ctr(hex(k.key), hex(k.counterBlock), hex(k.plaintext))), k.ciphertext, k.id);
});

test('Wycheproof AES-GCM, every 96-bit IV case', async () => {
  await ready();
  const w = wasmSync();
  let n = 0;
  for (const g of json('wycheproof/aes_gcm_test.json').testGroups.filter((g) => g.ivSize === 96)) {
    for (const t of g.tests) {
      n++;
      const sealed = hex(t.ct + t.tag);
      if (t.result === 'valid') {
        assert.strictEqual(toHex(w.gcmSeal(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad))), t.ct + t.tag, `tc${t.tcId}`);
        assert.strictEqual(toHex(w.gcmOpen(hex(t.key), hex(t.iv), sealed, hex(t.aad))), t.msg, `tc${t.tcId}`);
      } else {
        assert.throws(() => w.gcmOpen(hex(t.key), hex(t.iv), sealed, hex(t.aad)), (e) => e.code === 'ERR_AUTH', `tc${t.tcId}`);
      }
    }
  }
  assert.strictEqual(n, 197);
});

test("enseal-v1 vectors and round trips on backend 'wasm'", async () => {
  const v = json('enseal-v1.json');
  for (const p of v.positive) {
    const k = v.keys[p.recipients[0]];
    const pt = await decrypt(hex(p.ciphertext), { keys: [aesKey({ id: k.id, key: hex(k.key) })], context: p.context, backend: 'wasm' });
    assert.strictEqual(toHex(pt), p.plaintext, p.name);
  }
  const key = aesKey({ id: 'r', key: crypto.getRandomValues(new Uint8Array(32)) });
  const plain = crypto.getRandomValues(new Uint8Array(60000));
  const sealed = await encrypt(plain, { recipients: [key], backend: 'wasm' });
  assert.strictEqual(toHex(await decrypt(sealed, { keys: [key], backend: 'webcrypto' })), toHex(plain));
  sealed[sealed.length - 1] ^= 1;
  await assert.rejects(decrypt(sealed, { keys: [key], backend: 'wasm' }), (e) => e.code === 'ERR_AUTH');
});

test('enseal/chunked on wasm gives the bytes of webcrypto; CTR across the 2^128 wrap', async () => {
  const ik = crypto.getRandomValues(new Uint8Array(32));
  const salt = crypto.getRandomValues(new Uint8Array(24));
  const plain = crypto.getRandomValues(new Uint8Array(3 * 16384 + 5));
  const a = await chunkedSeal(ik, plain, { salt, backend: 'wasm' });
  assert.strictEqual(toHex(a), toHex(await chunkedSeal(ik, plain, { salt, backend: 'webcrypto' })));
  assert.strictEqual(toHex(await chunkedOpen(ik, a, { backend: 'wasm' })), toHex(plain));
  const key = crypto.getRandomValues(new Uint8Array(32));
  const counter = new Uint8Array(16).fill(0xff);
  counter[15] = 0xfe;
  const data = crypto.getRandomValues(new Uint8Array(100));
  const b = getBackend('webcrypto');
  assert.strictEqual(toHex(await getBackend('wasm').aesCtr(key, counter, data)), toHex(await b.aesCtr(key, counter, data)));
});
