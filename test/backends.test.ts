/**
 * The crypto backends (node:crypto, WebCrypto) against Wycheproof (AES-GCM 96-bit IV / 128-bit
 * tag, HKDF-SHA-256, HMAC-SHA-256), the RFC/NIST known answers of kat.json, node:crypto as an
 * independent oracle, and each other (fast-check): identical bytes, inputs never mutated.
 */
import { createCipheriv, createHash, createHmac, type CipherGCMTypes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AesGcmKey, BackendName, CryptoBackend, HashName } from '../src/backends/backend.js';
import { hkdf, hkdfExpand, hkdfExtract } from '../src/backends/hkdf.js';
import { getBackend } from '../src/backends/select.js';
import { EnsealError } from '../src/errors.js';
import { atOddOffset, BACKENDS, expectCode, hex, pseudoRandom, toHex, vector } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Vector shapes

interface AeadTest { tcId: number; comment: string; flags: string[]; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: 'valid' | 'invalid' }
interface AeadGroup { ivSize: number; keySize: number; tagSize: number; tests: AeadTest[] }
interface HkdfTest { tcId: number; comment: string; ikm: string; salt: string; info: string; size: number; okm: string; result: 'valid' | 'invalid' }
interface MacTest { tcId: number; comment: string; key: string; msg: string; tag: string; result: 'valid' | 'invalid' }
interface MacGroup { keySize: number; tagSize: number; tests: MacTest[] }

interface KatGcm { id: string; key: string; iv: string; aad: string; plaintext: string; ciphertext: string; tag: string }
interface KatCtr { id: string; key: string; counterBlock: string; plaintext: string; ciphertext: string }
interface KatHkdf { id: string; ikm: string; salt: string; info: string; length: number; prk: string; okm: string }
interface KatHmac { id: string; key: string; data: string; mac: string }

const gcmGroups = (vector('wycheproof/aes_gcm_test.json').testGroups as AeadGroup[]).filter((g) => g.ivSize === 96 && g.tagSize === 128);
const gcmTests: (AeadTest & { keySize: number })[] = gcmGroups.flatMap((g) => g.tests.map((t) => ({ ...t, keySize: g.keySize })));
const hkdfTests: HkdfTest[] = vector('wycheproof/hkdf_sha256_test.json').testGroups.flatMap((g: { tests: HkdfTest[] }) => g.tests);
const macGroups: MacGroup[] = vector('wycheproof/hmac_sha256_test.json').testGroups;
const kat = vector<{ aes_gcm: KatGcm[]; aes_ctr: KatCtr[]; hkdf_sha256: KatHkdf[]; hmac_sha256: KatHmac[] }>('kat.json');

// ---------------------------------------------------------------------------------------------
// Local helpers

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const hexOf = (parts: Uint8Array[]): string => parts.map(toHex).join('');
const nodeHash: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** Whole underlying buffer of a view, copied (to prove nothing around a subarray changed either). */
const snapshot = (u8: Uint8Array): string => toHex(new Uint8Array(u8.buffer, 0, u8.buffer.byteLength));

/** AES-CTR keystream computed independently: AES-ECB of successive 128-bit counter blocks. */
function ctrOracle(key: Uint8Array, counterBlock: Uint8Array, data: Uint8Array): string {
  const blocks: Buffer[] = [];
  let c = BigInt(`0x${toHex(counterBlock)}`);
  for (let i = 0; i < Math.ceil(data.length / 16); i++) {
    blocks.push(Buffer.from(c.toString(16).padStart(32, '0'), 'hex'));
    c = (c + 1n) % (1n << 128n);
  }
  const ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
  const ks = Buffer.concat([ecb.update(Buffer.concat(blocks)), ecb.final()]);
  return toHex(data.map((x, i) => x ^ (ks[i] as number)));
}

/** The prepared key, or the error the backend refused the key size with. */
const tryKey = (p: Promise<AesGcmKey>): Promise<{ key: AesGcmKey; err?: undefined } | { key?: undefined; err: unknown }> =>
  p.then((key) => ({ key }), (err: unknown) => ({ err }));

/** Resolves to the backend's refusal of `p`, or undefined when it resolved. */
const refusal = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

