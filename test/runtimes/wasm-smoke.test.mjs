// The WASM core in real runtimes, run unchanged by Node (`node --test`), Bun (`bun test`) and Deno
// (`deno test -A --no-check`) from test/wasm-runtimes.test.ts: only node:test and node:assert,
// against the built package (dist/). Known answers (kat.json), Wycheproof AES-GCM with 96-bit IVs,
// the enseal-v1 vectors on backend 'wasm', byte equality with the webcrypto backend, CTR wraps,
// streams and ranged reads on wasm, integrity in the same pass (CRC-64 on the WASM core), the
// runtime's 'auto' backend, and ERR_UNSUPPORTED (never a crash) for what a backend cannot do.
import assert from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  aesKey, checksumStream, Crc64, crc64, createCrc64, decrypt, decryptRange, decryptStream, encrypt, encryptStream,
  getBackend, integrityCheck, openReader, ready, wasmSync,
} from '../../dist/index.js';
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

const bytesOf = async (readable) => new Uint8Array(await new Response(readable).arrayBuffer());
const streamOf = (bytes, step) => new ReadableStream({
  start(c) {
    for (let off = 0; off < bytes.length; off += step) c.enqueue(bytes.slice(off, off + step));
    c.close();
  },
});

test("streams and ranged reads on backend 'wasm', readable by webcrypto", async () => {
  const key = aesKey({ id: 's', key: crypto.getRandomValues(new Uint8Array(32)) });
  const plain = crypto.getRandomValues(new Uint8Array(3 * 16384 + 77));
  const sealed = await bytesOf(streamOf(plain, 5000).pipeThrough(encryptStream({ recipients: [key], backend: 'wasm' })));
  assert.strictEqual(toHex(await decrypt(sealed, { keys: [key], backend: 'webcrypto' })), toHex(plain));
  assert.strictEqual(toHex(await bytesOf(streamOf(sealed, 4099).pipeThrough(decryptStream({ keys: [key], backend: 'wasm' })))), toHex(plain));
  const source = { size: sealed.length, read: async (o, n) => sealed.slice(o, o + n) };
  assert.strictEqual(toHex(await decryptRange(source, { start: 16380, end: 32800 }, { keys: [key], backend: 'wasm' })), toHex(plain.subarray(16380, 32801)));
  const reader = await openReader(source, { keys: [key], backend: 'wasm' });
  assert.strictEqual(toHex(await reader.read({ start: plain.length - 1, end: plain.length - 1 })), toHex(plain.subarray(-1)));
  const bad = sealed.slice();
  bad[bad.length - 40] ^= 1;
  await assert.rejects(bytesOf(streamOf(bad, 7000).pipeThrough(decryptStream({ keys: [key], backend: 'wasm' }))), (e) => e.code === 'ERR_AUTH');
});

test('integrity in the same pass: CRC-64/XZ on the WASM core, MD5, SHA-256', async () => {
  assert.strictEqual((await createCrc64()).engine, 'wasm');
  assert.strictEqual(crc64(new TextEncoder().encode('123456789')), 0x995dc9bbdf1939fan);
  const data = new Uint8Array(100_000);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const tap = checksumStream({ crc64: true, md5: true, sha256: true });
  assert.strictEqual(toHex(await bytesOf(streamOf(data, 6000).pipeThrough(tap))), toHex(data));
  const d = await tap.digests;
  assert.strictEqual(d.crc64, new Crc64('js').update(data).digest().toString());
  assert.strictEqual(d.sha256, toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data))));
  const abc = checksumStream({ md5: true });
  await bytesOf(streamOf(new TextEncoder().encode('abc'), 1).pipeThrough(abc));
  assert.strictEqual((await abc.digests).md5, 'kAFQmDzST7DWlj99KOF/cg=='); // RFC 1321 A.5
  const key = aesKey({ id: 'i', key: crypto.getRandomValues(new Uint8Array(32)) });
  const check = integrityCheck({ plaintext: { sha256: true }, ciphertext: { crc64: true } });
  const sealed = await bytesOf(streamOf(data, 9000).pipeThrough(encryptStream({ recipients: [key], backend: 'wasm', integrity: check })));
  const both = await check.digests;
  assert.strictEqual(both.plaintext.sha256, d.sha256);
  assert.strictEqual(both.ciphertext.crc64, crc64(sealed).toString());
});

test("'auto' is the measured backend of this runtime; what a backend lacks is ERR_UNSUPPORTED", async () => {
  assert.strictEqual(getBackend().name, runtime === 'deno' ? 'webcrypto' : 'node');
  assert.strictEqual(getBackend('auto'), getBackend());
  const pair = await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
  const web = getBackend('webcrypto');
  const k = await web.importRsaKey(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)), 'private');
  await assert.rejects(web.rsaRawDecrypt(k, new Uint8Array(256).fill(1)), (e) => e.code === 'ERR_UNSUPPORTED');
  await assert.rejects(web.rsaImplicitRejectionKey(k), (e) => e.code === 'ERR_UNSUPPORTED');
});
