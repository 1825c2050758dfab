#!/usr/bin/env node
// Per-message cost (tinybench): 1 KiB `encrypt` / `decrypt` with one aesKey recipient, on every
// backend, against one raw node:crypto AES-256-GCM call over the same 1 KiB (createCipheriv,
// update, final, getAuthTag), measured in the same run. Run by `npm run bench` (after a build).
//
// 1. Checks first that every backend's output decrypts on every backend, to the same plaintext.
// 2. Interleaved rounds: each round runs every task for a fixed number of calls (tinybench, in a
//    rotated order); the µs per message is the median over the rounds of each round's mean.
//
// 3. "floor" rows: the primitives one message needs and nothing else, measured in the same run —
//    the data-key wrap (AES-256-GCM of 32 bytes with the stanza's AAD) and the payload chunk
//    (AES-256-GCM of the plaintext) as raw node:crypto calls, plus the message's HMAC-SHA-2 work
//    (FORMAT.md §2.4 and C2SP key derivation: HKDF-Expand-SHA-512 to 32 bytes for the header
//    MAC key, HMAC-SHA-256 over the header, HKDF-Expand-SHA-512 to 76 bytes for the payload keys,
//    one HMAC-SHA-512 keying) either on enseal's SHA-2 module (what the node and webcrypto backends
//    use) or as eight node:crypto one-shot hashes (two per HMAC, the padded key blocks reused);
//    and for WebCrypto the three platform calls of a message (wrap/unwrap, payload key import,
//    payload seal/open) as they can at best be ordered.
//
// Environment: BENCH_MSG_ROUNDS (default 15), BENCH_MSG_BYTES (default 1024).
// The machine is shared and noisy: compare ratios, not absolute numbers.
import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { aesKey, availableBackends, decrypt, encrypt } from '../dist/index.js';
import { wasmSha2Hmac } from '../dist/backends/wasm-sha2.js'; // internal: the floor rows only

const BYTES = Number(process.env.BENCH_MSG_BYTES ?? 1024);
const ROUNDS = Number(process.env.BENCH_MSG_ROUNDS ?? 15);
const plaintext = randomBytes(BYTES);
const recipient = aesKey({ id: 'bench-messages', key: randomBytes(32) });
const rawKey = randomBytes(32);
const rawNonce = randomBytes(12);
const backends = availableBackends();

// --- 1. Round trips before timing. ---------------------------------------------------------------
const sealed = {};
for (const b of backends) sealed[b] = await encrypt(plaintext, { recipients: [recipient], backend: b });
for (const from of backends) {
  for (const to of backends) {
    const back = await decrypt(sealed[from], { keys: [recipient], backend: to });
    if (!Buffer.from(back).equals(plaintext)) throw new Error(`${from} → ${to}: round trip mismatch`);
  }
}
const rawSealed = (() => {
  const c = createCipheriv('aes-256-gcm', rawKey, rawNonce);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
})();
console.log(`outputs checked: ${BYTES}-byte messages round-trip across ${backends.join(', ')}`);