it('vector files hold the expected counts', () => {
  expect(gcmTests).toHaveLength(197);
  expect(gcmTests.filter((t) => t.result === 'valid')).toHaveLength(116);
  expect(gcmTests.filter((t) => t.result === 'invalid')).toHaveLength(81);
  expect(new Set(gcmTests.map((t) => t.keySize))).toEqual(new Set([128, 192, 256]));
  expect(hkdfTests).toHaveLength(86);
  expect(hkdfTests.filter((t) => t.result === 'invalid')).toHaveLength(3);
  expect(macGroups.flatMap((g) => g.tests)).toHaveLength(174);
  expect(kat.aes_gcm).toHaveLength(6);
  expect(kat.aes_ctr).toHaveLength(4);
  expect(kat.hkdf_sha256).toHaveLength(3);
  expect(kat.hmac_sha256).toHaveLength(7);
});

// ---------------------------------------------------------------------------------------------

function wycheproofGcm(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`Wycheproof AES-GCM (96-bit IV, 128-bit tag) / ${name}`, () => {
    for (const size of [128, 192, 256]) {
      it(`aesGcm accepts a ${size}-bit key, or refuses it with ERR_UNSUPPORTED (never on node)`, async () => {
        const keyBytes = pseudoRandom(size / 8, size);
        const { key, err } = await tryKey(b().aesGcm(keyBytes));
        if (key !== undefined) {
          // Accepted: it must compute AES-GCM with this key size (checked against node:crypto).
          const c = createCipheriv(`aes-${size}-gcm` as CipherGCMTypes, keyBytes, new Uint8Array(12));
          const want = toHex(cat(c.update(utf8('abc')), c.final(), c.getAuthTag()));
          expect(toHex(await key.seal(new Uint8Array(12), utf8('abc')))).toBe(want);
          return;
        }
        expect(err).toBeInstanceOf(EnsealError);
        expect((err as EnsealError).code).toBe('ERR_UNSUPPORTED');
        expect(name, 'the node backend supports every AES key size').not.toBe('node');
      });
    }

    for (const t of gcmTests) {
      it(`tc${t.tcId} ${t.keySize}-bit ${t.result} [${t.flags.join(',')}] ${t.comment}`, async () => {
        const { key, err } = await tryKey(b().aesGcm(hex(t.key)));
        if (key === undefined) {
          // The platform refused the key size: must be ERR_UNSUPPORTED, never on node.
          expect(err).toBeInstanceOf(EnsealError);
          expect((err as EnsealError).code).toBe('ERR_UNSUPPORTED');
          expect(name).not.toBe('node');
          return;
        }
        const [iv, aad, msg, sealed] = [hex(t.iv), hex(t.aad), hex(t.msg), hex(t.ct + t.tag)];
        if (t.result === 'valid') {
          expect(toHex(await key.seal(iv, msg, aad))).toBe(t.ct + t.tag);
          expect(toHex(await key.open(iv, sealed, aad))).toBe(t.msg);
        } else {
          const e = await expectCode(key.open(iv, sealed, aad), 'ERR_AUTH');
          expect(e.chunk).toBeUndefined();
        }
      });
    }
  });

  describe(`Wycheproof AES-GCM via sealBatch/openBatch / ${name}`, () => {
    // The batch API has no AAD: only vectors with empty AAD apply. Each vector is put at a varying
    // position among fillers sealed under the same key with the single-message API.
    const noAad = gcmTests.filter((t) => t.aad === '');
    it('has vectors to apply', () => {
      expect(noAad.filter((t) => t.result === 'valid')).toHaveLength(64);
      expect(noAad.filter((t) => t.result === 'invalid')).toHaveLength(81);
    });

    async function fillers(keyHex: string, n: number, seed: number) {
      const key = await b().aesGcm(hex(keyHex));
      const out: { nonce: Uint8Array; pt: Uint8Array; sealed: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) {
        const nonce = pseudoRandom(12, seed * 97 + i + 1);
        const pt = pseudoRandom((seed * 7 + i * 13) % 50, seed + i + 1000);
        out.push({ nonce, pt, sealed: await key.seal(nonce, pt) });
      }
      return { key, out };
    }

    for (const size of [128, 192, 256]) {
      it(`${size}-bit valid vectors: concatenated pieces = ct||tag, openBatch returns every msg`, async () => {
        if ((await refusal(b().aesGcm(new Uint8Array(size / 8)))) !== undefined) {
          expect(name).not.toBe('node');
          return;
        }
        const vs = noAad.filter((t) => t.keySize === size && t.result === 'valid');
        expect(vs.length).toBeGreaterThan(0);
        for (const t of vs) {
          const { key, out } = await fillers(t.key, 3, t.tcId);
          const at = t.tcId % 4;
          const items = [...out];
          items.splice(at, 0, { nonce: hex(t.iv), pt: hex(t.msg), sealed: hex(t.ct + t.tag) });
          const pieces = await key.sealBatch(items.map((x) => x.nonce), items.map((x) => x.pt));
          expect(hexOf(pieces), `tc${t.tcId}`).toBe(hexOf(items.map((x) => x.sealed)));
          const pts = await key.openBatch(items.map((x) => x.nonce), items.map((x) => x.sealed));
          expect(pts.map(toHex), `tc${t.tcId}`).toEqual(items.map((x) => toHex(x.pt)));
          // A batch of this vector alone.
          expect(hexOf(await key.sealBatch([hex(t.iv)], [hex(t.msg)]))).toBe(t.ct + t.tag);
        }
      });

      it(`${size}-bit invalid vectors: a batch with one bad item rejects ERR_AUTH, chunk = its position`, async () => {
        if ((await refusal(b().aesGcm(new Uint8Array(size / 8)))) !== undefined) {
          expect(name).not.toBe('node');
          return;
        }
        const vs = noAad.filter((t) => t.keySize === size && t.result === 'invalid');
        expect(vs).toHaveLength(27);
        for (const t of vs) {
          const { key, out } = await fillers(t.key, 4, t.tcId);
          const at = t.tcId % 5;
          const items = [...out];
          items.splice(at, 0, { nonce: hex(t.iv), pt: new Uint8Array(0), sealed: hex(t.ct + t.tag) });
          const e = await expectCode(key.openBatch(items.map((x) => x.nonce), items.map((x) => x.sealed)), 'ERR_AUTH');
          expect(e.chunk, `tc${t.tcId}`).toBe(at);
        }
        // Two bad items: the first one is reported.
        const [x, y] = [vs[0]!, vs[1]!];
        const { key, out } = await fillers(x.key, 3, 5);
        const items = [out[0]!, { nonce: hex(x.iv), sealed: hex(x.ct + x.tag) }, out[1]!, { nonce: hex(y.iv), sealed: hex(y.ct + y.tag) }, out[2]!];
        const e = await expectCode(key.openBatch(items.map((i) => i.nonce), items.map((i) => i.sealed)), 'ERR_AUTH');
        expect(e.chunk).toBe(1);
      });
    }

    it('empty batches give empty results', async () => {
      const key = await b().aesGcm(new Uint8Array(32));
      expect(await key.sealBatch([], [])).toEqual([]);
      expect(await key.openBatch([], [])).toEqual([]);
    });

    it('a wrong-length nonce in a batch is a RangeError, not ERR_AUTH', async () => {
      const key = await b().aesGcm(new Uint8Array(32));
      const good = await key.seal(new Uint8Array(12), new Uint8Array(3));
      await expect(key.sealBatch([new Uint8Array(12), new Uint8Array(11)], [new Uint8Array(1), new Uint8Array(1)])).rejects.toThrow(RangeError);
      await expect(key.openBatch([new Uint8Array(12), new Uint8Array(13)], [good, good])).rejects.toThrow(RangeError);
    });
  });
}

