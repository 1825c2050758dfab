#!/usr/bin/env node
// Regenerates test/vectors/enseal-v1.json from fixed inputs: `npm run build && node test/vectors/generate-enseal-v1.mjs`.
// All randomness enseal draws (data key, wrap nonces, salt) is scripted through a custom backend,
// so the output is deterministic; test/enseal-v1.test.ts checks every backend reproduces it.
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { aesKey, decrypt, encrypt, getBackend, inspect } from '../../dist/index.js';
import { mutate } from './mutate.mjs';

const hex = (b) => Buffer.from(b).toString('hex');
/** Deterministic bytes from a label (SHA-512 counter mode): reproducible "random" inputs. */
function bytes(label, n) {
  const out = [];
  for (let i = 0; Buffer.concat(out).length < n; i++) out.push(createHash('sha512').update(`${label}/${i}`).digest());
  return Buffer.concat(out).subarray(0, n);
}
/** A backend whose randomBytes replays a script (and checks the requested lengths). */
function scripted(randomness) {
  const base = getBackend('node');
  const queue = randomness.map((h) => Buffer.from(h, 'hex'));
  return {
    ...base,
    randomBytes(n) {
      const next = queue.shift();
      if (!next || next.length !== n) throw new Error(`script expected ${next?.length} bytes, asked ${n}`);
      return new Uint8Array(next);
    },
  };
}

const keys = {
  alice: { id: 'alice-2026', key: hex(bytes('cmk alice', 32)) },
  bob: { id: 'bob@example.com', key: hex(bytes('cmk bob', 32)) },
  mallory: { id: 'alice-2026', key: hex(bytes('cmk mallory', 32)) }, // same id as alice, other key material
};
const provider = (name) => aesKey({ id: keys[name].id, key: Buffer.from(keys[name].key, 'hex') });

const cases = [
  { name: 'empty plaintext, one recipient, no context', plaintext: '', recipients: ['alice'], context: {} },
  {
    name: 'short message with an encryption context',
    plaintext: hex(Buffer.from('hello, enseal')),
    recipients: ['alice'],
    context: { bucket: 'photos', object: 'cat.jpg' },
  },
  { name: 'exactly one full chunk (then an empty final chunk), two recipients', plaintext: hex(bytes('pt 16384', 16384)), recipients: ['alice', 'bob'], context: { tenant: '42' } },
  { name: 'three chunks, unicode context', plaintext: hex(bytes('pt 40000', 40000)), recipients: ['bob'], context: { 'ключ': 'значение', emoji: '🔐' } },
];

const positive = [];
for (const c of cases) {
  const randomness = [hex(bytes(`${c.name}/data key`, 32)), ...c.recipients.map((r) => hex(bytes(`${c.name}/wrap nonce ${r}`, 12))), hex(bytes(`${c.name}/salt`, 24))];
  const ct = await encrypt(Buffer.from(c.plaintext, 'hex'), { recipients: c.recipients.map(provider), context: c.context, backend: scripted(randomness) });
  const pt = await decrypt(ct, { keys: [provider(c.recipients[0])] });
  if (hex(pt) !== c.plaintext) throw new Error('round trip failed');
  const info = inspect(ct);
  positive.push({
    name: c.name,
    recipients: c.recipients,
    context: c.context,
    randomness,
    dataKey: randomness[0],
    plaintext: c.plaintext,
    headerLength: info.headerLength,
    header: hex(ct.subarray(0, info.headerLength)),
    ciphertext: hex(ct),
  });
}