// --- 2. Timing. ------------------------------------------------------------------------------------------
const tasks = {
  'raw node:crypto GCM seal (one call)': {
    calls: 2000,
    fn: () => {
      const c = createCipheriv('aes-256-gcm', rawKey, rawNonce);
      c.update(plaintext);
      c.final();
      c.getAuthTag();
    },
  },
  'raw node:crypto GCM open (one call)': {
    calls: 2000,
    fn: () => {
      const d = createDecipheriv('aes-256-gcm', rawKey, rawNonce);
      d.setAuthTag(rawSealed.subarray(BYTES));
      d.update(rawSealed.subarray(0, BYTES));
      d.final();
    },
  },
};
// --- 3. Floors: the primitives of one message, sizes as in the messages above. ----------------------
const sealedHeader = sealed.node.subarray(0, sealed.node.length - (56 + BYTES + 16));
const macInput = sealedHeader.subarray(0, sealedHeader.length - 32); // the header bytes the mac covers
const dataKey = randomBytes(32);
const wrapNonce = randomBytes(12);
const wrapAad = randomBytes(20 + 3 + 14 + 10); // label, 0x00, u16 length, key id, bound part
const macInfo = Buffer.from('enseal/v1 header-mac');
const payloadInfo = randomBytes(31 + 16 + 1 + 24 + 10); // prefix, aead, 0x00, salt, bound part
const wrapped = (() => {
  const c = createCipheriv('aes-256-gcm', rawKey, wrapNonce);
  c.setAAD(wrapAad);
  return Buffer.concat([c.update(dataKey), c.final(), c.getAuthTag()]);
})();
const sha2 = wasmSha2Hmac();
if (sha2 === undefined) throw new Error('the SHA-2 module does not run here');
const sha2Chain = () => {
  const keyed = sha2('SHA-512', dataKey);
  const macKey = keyed.expand(macInfo, 32);
  const mac = sha2('SHA-256', macKey);
  mac.mac(macInput);
  mac.dispose();
  keyed.expand(payloadInfo, 76);
  keyed.dispose();
};
const hmacOneShot = (id, block, key, data) => {
  const inner = Buffer.alloc(block + data.length, 0x36);
  const outer = Buffer.alloc(block + (id === 'sha512' ? 64 : 32), 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] ^= key[i];
    outer[i] ^= key[i];
  }
  inner.set(data, block);
  outer.set(hash(id, inner, 'buffer'), block);
  return hash(id, outer, 'buffer');
};
const hashChain = () => {
  const t1 = hmacOneShot('sha512', 128, dataKey, Buffer.concat([macInfo, Buffer.of(1)]));
  hmacOneShot('sha256', 64, t1.subarray(0, 32), macInput);
  const p1 = hmacOneShot('sha512', 128, dataKey, Buffer.concat([payloadInfo, Buffer.of(1)]));
  hmacOneShot('sha512', 128, dataKey, Buffer.concat([p1, payloadInfo, Buffer.of(2)]));
};
const gcmSeals = () => {
  const w = createCipheriv('aes-256-gcm', rawKey, wrapNonce);
  w.setAAD(wrapAad);
  w.update(dataKey);
  w.final();
  w.getAuthTag();
  const c = createCipheriv('aes-256-gcm', rawKey, rawNonce);
  c.update(plaintext);
  c.final();
  c.getAuthTag();
};
const gcmOpens = () => {
  const w = createDecipheriv('aes-256-gcm', rawKey, wrapNonce);
  w.setAAD(wrapAad);
  w.setAuthTag(wrapped.subarray(32));
  w.update(wrapped.subarray(0, 32));
  w.final();
  const d = createDecipheriv('aes-256-gcm', rawKey, rawNonce);
  d.setAuthTag(rawSealed.subarray(BYTES));
  d.update(rawSealed.subarray(0, BYTES));
  d.final();
};
tasks['floor encrypt: 2 GCM + SHA-2 module'] = { calls: 2000, fn: () => (gcmSeals(), sha2Chain()) };
tasks['floor decrypt: 2 GCM + SHA-2 module'] = { calls: 2000, fn: () => (gcmOpens(), sha2Chain()) };
tasks['floor encrypt: 2 GCM + 8 node hashes'] = { calls: 2000, fn: () => (gcmSeals(), hashChain()) };
// WebCrypto: the platform calls a message cannot avoid — encrypt: the wrap (KEK imported once)
// alongside the payload key import then the payload seal; decrypt: unwrap, then import, then open
// (each needs the one before). The SHA-2 work is a few µs on top (rows above).
const subtle = globalThis.crypto?.subtle;
if (subtle !== undefined) {
  const kek = await subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const gcm = (iv, additionalData) => (additionalData === undefined ? { name: 'AES-GCM', iv } : { name: 'AES-GCM', iv, additionalData });
  const payloadKey = () => subtle.importKey('raw', dataKey, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const webSealed = new Uint8Array(await subtle.encrypt(gcm(rawNonce), await payloadKey(), plaintext));
  const webWrapped = new Uint8Array(await subtle.encrypt(gcm(wrapNonce, wrapAad), kek, dataKey));
  tasks['floor encrypt webcrypto: 3 calls (2 in parallel)'] = {
    calls: 200,
    async: true,
    fn: () => Promise.all([subtle.encrypt(gcm(wrapNonce, wrapAad), kek, dataKey), payloadKey().then((k) => subtle.encrypt(gcm(rawNonce), k, plaintext))]),
  };
  tasks['floor decrypt webcrypto: 3 calls in sequence'] = {
    calls: 200,
    async: true,
    fn: async () => {
      await subtle.decrypt(gcm(wrapNonce, wrapAad), kek, webWrapped);
      await subtle.decrypt(gcm(rawNonce), await payloadKey(), webSealed);
    },
  };
}

for (const b of backends) {
  const calls = b === 'node' ? 2000 : 200;
  tasks[`encrypt ${b}`] = { calls, fn: () => encrypt(plaintext, { recipients: [recipient], backend: b }), async: true };
  tasks[`decrypt ${b}`] = { calls, fn: () => decrypt(sealed[b], { keys: [recipient], backend: b }), async: true };
}
const names = Object.keys(tasks);
const samples = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS + 1; r++) {
  const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
  for (const name of order) {
    const t = tasks[name];
    const bench = new Bench({ iterations: t.calls, time: 0, warmup: false, throws: true });
    bench.add(name, t.fn, { async: t.async === true });
    await bench.run();
    if (r > 0) samples[name].push(bench.tasks[0].result.latency.mean * 1000); // µs
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const raw = median(samples['raw node:crypto GCM seal (one call)']);
console.log(
  `\n${BYTES}-byte messages, one aesKey recipient, node ${process.version}; µs per message, median of ${ROUNDS} interleaved rounds; ` +
    `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
);
for (const name of names) {
  const us = median(samples[name]);
  const lo = Math.min(...samples[name]);
  const hi = Math.max(...samples[name]);
  console.log(`  ${name.padEnd(48)} ${us.toFixed(1).padStart(8)} µs  (${lo.toFixed(1)}–${hi.toFixed(1)})  ${(us / raw).toFixed(1)}× one raw GCM seal`);
}