function wycheproofHkdfHmac(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`Wycheproof HKDF-SHA-256 / ${name}`, () => {
    for (const t of hkdfTests) {
      it(`tc${t.tcId} ${t.result} size ${t.size} ${t.comment}`, async () => {
        const run = hkdf(b(), 'SHA-256', hex(t.ikm), hex(t.salt), hex(t.info), t.size);
        if (t.result === 'valid') expect(toHex(await run)).toBe(t.okm);
        else {
          expect(t.size).toBeGreaterThan(255 * 32);
          await expect(run).rejects.toThrow(RangeError);
        }
      });
    }
  });

  describe(`Wycheproof HMAC-SHA-256 / ${name}`, () => {
    for (const g of macGroups) {
      for (const t of g.tests) {
        it(`tag ${g.tagSize} key ${g.keySize} tc${t.tcId} ${t.result} ${t.comment}`, async () => {
          const mac = await b().hmac('SHA-256', hex(t.key), hex(t.msg));
          expect(mac).toHaveLength(32);
          const prefix = toHex(mac.subarray(0, g.tagSize / 8));
          expect(t.tag).toHaveLength(g.tagSize / 4);
          if (t.result === 'valid') expect(prefix).toBe(t.tag);
          else expect(prefix).not.toBe(t.tag);
        });
      }
    }
  });
}

