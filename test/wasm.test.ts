/**
 * The WASM core and the wasm backend: Wycheproof AES-GCM (every 96-bit-IV case), the kat.json
 * AES-GCM/AES-CTR answers, the 70 C2SP vectors and the enseal-v1 vectors on `wasm`; fast-check
 * equality with node:crypto (GCM single and batch, C2SP chunks with in-module nonces, CTR across
 * counter wraps); the module's memory is all zeros (but the public S-box tables) after every
 * operation, including failed ones; the synchronous API; key disposal.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backends/select.js';
import { ready, wasmSync } from '../src/backends/wasm.js';
import { loadWasmCore, type WasmCore } from '../src/backends/wasm-core.js';
import { open, seal, COBBLESTONE_128, COBBLESTONE_256 } from '../src/chunked.js';
import { EnsealError } from '../src/errors.js';
import { aesKey, decrypt, encrypt, type CryptoBackend } from '../src/index.js';
import { mutate } from './vectors/mutate.mjs';
import { atOddOffset, expectCode, hex, inflateHex, pseudoRandom, sha512hex, toHex, vector } from './helpers.js';

interface AeadTest { tcId: number; comment: string; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: 'valid' | 'invalid' }
interface AeadGroup { ivSize: number; keySize: number; tagSize: number; tests: AeadTest[] }
interface KatGcm { id: string; key: string; iv: string; aad: string; plaintext: string; ciphertext: string; tag: string }
interface KatCtr { id: string; key: string; counterBlock: string; plaintext: string; ciphertext: string }
interface C2spTest { tcId: number; comment: string; key: string; ctx: string; ct: string; msgLength?: number; msgSha512?: string; result: 'valid' | 'invalid'; flags: string[] }

const gcmTests = (vector('wycheproof/aes_gcm_test.json').testGroups as AeadGroup[]).filter((g) => g.ivSize === 96).flatMap((g) => g.tests);
const kat = vector<{ aes_gcm: KatGcm[]; aes_ctr: KatCtr[] }>('kat.json');

const CHUNK = 16384;
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** AES-GCM by node:crypto, the oracle. */
function nodeSeal(key: Uint8Array, nonce: Uint8Array, pt: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, nonce);
  c.setAAD(aad);
  return cat(c.update(pt), c.final(), c.getAuthTag());
}

/** AES-CTR keystream computed independently: AES-ECB (node:crypto) of 128-bit counters, BigInt increments. */
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

/** C2SP nonce_i = base XOR uint96_be(i), computed here with BigInt (independent of the module). */
function c2spNonce(base: Uint8Array, i: number): Uint8Array {
  const n = BigInt(`0x${toHex(base)}`) ^ BigInt(i);
  return hex(n.toString(16).padStart(24, '0'));
}

/** Where the module keeps its (public) S-box tables: wasm/layout.ts SBOX and INV_SBOX. */
const SBOX_REGION = [256, 768] as const;
/** Where it keeps the (public) bit masks of its 4-lane GHASH: wasm/layout.ts MASKS, 2 × 4 × 16 bytes. */
const MASKS_REGION = [768, 768 + 128] as const;
/** Where it keeps its (public) CRC-64 slicing tables: wasm/layout.ts CRC_TABLES, 8 × 256 × 8 bytes. */
const CRC_TABLES_REGION = [8192, 8192 + 16384] as const;

/** Asserts that the module's memory holds nothing but zeros outside the public S-box, mask and CRC tables. */
function expectClean(core: WasmCore): void {
  const m = core.memory;
  let dirty = -1;
  for (let i = 0; i < m.length; i++) {
    if (i >= SBOX_REGION[0] && i < SBOX_REGION[1]) continue;
    if (i >= MASKS_REGION[0] && i < MASKS_REGION[1]) continue;
    if (i >= CRC_TABLES_REGION[0] && i < CRC_TABLES_REGION[1]) continue;
    if (m[i] !== 0) {
      dirty = i;
      break;
    }
  }
  expect(dirty, `non-zero byte at ${dirty} of the WASM memory`).toBe(-1);
}

const wasm = (): CryptoBackend => getBackend('wasm');

