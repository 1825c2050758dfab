/**
 * Known-answer tests built from the documented OSS algorithm with node:crypto directly (not
 * enseal code): the counter of a ranged read at an offset (IVs near the 2^64 carry and the
 * 2^128 wrap, offset 1 MiB + 5), and the part counters of a multipart object. The objects are
 * made by hand here — RSA-OAEP-SHA-1 with node:crypto's publicEncrypt, AES-256-CTR with
 * createCipheriv, the keystream block as AES-256-ECB(key, IV + offset/16) with BigInt
 * arithmetic — then read with enseal's openOssObject on every backend.
 */
import { constants, createCipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { memoryStore } from '../src/storage/memory.js';
import { getBackend } from '../src/backends/select.js';
import { addBlocks, counterFromDecimal, openOssObject, ossCtrStream, ossRsaKey, putOssObject } from '../src/interop.js';
import { BACKENDS, pipeBytes, pseudoRandom, toHex } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const oaep = (m: Uint8Array): string => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, m).toString('base64');

const big = (b: Uint8Array): bigint => BigInt(`0x${toHex(b) || '0'}`);
const block = (v: bigint): Buffer => Buffer.from((v % (1n << 128n)).toString(16).padStart(32, '0'), 'hex');
/** The AES-256 encryption of one counter block: the keystream of that block. */
const keystream = (key: Uint8Array, counter: bigint): Buffer => {
  const c = createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block(counter)), c.final()]);
};
const ctr = (key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer => {
  const c = createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
};
const collect = async (s: ReadableStream<Uint8Array>): Promise<Buffer> => Buffer.from(await new Response(s).arrayBuffer());

const IVS: [string, Buffer][] = [
  ['low 64 bits near the 2^64 carry', Buffer.from('0123456789abcdef' + 'fffffffffffff000', 'hex')],
  ['near the 2^128 wrap', Buffer.from('fffffffffffffffffffffffffffff000', 'hex')],
  ['SDK-shaped (bytes 8..11 zero)', Buffer.from('8c3207b09a9bfa6600000000ac1992b4', 'hex')],
];

it('the test oracle itself: node:crypto AES-256-CTR equals ECB of IV + i (full 128-bit increment, wrap at 2^128)', () => {
  const key = randomBytes(32);
  const iv = Buffer.from('ffffffffffffffffffffffffffffffff', 'hex');
  const ct = ctr(key, iv, new Uint8Array(48));
  expect(ct.subarray(16, 32).toString('hex')).toBe(keystream(key, 0n).toString('hex')); // IV + 1 wraps to 0
  expect(ct.subarray(32, 48).toString('hex')).toBe(keystream(key, 1n).toString('hex'));
});

it('addBlocks is 128-bit big-endian addition modulo 2^128', () => {
  for (const [, iv] of IVS) {
    for (const d of [0n, 1n, 65536n + 1n, (1n << 64n) + 7n, (1n << 128n) - 1n]) {
      expect(toHex(addBlocks(iv, d))).toBe(block(big(iv) + d).toString('hex'));
    }
  }
  expect(() => addBlocks(new Uint8Array(15), 1)).toThrow(RangeError);
  expect(() => addBlocks(new Uint8Array(16), -1)).toThrow(RangeError);
});

it('legacy decimal starts: canonical decimals below 2^128 only', () => {
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
  expect(toHex(counterFromDecimal(enc('8'))!)).toBe(block(8n).toString('hex'));
  const max = ((1n << 128n) - 1n).toString();
  expect(toHex(counterFromDecimal(enc(max))!)).toBe('ff'.repeat(16));
  for (const bad of ['', '08', '-1', '1 ', 'a', (1n << 128n).toString()]) expect(counterFromDecimal(enc(bad)), bad).toBeUndefined();
});

function suite(name: BackendName): void {
  describe(`OSS known answers / ${name}`, () => {
    for (const [label, iv] of IVS) {
      it(`ranged read at 1 MiB + 5 with IV ${label}: counter = IV + 65536, the first 5 keystream bytes dropped`, async () => {
        const key = randomBytes(32);
        const plain = pseudoRandom((1 << 20) + 4096, 7);
        const body = ctr(key, iv, plain);
        const store = memoryStore();
        await store.put('o', body, {
          metadata: {
            'client-side-encryption-key': oaep(key),
            'client-side-encryption-start': oaep(iv),
            'client-side-encryption-cek-alg': 'AES/CTR/NoPadding',
            'client-side-encryption-wrap-alg': 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding',
            'client-side-encryption-unencrypted-content-length': String(plain.length),
          },
        });
        const start = (1 << 20) + 5;
        // Independent expectation of the first 11 output bytes: keystream(IV + 65536)[5..16] XOR ciphertext.
        const ks = keystream(key, big(iv) + 65536n);
        const expectedHead = Buffer.alloc(11);
        for (let i = 0; i < 11; i++) expectedHead[i] = ks[5 + i]! ^ body[start + i]!;
        expect(expectedHead.toString('hex')).toBe(Buffer.from(plain.subarray(start, start + 11)).toString('hex'));
        const r = await openOssObject(store, 'o', await store.head('o'), { keys: [ossRsaKey({ privateKey: privatePem, legacy: true })], allowUnauthenticated: true, backend: name, range: { start, end: start + 100 } });
        const got = await collect(r.body);
        expect(got.subarray(0, 11).toString('hex')).toBe(expectedHead.toString('hex'));
        expect(got.toString('hex')).toBe(Buffer.from(plain.subarray(start, start + 101)).toString('hex'));
      });
    }

    it('ossCtrStream over odd write sizes (1, 7, 16, 33, 4097) equals node:crypto CTR from the same counter, with leading bytes skipped', async () => {
      const key = randomBytes(32); // a Buffer: its slice() is a view, so a careless copy would be wiped with the stream's
      const keyCopy = Buffer.from(key);
      const iv = IVS[1]![1];
      const plain = pseudoRandom(70_000, 4);
      const expected = ctr(key, iv, plain);
      for (const sizes of [[1], [7], [16], [33, 5], [4097]]) {
        const { output, error } = await pipeBytes(ossCtrStream({ backend: getBackend(name), key, counter: iv, inputLength: plain.length, skip: 9 }), plain, sizes);
        expect(error).toBeUndefined();
        expect(Buffer.from(output).toString('hex'), String(sizes)).toBe(expected.subarray(9).toString('hex'));
      }
      const short = await pipeBytes(ossCtrStream({ backend: getBackend(name), key, counter: iv, inputLength: plain.length + 1 }), plain, [1000]);
      expect((short.error as { code?: string }).code).toBe('ERR_TRUNCATED');
      const long = await pipeBytes(ossCtrStream({ backend: getBackend(name), key, counter: iv, inputLength: plain.length - 1 }), plain, [1000]);
      expect((long.error as { code?: string }).code).toBe('ERR_STORE');
      expect(key.equals(keyCopy)).toBe(true); // the caller's key is never modified
    });

    it('multipart object with 3 parts: part n is CTR at IV + (n − 1)·partSize/16 (one stream, no restart)', async () => {
      const partSize = 64 * 1024;
      const plain = pseudoRandom(2 * partSize + 1000, 9);
      const store = memoryStore({ multipart: { minPartSize: partSize } });
      const recipient = ossRsaKey({ publicKey: publicPem, wrap: 'oaep-sha1' });
      await putOssObject(store, 'mp', plain, { recipients: [recipient], partSize, backend: name });
      expect(store.stats.byOperation.uploadPart).toBe(3);
      const info = await store.head('mp');
      expect(info.metadata['client-side-encryption-part-size']).toBe(String(partSize));
      expect(info.metadata['client-side-encryption-data-size']).toBe(String(plain.length));
      // Independent reader: node:crypto OAEP-SHA-1 unwrap, then the keystream of each part's first block.
      const dec = (m: string): Buffer => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(m, 'base64'));
      const key = dec(info.metadata['client-side-encryption-key']!);
      const iv = dec(info.metadata['client-side-encryption-start']!);
      expect(iv.subarray(8, 12).toString('hex')).toBe('00000000');
      const stored = await collect((await store.get('mp')).body);
      for (let n = 1; n <= 3; n++) {
        const off = (n - 1) * partSize;
        const ks = keystream(key, big(iv) + BigInt(((n - 1) * partSize) / 16));
        const first = Buffer.alloc(16);
        for (let i = 0; i < 16; i++) first[i] = ks[i]! ^ stored[off + i]!;
        expect(first.toString('hex'), `part ${n}`).toBe(Buffer.from(plain.subarray(off, off + 16)).toString('hex'));
        // A counter restarted at IV for each part would not decrypt parts 2 and 3.
        if (n > 1) expect(Buffer.from(ctr(key, iv, stored.subarray(off, off + 16))).toString('hex')).not.toBe(first.toString('hex'));
      }
      expect(ctr(key, iv, stored).toString('hex')).toBe(Buffer.from(plain).toString('hex'));
    });
  });
}

for (const name of BACKENDS) suite(name);