function knownAnswers(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`kat.json / ${name}`, () => {
    for (const v of kat.aes_gcm) {
      it(`aes_gcm ${v.id} (${v.iv.length * 4}-bit IV)`, async () => {
        const key = await b().aesGcm(hex(v.key));
        const [iv, aad] = [hex(v.iv), hex(v.aad)];
        if (iv.length !== 12) {
          // The backends only take 96-bit nonces (all enseal needs): other IV sizes are misuse.
          await expect(key.seal(iv, hex(v.plaintext), aad)).rejects.toThrow(RangeError);
          await expect(key.open(iv, hex(v.ciphertext + v.tag), aad)).rejects.toThrow(RangeError);
          return;
        }
        expect(toHex(await key.seal(iv, hex(v.plaintext), aad))).toBe(v.ciphertext + v.tag);
        expect(toHex(await key.open(iv, hex(v.ciphertext + v.tag), aad))).toBe(v.plaintext);
      });
    }
    for (const v of kat.aes_ctr) {
      it(`aes_ctr ${v.id}`, async () => {
        expect(toHex(await b().aesCtr(hex(v.key), hex(v.counterBlock), hex(v.plaintext)))).toBe(v.ciphertext);
        expect(toHex(await b().aesCtr(hex(v.key), hex(v.counterBlock), hex(v.ciphertext)))).toBe(v.plaintext);
      });
    }
    for (const v of kat.hkdf_sha256) {
      it(`hkdf_sha256 ${v.id}`, async () => {
        const prk = await hkdfExtract(b(), 'SHA-256', hex(v.salt), hex(v.ikm));
        expect(toHex(prk)).toBe(v.prk);
        expect(toHex(await hkdfExpand(b(), 'SHA-256', prk, hex(v.info), v.length))).toBe(v.okm);
        expect(toHex(await hkdf(b(), 'SHA-256', hex(v.ikm), hex(v.salt), hex(v.info), v.length))).toBe(v.okm);
      });
    }
    for (const v of kat.hmac_sha256) {
      it(`hmac_sha256 ${v.id}`, async () => {
        const mac = await b().hmac('SHA-256', hex(v.key), hex(v.data));
        expect(toHex(mac.subarray(0, v.mac.length / 2))).toBe(v.mac);
      });
    }
  });
}