// Negative cases: a mutation applied to a positive vector's ciphertext (`base` = its index).
// `expect` is the EnsealError code decryption must fail with; `sha256` identifies the mutated bytes.
//   flip {byte, bit}        xor bit `bit` of byte `byte`
//   truncate {length}       keep the first `length` bytes
//   append {hex}            add bytes at the end
//   swap {a, b, length}     exchange the `length` bytes at offsets a and b
const short = positive[1];
const three = positive[3];
const chunk0 = three.headerLength + 56;
const negativeSpecs = [
  { name: 'payload bit flipped in the only chunk', base: 1, mutation: { op: 'flip', byte: short.headerLength + 60, bit: 0 }, keys: ['alice'], expect: 'ERR_AUTH' },
  { name: 'header mac bit flipped', base: 1, mutation: { op: 'flip', byte: short.headerLength - 1, bit: 0 }, keys: ['alice'], expect: 'ERR_AUTH' },
  { name: 'context byte changed (the aes256-gcm wrap binds the context: unwrap fails)', base: 1, mutation: { op: 'flip', byte: 16, bit: 1 }, keys: ['alice'], expect: 'ERR_NO_KEY' },
  { name: 'commitment bit flipped', base: 1, mutation: { op: 'flip', byte: short.headerLength + 30, bit: 0 }, keys: ['alice'], expect: 'ERR_AUTH' },
  { name: 'wrong key material under the right key id', base: 1, mutation: null, keys: ['mallory'], expect: 'ERR_NO_KEY' },
  { name: 'no key for any recipient', base: 1, mutation: null, keys: ['bob'], expect: 'ERR_NO_KEY' },
  { name: 'expected context differs', base: 1, mutation: null, keys: ['alice'], expectedContext: { bucket: 'videos' }, expect: 'ERR_CONTEXT' },
  { name: 'unknown header version', base: 1, mutation: { op: 'flip', byte: 6, bit: 1 }, keys: ['alice'], expect: 'ERR_UNSUPPORTED' },
  { name: 'bad magic', base: 1, mutation: { op: 'flip', byte: 0, bit: 0 }, keys: ['alice'], expect: 'ERR_HEADER' },
  { name: 'header length claims more than 64 KiB', base: 1, mutation: { op: 'flip', byte: 9, bit: 0 }, keys: ['alice'], expect: 'ERR_HEADER' },
  { name: 'last byte removed (final chunk shortened)', base: 3, mutation: { op: 'truncate', length: three.ciphertext.length / 2 - 1 }, keys: ['bob'], expect: 'ERR_AUTH' },
  { name: 'final chunk removed (cut at a chunk boundary)', base: 3, mutation: { op: 'truncate', length: chunk0 + 2 * 16400 }, keys: ['bob'], expect: 'ERR_TRUNCATED' },
  { name: 'cut inside the header', base: 3, mutation: { op: 'truncate', length: 40 }, keys: ['bob'], expect: 'ERR_TRUNCATED' },
  { name: 'trailing garbage after the final chunk', base: 3, mutation: { op: 'append', hex: '00'.repeat(20) }, keys: ['bob'], expect: 'ERR_AUTH' },
  { name: 'chunks 0 and 1 swapped', base: 3, mutation: { op: 'swap', a: chunk0, b: chunk0 + 16400, length: 16400 }, keys: ['bob'], expect: 'ERR_AUTH' },
];
const negative = [];
for (const n of negativeSpecs) {
  const ct = n.mutation ? mutate(Buffer.from(positive[n.base].ciphertext, 'hex'), n.mutation) : Buffer.from(positive[n.base].ciphertext, 'hex');
  try {
    await decrypt(ct, { keys: n.keys.map(provider), context: n.expectedContext });
    throw new Error(`negative case "${n.name}" decrypted`);
  } catch (e) {
    if (e.code !== n.expect) throw new Error(`negative case "${n.name}": expected ${n.expect}, got ${e.code ?? e}`);
  }
  negative.push({ ...n, sha256: createHash('sha256').update(ct).digest('hex') });
}

const doc = {
  _meta: {
    description:
      'enseal v1 test vectors: envelope header + C2SP Cobblestone-256 payload, AES-256-GCM key wrapping (stanza type aes256-gcm). See docs/FORMAT.md.',
    generatedBy: 'test/vectors/generate-enseal-v1.mjs (deterministic: every random value is listed in `randomness`, in the order enseal draws it: data key, one wrap nonce per recipient, payload salt)',
    fields:
      'keys: customer master keys {id, key(hex)}; positive: ciphertext = header || payload, decrypting it with the first recipient gives plaintext; negative: apply `mutation` (null = none; flip {byte, bit} | truncate {length} | append {hex} | swap {a, b, length}) to positive[base].ciphertext (sha256 of the result given), then decrypting with `keys` (and `expectedContext`) must fail with EnsealError code `expect`.',
    license: 'Apache-2.0 (same as enseal)',
  },
  keys,
  positive,
  negative,
};
writeFileSync(new URL('./enseal-v1.json', import.meta.url), JSON.stringify(doc, null, 1) + '\n');
console.log(`wrote ${positive.length} positive and ${negative.length} negative vectors`);