it('wasmSync() refuses to run before ready() resolved (ERR_STATE), then works', async () => {
  const key = new Uint8Array(32);
  const nonce = new Uint8Array(12);
  const e = (() => {
    try {
      wasmSync().gcmSeal(key, nonce, new Uint8Array(0));
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  expect(e).toBeInstanceOf(EnsealError);
  expect((e as EnsealError).code).toBe('ERR_STATE');
  await ready();
  // McGrew–Viega test case 13 (AES-256, empty): kat.json gcm-spec-tc13.
  expect(toHex(wasmSync().gcmSeal(key, nonce, new Uint8Array(0)))).toBe('530f8afbc74536b9a963b4f1c4cb738b');
});

it('the S-box tables in the module are FIPS-197 S and its inverse', async () => {
  const core = await loadWasmCore();
  const s = core.memory.subarray(256, 512);
  const inv = core.memory.subarray(512, 768);
  for (let x = 0; x < 256; x++) expect(inv[s[x]!]).toBe(x);
  // S(0) = 0x63, S(0x53) = 0xed (FIPS-197 §5.1.1 example), S(0xff) = 0x16.
  expect([s[0], s[0x53], s[0xff]]).toEqual([0x63, 0xed, 0x16]);
});

it('the mask region of the 4-lane GHASH holds only its public masks (every fourth bit of a 32-bit lane, twice)', async () => {
  const core = await loadWasmCore();
  const m = core.memory.subarray(MASKS_REGION[0], MASKS_REGION[1]);
  const expected = new Uint8Array(128);
  for (let copy = 0; copy < 2; copy++) for (let c = 0; c < 4; c++) expected.fill(0x11 << c, 64 * copy + 16 * c, 64 * copy + 16 * (c + 1));
  expect(toHex(m)).toBe(toHex(expected));
});

it('wasm/sbox.ts is exactly what wasm/gen-sbox.mjs generates, after the generator checked the circuit on all 256 bytes', () => {
  // The bitsliced S-box (Boyar–Peralta, affine constant in the round keys) is generated code: a
  // hand edit, or a circuit that no longer equals FIPS-197's S-box, makes --check fail.
  const r = spawnSync(process.execPath, ['wasm/gen-sbox.mjs', '--check'], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/AND 32 XOR 83/);
});

describe('Wycheproof AES-GCM, every 96-bit IV case, on wasm', () => {
  it('has 197 cases', () => expect(gcmTests).toHaveLength(197));
  for (const t of gcmTests) {
    it(`tc${t.tcId} ${t.result} ${t.comment}`, async () => {
      const core = await loadWasmCore();
      const gcm = await wasm().aesGcm(hex(t.key));
      const sealed = cat(hex(t.ct), hex(t.tag));
      if (t.result === 'valid') {
        expect(toHex(await gcm.seal(hex(t.iv), hex(t.msg), hex(t.aad)))).toBe(toHex(sealed));
        expectClean(core);
        expect(toHex(await gcm.open(hex(t.iv), sealed, hex(t.aad)))).toBe(t.msg);
        expect(toHex(wasmSync().gcmOpen(hex(t.key), hex(t.iv), sealed, hex(t.aad)))).toBe(t.msg);
      } else {
        await expectCode(gcm.open(hex(t.iv), sealed, hex(t.aad)), 'ERR_AUTH');
        expect(() => wasmSync().gcmOpen(hex(t.key), hex(t.iv), sealed, hex(t.aad))).toThrow(EnsealError);
      }
      expectClean(core);
      gcm.dispose();
    });
  }
});

describe('kat.json on wasm', () => {
  for (const k of kat.aes_gcm) {
    it(`AES-GCM ${k.id}`, async () => {
      const gcm = await wasm().aesGcm(hex(k.key));
      if (k.iv.length !== 24) {
        // Only 96-bit nonces are taken (all enseal needs): other IV sizes are misuse.
        await expect(gcm.seal(hex(k.iv), hex(k.plaintext), hex(k.aad))).rejects.toThrow(RangeError);
        await expect(gcm.open(hex(k.iv), hex(k.ciphertext + k.tag), hex(k.aad))).rejects.toThrow(RangeError);
        return;
      }
      const sealed = await gcm.seal(hex(k.iv), hex(k.plaintext), hex(k.aad));
      expect(toHex(sealed)).toBe(k.ciphertext + k.tag);
      expect(toHex(await gcm.open(hex(k.iv), sealed, hex(k.aad)))).toBe(k.plaintext);
      expectClean(await loadWasmCore());
    });
  }
  for (const k of kat.aes_ctr) {
    it(`AES-CTR ${k.id}`, async () => {
      expect(toHex(await wasm().aesCtr(hex(k.key), hex(k.counterBlock), hex(k.plaintext)))).toBe(k.ciphertext);
      expect(toHex(await wasm().aesCtr(hex(k.key), hex(k.counterBlock), hex(k.ciphertext)))).toBe(k.plaintext);
      expectClean(await loadWasmCore());
    });
  }
});

describe('C2SP chunked-encryption vectors on wasm (70)', () => {
  for (const [file, suite] of [
    ['c2sp_chunked_encryption_aes_256_gcm_test.json', COBBLESTONE_256],
    ['c2sp_chunked_encryption_aes_128_gcm_test.json', COBBLESTONE_128],
  ] as const) {
    const tests: C2spTest[] = vector(`wycheproof/${file}`).testGroups[0].tests;
    it(`${file} has 35 vectors`, () => expect(tests).toHaveLength(35));
    for (const t of tests) {
      it(`${suite.name} tc${t.tcId} ${t.result} ${t.comment}`, async () => {
        const key = hex(t.key);
        const opts = { context: hex(t.ctx), suite, backend: 'wasm' as const };
        if (t.flags.includes('InvalidKeySize')) {
          await expect(open(key, inflateHex(t.ct), opts)).rejects.toThrow(RangeError);
          return;
        }
        if (t.result === 'valid') {
          const pt = await open(key, inflateHex(t.ct), opts);
          expect(pt.length).toBe(t.msgLength);
          expect(sha512hex(pt)).toBe(t.msgSha512);
          const again = await seal(key, pt, { ...opts, salt: inflateHex(t.ct).subarray(0, 24) });
          expect(sha512hex(again)).toBe(sha512hex(inflateHex(t.ct)));
        } else {
          const err = await open(key, inflateHex(t.ct), opts).then(() => undefined, (e: unknown) => e);
          expect(err).toBeInstanceOf(EnsealError);
        }
        expectClean(await loadWasmCore());
      });
    }
  }
});

describe('enseal-v1 vectors on wasm', () => {
  interface Doc {
    keys: Record<string, { id: string; key: string }>;
    positive: { name: string; recipients: string[]; context: Record<string, string>; randomness: string[]; plaintext: string; ciphertext: string }[];
    negative: { name: string; base: number; mutation: Parameters<typeof mutate>[1] | null; keys: string[]; expectedContext?: Record<string, string>; expect: string; sha256: string }[];
  }
  const doc = vector<Doc>('enseal-v1.json');
  const provider = (name: string) => aesKey({ id: doc.keys[name]!.id, key: hex(doc.keys[name]!.key) });
  const scripted = (randomness: string[]): CryptoBackend => {
    const queue = randomness.map(hex);
    return {
      ...wasm(),
      randomBytes(n: number) {
        const next = queue.shift();
        if (next === undefined || next.length !== n) throw new Error(`script expected ${next?.length} bytes, asked ${n}`);
        return next as Uint8Array<ArrayBuffer>;
      },
    };
  };
  for (const v of doc.positive) {
    it(`${v.name}: decrypts, and re-encrypts byte-identically`, async () => {
      for (const r of v.recipients) {
        expect(toHex(await decrypt(hex(v.ciphertext), { keys: [provider(r)], context: v.context, backend: 'wasm' }))).toBe(v.plaintext);
      }
      const ct = await encrypt(hex(v.plaintext), { recipients: v.recipients.map(provider), context: v.context, backend: scripted(v.randomness) });
      expect(toHex(ct)).toBe(v.ciphertext);
    });
  }
  for (const n of doc.negative) {
    it(`negative: ${n.name} → ${n.expect}`, async () => {
      const base = hex(doc.positive[n.base]!.ciphertext);
      const ct = n.mutation === null ? base : new Uint8Array(mutate(base, n.mutation));
      expect(createHash('sha256').update(ct).digest('hex')).toBe(n.sha256);
      await expectCode(decrypt(ct, { keys: n.keys.map(provider), context: n.expectedContext, backend: 'wasm' }), n.expect as never);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Properties against node:crypto

const keyArb = fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const nonceArb = fc.uint8Array({ minLength: 12, maxLength: 12 });
/** Lengths from 0 to 5 chunks, biased to chunk and block boundaries. */
const lengthArb = fc.oneof(
  fc.integer({ min: 0, max: 5 * CHUNK }),
  fc.integer({ min: 0, max: 5 }).chain((c) => fc.integer({ min: -17, max: 17 }).map((d) => Math.max(0, Math.min(5 * CHUNK, c * CHUNK + d)))),
);
const bytesOf = (n: number, seed: number): Uint8Array => pseudoRandom(n, seed);

describe('wasm equals node:crypto (fast-check)', () => {
  it('AES-GCM seal/open for random keys, nonces, AAD and lengths 0…5 chunks, at odd offsets', async () => {
    const core = await loadWasmCore();
    await fc.assert(
      fc.asyncProperty(keyArb, nonceArb, fc.uint8Array({ maxLength: 100 }), lengthArb, fc.integer(), fc.boolean(), async (key, nonce, aad, len, seed, odd) => {
        const pt = bytesOf(len, seed);
        const ptIn = odd ? atOddOffset(pt) : pt;
        const before = toHex(ptIn);
        const gcm = await wasm().aesGcm(odd ? atOddOffset(key) : key);
        const sealed = await gcm.seal(odd ? atOddOffset(nonce) : nonce, ptIn, odd ? atOddOffset(aad) : aad);
        expect(toHex(sealed)).toBe(toHex(nodeSeal(key, nonce, pt, aad)));
        expect(toHex(ptIn)).toBe(before); // input not mutated
        expectClean(core);
        expect(toHex(await gcm.open(nonce, odd ? atOddOffset(sealed) : sealed, aad))).toBe(toHex(pt));
        expectClean(core);
        if (sealed.length > 0) {
          const bad = sealed.slice();
          bad[(seed >>> 0) % bad.length]! ^= 1 << (seed & 7);
          await expectCode(gcm.open(nonce, bad, aad), 'ERR_AUTH');
          expectClean(core);
        }
        gcm.dispose();
      }),
      { numRuns: 40 },
    );
  });

  it('sealBatch/openBatch (nonce lists) of 0…20 messages ≤ 16 KiB', async () => {
    const core = await loadWasmCore();
    await fc.assert(
      fc.asyncProperty(keyArb, fc.array(fc.tuple(nonceArb, fc.integer({ min: 0, max: CHUNK })), { maxLength: 20 }), fc.integer(), async (key, msgs, seed) => {
        const nonces = msgs.map(([n]) => n);
        const pts = msgs.map(([, l], i) => atOddOffset(bytesOf(l, seed + i)));
        const gcm = await wasm().aesGcm(key);
        const pieces = await gcm.sealBatch(nonces, pts);
        const expected = msgs.map(([n], i) => toHex(nodeSeal(key, n, pts[i]!, new Uint8Array(0)))).join('');
        expect(pieces.map(toHex).join('')).toBe(expected);
        expectClean(core);
        const sealed = msgs.map(([n], i) => nodeSeal(key, n, pts[i]!, new Uint8Array(0)));
        expect((await gcm.openBatch(nonces, sealed)).map(toHex)).toEqual(pts.map(toHex));
        if (sealed.length > 0) {
          const at = (seed >>> 0) % sealed.length;
          const bad = sealed.map((s) => s.slice());
          bad[at]![0]! ^= 0x80;
          const e = await expectCode(gcm.openBatch(nonces, bad), 'ERR_AUTH');
          expect(e.chunk).toBe(at);
        }
        expectClean(core);
        gcm.dispose();
      }),
      { numRuns: 25 },
    );
  });

  it('sealChunks/openChunks derive the C2SP nonces in the module (first index up to 2^38 − 20)', async () => {
    await ready();
    const core = await loadWasmCore();
    const { sealChunks, openChunks } = wasmSync();
    await fc.assert(
      fc.property(
        fc.constantFrom(16, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        nonceArb,
        fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 38 - 21 }), fc.constantFrom(2 ** 32 - 3, 2 ** 38 - 21)),
        fc.integer({ min: 0, max: 20 }),
        fc.integer(),
        (key, base, first, count, seed) => {
          const pts = Array.from({ length: count }, (_, i) => bytesOf(i === count - 1 ? (seed >>> 0) % CHUNK : CHUNK, seed + i));
          const out = sealChunks(key, base, first, pts);
          expect(out.map(toHex)).toEqual(pts.map((p, i) => toHex(nodeSeal(key, c2spNonce(base, first + i), p, new Uint8Array(0)))));
          expectClean(core);
          expect(openChunks(key, base, first, out).map(toHex)).toEqual(pts.map(toHex));
          if (count > 0) {
            const at = (seed >>> 0) % count;
            const bad = out.map((s) => s.slice());
            bad[at]![bad[at]!.length - 1]! ^= 1;
            let err: unknown;
            try {
              openChunks(key, base, first, bad);
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(EnsealError);
            expect((err as EnsealError).code).toBe('ERR_AUTH');
            expect((err as EnsealError).chunk).toBe(first + at);
          }
          expectClean(core);
        },
      ),
      { numRuns: 25 },
    );
    expect(() => sealChunks(new Uint8Array(32), new Uint8Array(12), 2 ** 38 - 1, [new Uint8Array(1), new Uint8Array(1)])).toThrow(EnsealError);
  });

  it('AES-CTR from counters near 2^32, 2^64 and 2^128 (full 128-bit increment), any length', async () => {
    const core = await loadWasmCore();
    // random high bytes || (2^bits − below) in the low `bits` bits: the low part wraps within a few blocks
    const near = (bits: number, below: number, high = new Uint8Array(16)): Uint8Array => {
      const low = (1n << BigInt(bits)) - BigInt(below);
      const c = hex(low.toString(16).padStart(32, '0'));
      c.set(high.subarray(0, 16 - bits / 8), 0);
      return c;
    };
    const counterArb = fc.oneof(
      fc.tuple(fc.constantFrom(32, 64, 128), fc.integer({ min: 1, max: 40 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([bits, below, high]) => near(bits, below, high)),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
    );
    await fc.assert(
      fc.asyncProperty(keyArb, counterArb, fc.integer({ min: 0, max: 3 * CHUNK }), fc.integer(), async (key, counter, len, seed) => {
        const data = atOddOffset(bytesOf(len, seed));
        expect(toHex(await wasm().aesCtr(key, counter, data))).toBe(ctrOracle(key, counter, data));
        expect(toHex(wasmSync().ctr(key, atOddOffset(counter), data))).toBe(ctrOracle(key, counter, data));
        expectClean(core);
      }),
      { numRuns: 40 },
    );
    // The exact wrap of all 128 bits: ff…ff then 00…00.
    const key = pseudoRandom(32, 9);
    const data = pseudoRandom(64, 10);
    expect(toHex(await wasm().aesCtr(key, near(128, 1), data))).toBe(ctrOracle(key, near(128, 1), data));
  });

  it('AES block function (key wrap primitive) equals AES-ECB both ways', async () => {
    const core = await loadWasmCore();
    await fc.assert(
      fc.asyncProperty(keyArb, fc.integer({ min: 0, max: 64 }), fc.integer(), async (key, blocks, seed) => {
        const data = atOddOffset(bytesOf(16 * blocks, seed));
        const k = await wasm().aesBlock(key);
        const ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
        const expected = toHex(cat(ecb.update(data), ecb.final()));
        const enc = await k.encrypt(data);
        expect(toHex(enc)).toBe(expected);
        expect(toHex(await k.decrypt(enc))).toBe(toHex(data));
        const dec = createDecipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
        expect(toHex(await k.decrypt(data))).toBe(toHex(cat(dec.update(data), dec.final())));
        expectClean(core);
        k.dispose();
      }),
      { numRuns: 30 },
    );
  });

  it('HMAC and digests (hash-wasm) equal node:crypto', async () => {
    const { createHmac } = await import('node:crypto');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('SHA-256', 'SHA-384', 'SHA-512' as const), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), async (hash, key, data) => {
        const id = hash.replace('-', '').toLowerCase();
        expect(toHex(await wasm().hmac(hash, key, data))).toBe(createHmac(id, key).update(data).digest('hex'));
        expect(toHex(await wasm().digest(hash, data))).toBe(createHash(id).update(data).digest('hex'));
      }),
      { numRuns: 40 },
    );
  });
});

describe('wasm backend contract', () => {
  it('argument errors: key and nonce sizes, short ciphertexts, block lengths', async () => {
    const b = wasm();
    await expect(b.aesGcm(new Uint8Array(20))).rejects.toThrow(RangeError);
    await expect(b.aesBlock(new Uint8Array(8))).rejects.toThrow(RangeError);
    await expect(b.aesCtr(new Uint8Array(32), new Uint8Array(12), new Uint8Array(1))).rejects.toThrow(RangeError);
    const gcm = await b.aesGcm(new Uint8Array(32));
    await expect(gcm.seal(new Uint8Array(16), new Uint8Array(1))).rejects.toThrow(RangeError);
    await expectCode(gcm.open(new Uint8Array(12), new Uint8Array(15)), 'ERR_AUTH');
    const e = await expectCode(gcm.openBatch([new Uint8Array(12), new Uint8Array(12)], [nodeSeal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(3), new Uint8Array(0)), new Uint8Array(4)]), 'ERR_AUTH');
    expect(e.chunk).toBe(1);
    const blk = await b.aesBlock(new Uint8Array(32));
    await expect(blk.encrypt(new Uint8Array(15))).rejects.toThrow(RangeError);
  });

  it('a disposed key rejects every call with ERR_STATE and its copy is wiped; the caller key is untouched', async () => {
    const raw = pseudoRandom(32, 3);
    const gcm = await wasm().aesGcm(raw);
    const sealed = await gcm.seal(new Uint8Array(12), new Uint8Array(5));
    const pending = gcm.seal(new Uint8Array(12), new Uint8Array(5)); // in flight while disposed
    gcm.dispose();
    gcm.dispose(); // idempotent
    await expectCode(pending, 'ERR_STATE');
    await expectCode(gcm.open(new Uint8Array(12), sealed), 'ERR_STATE');
    await expectCode(gcm.sealBatch([], []), 'ERR_STATE');
    await expectCode(gcm.openBatch([], []), 'ERR_STATE');
    expect(toHex(raw)).toBe(toHex(pseudoRandom(32, 3)));
    const blk = await wasm().aesBlock(raw);
    blk.dispose();
    await expectCode(blk.encrypt(new Uint8Array(16)), 'ERR_STATE');
  });

  it('messages larger than the I/O window (AAD and plaintext of 300 KiB) equal node:crypto', async () => {
    const key = pseudoRandom(32, 4);
    const nonce = pseudoRandom(12, 5);
    const pt = pseudoRandom(300 * 1024 + 5, 6);
    const aad = pseudoRandom(300 * 1024 + 3, 7);
    const gcm = await wasm().aesGcm(key);
    const sealed = await gcm.seal(nonce, pt, aad);
    expect(sha512hex(sealed)).toBe(sha512hex(nodeSeal(key, nonce, pt, aad)));
    expect(sha512hex(await gcm.open(nonce, sealed, aad))).toBe(sha512hex(pt));
    sealed[1000]! ^= 1;
    await expectCode(gcm.open(nonce, sealed, aad), 'ERR_AUTH');
    const batch = await gcm.sealBatch([nonce], [pt]); // > 16 KiB: one message at a time
    expect(sha512hex(cat(...batch))).toBe(sha512hex(nodeSeal(key, nonce, pt, new Uint8Array(0))));
    const ctr = await wasm().aesCtr(key, new Uint8Array(16).fill(0xff), pt);
    expect(ctr.length).toBe(pt.length);
    expect(toHex(ctr.subarray(0, 64))).toBe(ctrOracle(key, new Uint8Array(16).fill(0xff), pt.subarray(0, 64)));
    expectClean(await loadWasmCore());
  });

  it('RSA is delegated (handles belong to wasm); randomBytes gives fresh bytes', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const b = wasm();
    const pub = await b.importRsaKey(publicKey.export({ type: 'spki', format: 'pem' }) as string, 'public');
    const priv = await b.importRsaKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'private');
    expect(pub.backend).toBe('wasm');
    const ct = await b.rsaOaepEncrypt(pub, 'SHA-256', Uint8Array.of(1, 2, 3));
    expect(Array.from(await b.rsaOaepDecrypt(priv, 'SHA-256', ct))).toEqual([1, 2, 3]);
    const nodePub = await getBackend('node').importRsaKey(publicKey.export({ type: 'spki', format: 'pem' }) as string, 'public');
    await expect(b.exportRsaSpki(nodePub)).rejects.toThrow(TypeError);
    const r1 = b.randomBytes(70000);
    const r2 = b.randomBytes(70000);
    expect(r1.length).toBe(70000);
    expect(toHex(r1)).not.toBe(toHex(r2));
  });

  it('whole objects: encrypt on wasm, decrypt on node and back (sizes around chunk boundaries)', async () => {
    const key = aesKey({ id: 'w', key: pseudoRandom(32, 8) });
    for (const n of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]) {
      const pt = pseudoRandom(n, n + 1);
      const a = await encrypt(pt, { recipients: [key], context: { k: 'v' }, backend: 'wasm' });
      expect(toHex(await decrypt(a, { keys: [key], context: { k: 'v' }, backend: 'node' }))).toBe(toHex(pt));
      const b = await encrypt(pt, { recipients: [key], backend: 'node' });
      expect(toHex(await decrypt(b, { keys: [key], backend: 'wasm' }))).toBe(toHex(pt));
    }
    expectClean(await loadWasmCore());
  });
});