function primitives(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`digest, HMAC, HKDF, AES-CTR, randomBytes / ${name}`, () => {
    it('getBackend returns the named backend', () => {
      expect(b().name).toBe(name);
    });

    for (const hash of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
      it(`digest ${hash} equals node:crypto createHash on random inputs`, async () => {
        for (const n of [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 1000, 70_001]) {
          const data = b().randomBytes(n);
          const want = createHash(nodeHash[hash]).update(data).digest('hex');
          expect(toHex(await b().digest(hash, data)), `${n} bytes`).toBe(want);
          expect(toHex(await b().digest(hash, atOddOffset(data))), `${n} bytes at odd offset`).toBe(want);
        }
      });

      it(`hmac ${hash} equals node:crypto createHmac (empty, block-size and longer keys)`, async () => {
        for (const kn of [0, 1, 32, 64, 65, 128, 129, 200]) {
          const key = pseudoRandom(kn, kn + 1);
          const data = pseudoRandom(kn * 3 + 5, kn + 2);
          const want = createHmac(nodeHash[hash], key).update(data).digest('hex');
          expect(toHex(await b().hmac(hash, key, data)), `key ${kn} bytes`).toBe(want);
          expect(toHex(await b().hmac(hash, atOddOffset(key), atOddOffset(data))), `key ${kn} bytes at odd offset`).toBe(want);
        }
      });
    }

    it('hkdfExpand bounds: 0 bytes, exactly 255 × HashLen, and RangeError beyond or for non-integers', async () => {
      const prk = pseudoRandom(64, 3);
      expect(await hkdfExpand(b(), 'SHA-512', prk, new Uint8Array(0), 0)).toHaveLength(0);
      const full = await hkdfExpand(b(), 'SHA-256', prk, new Uint8Array(0), 255 * 32);
      expect(full).toHaveLength(8160);
      // A shorter output is a prefix of a longer one (RFC 5869).
      expect(toHex(await hkdfExpand(b(), 'SHA-256', prk, new Uint8Array(0), 33))).toBe(toHex(full.subarray(0, 33)));
      for (const [hash, n] of [['SHA-256', 8161], ['SHA-384', 255 * 48 + 1], ['SHA-512', 255 * 64 + 1], ['SHA-256', -1], ['SHA-256', 1.5], ['SHA-256', Number.NaN]] as const) {
        await expect(hkdfExpand(b(), hash, prk, new Uint8Array(0), n), `${hash} ${n}`).rejects.toThrow(RangeError);
      }
    });

    it('hkdf with an empty salt equals hkdf with HashLen zero bytes of salt', async () => {
      const ikm = pseudoRandom(22, 9);
      for (const [hash, hl] of [['SHA-256', 32], ['SHA-512', 64]] as const) {
        const a = await hkdf(b(), hash, ikm, new Uint8Array(0), utf8('info'), 50);
        const z = await hkdf(b(), hash, ikm, new Uint8Array(hl), utf8('info'), 50);
        expect(toHex(a)).toBe(toHex(z));
      }
    });

    it('aesCtr increments the whole 128-bit counter, wrapping modulo 2^128 (vs an AES-ECB oracle)', async () => {
      const counters = ['ffffffffffffffffffffffffffffffff', 'fffffffffffffffffffffffffffffffd', '0000000000000000ffffffffffffffff', '000000000000000000000000fffffffe', '0123456789abcdef0123456789abcdef'];
      for (const kn of [16, 24, 32]) {
        const key = pseudoRandom(kn, kn);
        for (const c of counters) {
          for (const n of [0, 1, 16, 17, 80, 1000]) {
            const data = pseudoRandom(n, n + 7);
            const want = ctrOracle(key, hex(c), data);
            expect(toHex(await b().aesCtr(key, hex(c), data)), `${kn * 8}-bit key, counter ${c}, ${n} bytes`).toBe(want);
            expect(toHex(await b().aesCtr(atOddOffset(key), atOddOffset(hex(c)), atOddOffset(data)))).toBe(want);
          }
        }
      }
    });

    it('aesCtr refuses a counter block that is not 16 bytes, and a key that is not 16/24/32 bytes', async () => {
      for (const n of [0, 12, 15, 17]) await expect(b().aesCtr(new Uint8Array(16), new Uint8Array(n), new Uint8Array(4))).rejects.toThrow(RangeError);
      for (const n of [0, 15, 31, 33]) await expect(b().aesCtr(new Uint8Array(n), new Uint8Array(16), new Uint8Array(4))).rejects.toThrow(RangeError);
    });

    it('randomBytes(n) has length n (incl. n > 65536), is not all zero, and differs between calls', () => {
      for (const n of [0, 1, 16, 65_535, 65_536, 65_537, 200_000]) {
        const r = b().randomBytes(n);
        expect(r).toBeInstanceOf(Uint8Array);
        expect(r).toHaveLength(n);
        if (n >= 16) {
          expect(r.some((x) => x !== 0), `${n} bytes all zero`).toBe(true);
          expect(toHex(r)).not.toBe(toHex(b().randomBytes(n)));
        }
      }
      // Every 64 KiB slice of a large request is filled (WebCrypto's per-call limit is 65536).
      const big = b().randomBytes(65_536 * 3 + 100);
      for (let off = 0; off < big.length; off += 65_536) {
        expect(big.subarray(off, off + 100).some((x) => x !== 0), `slice at ${off}`).toBe(true);
      }
      expect(big.subarray(big.length - 100).some((x) => x !== 0)).toBe(true);
    });
  });
}

function aeadEdges(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`AES-GCM edge cases / ${name}`, () => {
    it('a nonce that is not 12 bytes is a RangeError (seal and open)', async () => {
      const key = await b().aesGcm(new Uint8Array(32));
      const sealed = await key.seal(new Uint8Array(12), new Uint8Array(5));
      for (const n of [0, 8, 11, 13, 16]) {
        await expect(key.seal(new Uint8Array(n), new Uint8Array(5)), `${n}`).rejects.toThrow(RangeError);
        await expect(key.open(new Uint8Array(n), sealed), `${n}`).rejects.toThrow(RangeError);
      }
    });

    it('a key that is not 16/24/32 bytes is a RangeError', async () => {
      for (const n of [0, 1, 15, 17, 31, 33, 64]) await expect(b().aesGcm(new Uint8Array(n)), `${n}`).rejects.toThrow(RangeError);
    });

    it('sealed input shorter than the 16-byte tag is ERR_AUTH', async () => {
      const key = await b().aesGcm(new Uint8Array(16));
      for (let n = 0; n < 16; n++) await expectCode(key.open(new Uint8Array(12), new Uint8Array(n)), 'ERR_AUTH');
    });

    it('flipping any single bit of a sealed 1-byte message is ERR_AUTH', async () => {
      const key = await b().aesGcm(pseudoRandom(32, 11));
      const nonce = pseudoRandom(12, 12);
      const sealed = await key.seal(nonce, Uint8Array.of(0x42));
      expect(sealed).toHaveLength(17);
      expect(toHex(await key.open(nonce, sealed))).toBe('42');
      for (let bit = 0; bit < sealed.length * 8; bit++) {
        const bad = sealed.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        await expectCode(key.open(nonce, bad), 'ERR_AUTH');
      }
      await expectCode(key.open(nonce, sealed.subarray(1)), 'ERR_AUTH'); // one byte dropped
      await expectCode(key.open(nonce, cat(sealed, Uint8Array.of(0))), 'ERR_AUTH'); // one byte added
    });

    it('a different nonce, AAD, or key is ERR_AUTH; empty AAD equals no AAD', async () => {
      const keyBytes = pseudoRandom(32, 21);
      const key = await b().aesGcm(keyBytes);
      const nonce = pseudoRandom(12, 22);
      const aad = utf8('header');
      const sealed = await key.seal(nonce, utf8('hello'), aad);
      const otherNonce = nonce.slice();
      otherNonce[11]! ^= 1;
      await expectCode(key.open(otherNonce, sealed, aad), 'ERR_AUTH');
      await expectCode(key.open(nonce, sealed), 'ERR_AUTH');
      await expectCode(key.open(nonce, sealed, utf8('headex')), 'ERR_AUTH');
      const otherKey = keyBytes.slice();
      otherKey[0]! ^= 0x80;
      await expectCode((await b().aesGcm(otherKey)).open(nonce, sealed, aad), 'ERR_AUTH');
      const noAad = await key.seal(nonce, utf8('hello'));
      expect(toHex(await key.seal(nonce, utf8('hello'), new Uint8Array(0)))).toBe(toHex(noAad));
      expect(toHex(await key.open(nonce, noAad, new Uint8Array(0)))).toBe(toHex(utf8('hello')));
    });

    it('the prepared key keeps its own copy: changing the caller\'s key bytes afterwards has no effect', async () => {
      const keyBytes = pseudoRandom(32, 31);
      const nonce = pseudoRandom(12, 32);
      const want = toHex(await (await getBackend('node').aesGcm(keyBytes.slice())).seal(nonce, utf8('x')));
      const key = await b().aesGcm(keyBytes);
      keyBytes.fill(0);
      expect(toHex(await key.seal(nonce, utf8('x')))).toBe(want);
    });

    it('outputs are fresh: modifying a result does not affect later results', async () => {
      const key = await b().aesGcm(pseudoRandom(16, 41));
      const nonce = pseudoRandom(12, 42);
      const a = await key.seal(nonce, utf8('abc'));
      const want = toHex(a);
      a.fill(0);
      expect(toHex(await key.seal(nonce, utf8('abc')))).toBe(want);
      const pt = await key.open(nonce, hex(want));
      pt.fill(0);
      expect(toHex(await key.open(nonce, hex(want)))).toBe(toHex(utf8('abc')));
    });
  });
}

for (const name of BACKENDS) {
  wycheproofGcm(name);
  wycheproofHkdfHmac(name);
  knownAnswers(name);
  primitives(name);
  aeadEdges(name);
}

// ---------------------------------------------------------------------------------------------
// Cross-backend equality (property-based)

describe('node and webcrypto agree (fast-check)', () => {
  const node = getBackend('node');
  const web = getBackend('webcrypto');

  const lengthArb = fc.oneof(
    fc.integer({ min: 0, max: 64 }),
    fc.constantFrom(15, 16, 17, 4095, 4096, 16_384, 65_535, 65_536, 65_537, 70_000),
    fc.integer({ min: 0, max: 70_000 }),
  );
  const inputArb = fc.record({
    keyLength: fc.constantFrom(16, 32),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    nonce: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    aad: fc.uint8Array({ maxLength: 80 }),
    ptLength: lengthArb,
  });

  it('seal gives identical bytes; each opens the other\'s output; odd-offset inputs are accepted and not mutated', async () => {
    await fc.assert(
      fc.asyncProperty(inputArb, async ({ keyLength, seed, nonce, aad, ptLength }) => {
        const keyBytes = pseudoRandom(keyLength, seed);
        const pt = pseudoRandom(ptLength, seed ^ 0x5a5a);
        const [kn, kw] = [await node.aesGcm(keyBytes), await web.aesGcm(keyBytes)];
        const a = await kn.seal(nonce, pt, aad);
        const w = await kw.seal(nonce, pt, aad);
        expect(a).toHaveLength(ptLength + 16);
        expect(toHex(w)).toBe(toHex(a));
        expect(toHex(await kw.open(nonce, a, aad))).toBe(toHex(pt));
        expect(toHex(await kn.open(nonce, w, aad))).toBe(toHex(pt));

        // The same operations on subarrays at odd offsets of larger buffers.
        const [oKey, oNonce, oAad, oPt, oSealed] = [keyBytes, nonce, aad, pt, a].map(atOddOffset) as Uint8Array[];
        const before = [oKey, oNonce, oAad, oPt, oSealed].map((x) => snapshot(x!));
        for (const be of [node, web]) {
          const k = await be.aesGcm(oKey!);
          expect(toHex(await k.seal(oNonce!, oPt!, oAad!)), be.name).toBe(toHex(a));
          expect(toHex(await k.open(oNonce!, oSealed!, oAad!)), be.name).toBe(toHex(pt));
        }
        expect([oKey, oNonce, oAad, oPt, oSealed].map((x) => snapshot(x!))).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it('sealBatch/openBatch agree across backends and with single seals; inputs not mutated', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(16, 32),
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 6 }),
        async (keyLength, seed, lengths) => {
          const keyBytes = pseudoRandom(keyLength, seed);
          const nonces = lengths.map((_, i) => atOddOffset(pseudoRandom(12, seed + i + 1)));
          const pts = lengths.map((n, i) => atOddOffset(pseudoRandom(n, seed + 100 + i)));
          const before = [...nonces, ...pts].map(snapshot);
          const [kn, kw] = [await node.aesGcm(keyBytes), await web.aesGcm(keyBytes)];
          const singles: Uint8Array[] = [];
          for (let i = 0; i < pts.length; i++) singles.push(await kn.seal(nonces[i]!, pts[i]!));
          const pn = await kn.sealBatch(nonces, pts);
          const pw = await kw.sealBatch(nonces, pts);
          expect(hexOf(pn)).toBe(hexOf(singles));
          expect(hexOf(pw)).toBe(hexOf(singles));
          const sealedOdd = singles.map(atOddOffset);
          for (const k of [kn, kw]) expect((await k.openBatch(nonces, sealedOdd)).map(toHex)).toEqual(pts.map(toHex));
          expect([...nonces, ...pts].map(snapshot)).toEqual(before);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('hmac, digest and aesCtr agree across backends on random inputs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<HashName>('SHA-256', 'SHA-384', 'SHA-512'),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom(16, 24, 32),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        async (hash, key, data, aesLen, counter) => {
          expect(toHex(await web.hmac(hash, key, data))).toBe(toHex(await node.hmac(hash, key, data)));
          expect(toHex(await web.digest(hash, data))).toBe(toHex(await node.digest(hash, data)));
          const aesKey = pseudoRandom(aesLen, data.length + 1);
          const want = ctrOracle(aesKey, counter, data);
          expect(toHex(await node.aesCtr(aesKey, counter, data))).toBe(want);
          expect(toHex(await web.aesCtr(aesKey, counter, data))).toBe(want);
        },
      ),
      { numRuns: 60 },
    );
  });
});
