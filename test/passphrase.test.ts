/**
 * Passphrase provider: KDF known answers (RFC 7914 scrypt, RFC 9106 / reference Argon2id,
 * Wycheproof PBKDF2-HMAC-SHA-256) through the provider's own `deriveKey`, both in the worker
 * thread and on the calling thread; round trips with each KDF on every backend; wrong
 * passphrases; untrusted stanza parameters refused before any KDF runs; mixing with `aesKey`.
 * The work budget, the worker thread and pinned parameters: test/passphrase-budget.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, EnsealError, getBackend, inspect, type CryptoBackend, type KeyProvider, type Stanza, type WrapContext } from '../src/index.js';
import { passphrase, PASSPHRASE_STANZA } from '../src/keys/passphrase.js';
import { deriveKey, deriveKeyOnThisThread, type KdfParams } from '../src/keys/passphrase-kdf.js';
import { checkKdfParams, DEFAULT_KDF_PARAMS, PASSPHRASE_LIMITS } from '../src/keys/passphrase-params.js';
import { BACKENDS, expectCode, hex, pseudoRandom, toHex, vector } from './helpers.js';

const text = new TextEncoder().encode('the eagle has landed');
/** Cheap costs, so that most tests take milliseconds. */
const CHEAP = {
  argon2id: { kdf: 'argon2id', params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } },
  scrypt: { kdf: 'scrypt', params: { N: 1024, r: 8, p: 1 } },
  'pbkdf2-sha256': { kdf: 'pbkdf2-sha256', params: { iterations: 10_000 } },
} as const;
const cheap = (pw: string | Uint8Array, kdf: keyof typeof CHEAP = 'argon2id', extra: object = {}) =>
  passphrase({ passphrase: pw, ...CHEAP[kdf], ...extra } as Parameters<typeof passphrase>[0]);

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const SALT = b64(pseudoRandom(16, 3));

/** A provider that writes a hand-built stanza (the attacker's object). */
function forger(stanza: Stanza): KeyProvider {
  return { description: 'forger', wrap: async () => stanza, unwrap: async () => null };
}

/** Both ways a derivation runs: in a worker thread (the default here) and on the calling thread. */
const DERIVERS = [
  ['worker thread', deriveKey],
  ['this thread', deriveKeyOnThisThread],
] as const;

describe('passphrase KDFs: known answers', () => {
  const kat = vector('kat.json');

  for (const [where, deriveKey] of DERIVERS) it(`Argon2id: RFC 9106 / reference test.c / pyca vectors (${where})`, async () => {
    let ran = 0;
    const notExpressible: string[] = [];
    for (const v of kat.argon2id) {
      const params: KdfParams = { kdf: 'argon2id', memoryKiB: v.memoryKiB, iterations: v.iterations, parallelism: v.parallelism };
      expect(v.version, v.id).toBe(19);
      if (v.secret !== undefined || v.associatedData !== undefined) {
        notExpressible.push(v.id); // enseal's Argon2id has no secret K and no associated data X
        continue;
      }
      if (v.password === '') {
        // RFC 9106 allows it; hash-wasm (and so the provider) refuses an empty password.
        await expect(deriveKey(params, new Uint8Array(0), hex(v.salt), v.tagLength)).rejects.toThrow(RangeError);
        continue;
      }
      expect(toHex(await deriveKey(params, hex(v.password), hex(v.salt), v.tagLength)), v.id).toBe(v.tag);
      ran++;
    }
    expect(notExpressible).toEqual(['rfc9106-5.3']);
    expect(ran).toBe(kat.argon2id.length - 2);
  });

  it('scrypt: RFC 7914 §12 (worker thread), including the 1 GiB vector beyond the default reader bound', async () => {
    for (const v of kat.scrypt) {
      const params: KdfParams = { kdf: 'scrypt', N: v.N, r: v.r, p: v.p };
      expect(toHex(await deriveKey(params, hex(v.password), hex(v.salt), v.length)), v.id).toBe(v.dk);
      // The small ones on this thread too (the 1 GiB one would stay in this process's WebAssembly memory).
      if (128 * v.N * v.r * v.p <= 16 << 20) {
        expect(toHex(await deriveKeyOnThisThread(params, hex(v.password), hex(v.salt), v.length)), `${v.id} (this thread)`).toBe(v.dk);
      }
    }
    expect(kat.scrypt.map((v: { id: string }) => v.id)).toEqual(['rfc7914-12-1', 'rfc7914-12-2', 'rfc7914-12-3', 'rfc7914-12-4']);
    // Vector 4 (128·N·r·p = 1 GiB) is above what a stanza may ask of a default reader (256 MiB).
    const v4 = kat.scrypt[3];
    expect(128 * v4.N * v4.r * v4.p).toBe(4 * PASSPHRASE_LIMITS.maxMemoryKiB * 1024);
    let refused: unknown;
    try {
      checkKdfParams({ kdf: 'scrypt', N: v4.N, r: v4.r, p: v4.p }, PASSPHRASE_LIMITS.maxMemoryKiB, 'stanza');
    } catch (e) {
      refused = e;
    }
    expect((refused as EnsealError)?.code).toBe('ERR_LIMIT');
  });

  it('PBKDF2-HMAC-SHA-256: all 60 Wycheproof vectors on this thread, every 6th also in the worker thread', async () => {
    const file = vector('wycheproof/pbkdf2_hmacsha256_test.json');
    let n = 0;
    let inWorker = 0;
    for (const group of file.testGroups) {
      for (const t of group.tests) {
        expect(t.result).toBe('valid');
        const params: KdfParams = { kdf: 'pbkdf2-sha256', iterations: t.iterationCount };
        const dk = await deriveKeyOnThisThread(params, hex(t.password), hex(t.salt), t.dkLen);
        expect(toHex(dk), `tcId ${t.tcId}`).toBe(t.dk);
        if (n % 6 === 0) {
          expect(toHex(await deriveKey(params, hex(t.password), hex(t.salt), t.dkLen)), `tcId ${t.tcId} (worker)`).toBe(t.dk);
          inWorker++;
        }
        n++;
      }
    }
    expect(n).toBe(60);
    expect(inWorker).toBe(10);
    expect(file.numberOfTests).toBe(60);
  });

  for (const [where, deriveKey] of DERIVERS) it(`deriveKey refuses unknown KDFs, non-byte inputs and bad costs (${where})`, async () => {
    await expect(deriveKey({ kdf: 'bcrypt' } as never, hex('00'), hex('00'))).rejects.toThrow(TypeError);
    await expect(deriveKey({ kdf: 'scrypt', N: 2, r: 1, p: 1 }, 'pw' as never, hex('00'))).rejects.toThrow(TypeError);
    // hash-wasm's own refusal (N not a power of 2), from the worker as from this thread.
    await expect(deriveKey({ kdf: 'scrypt', N: 3, r: 1, p: 1 }, hex('00'), hex('00'))).rejects.toThrow(RangeError);
    await expect(deriveKey({ kdf: 'argon2id', memoryKiB: 8, iterations: 1, parallelism: 1 }, new Uint8Array(0), hex('00'.repeat(16)))).rejects.toThrow(RangeError);
    await expect(deriveKey({ kdf: 'pbkdf2-sha256', iterations: 0 }, hex('00'), hex('00'))).rejects.toThrow(RangeError);
  });
});

for (const backend of BACKENDS) {
  describe(`passphrase / ${backend}`, () => {
    for (const kdf of ['argon2id', 'scrypt', 'pbkdf2-sha256'] as const) {
      it(`round trips with ${kdf}; the stanza holds exactly the KDF's parameters`, async () => {
        const pw = cheap('correct horse battery staple', kdf, { label: 'backups' });
        const ct = await encrypt(text, { recipients: [pw], context: { app: 'test' }, backend });
        const [stanza] = inspect(ct).recipients;
        expect(stanza!.type).toBe(PASSPHRASE_STANZA);
        expect(stanza!.keyId).toBe('backups');
        const costs = { argon2id: ['m', 'p', 't'], scrypt: ['N', 'p', 'r'], 'pbkdf2-sha256': ['i'] }[kdf];
        expect(Object.keys(stanza!.params).sort()).toEqual(['kdf', 'salt', ...costs].sort());
        expect(stanza!.params.kdf).toBe(kdf);
        expect(Buffer.from(stanza!.params.salt!, 'base64').length).toBe(16);
        // A fresh provider with the same passphrase (as bytes this time) decrypts.
        const again = cheap(new TextEncoder().encode('correct horse battery staple'), kdf);
        expect(await decrypt(ct, { keys: [again], backend })).toEqual(text);
      });
    }

    it('a wrong passphrase is ERR_NO_KEY whose cause is ERR_AUTH', async () => {
      const ct = await encrypt(text, { recipients: [cheap('right')], backend });
      const err = await expectCode(decrypt(ct, { keys: [cheap('wrong')], backend }), 'ERR_NO_KEY');
      expect(err.errors).toHaveLength(1);
      expect((err.errors[0] as EnsealError).code).toBe('ERR_AUTH');
      expect((err.errors[0] as Error).message).not.toMatch(/wrong"|right/);
    });

    it('the wrap is bound to the label, the parameters and the header', async () => {
      const ctx: WrapContext = { aad: hex('656e7365616c0101'), encryptionContext: {}, backend: getBackend(backend) };
      const pw = cheap('pw', 'scrypt', { label: 'a' });
      const dataKey = pseudoRandom(32, 11);
      const s = await pw.wrap(dataKey, ctx);
      expect(s.wrapped.length).toBe(60);
      expect(toHex((await pw.unwrap(s, ctx))!)).toBe(toHex(dataKey));
      await expectCode(pw.unwrap({ ...s, keyId: 'b' }, ctx), 'ERR_AUTH');
      await expectCode(pw.unwrap(s, { ...ctx, aad: hex('656e7365616c0102') }), 'ERR_AUTH');
      await expectCode(pw.unwrap({ ...s, params: { ...s.params, salt: SALT } }, ctx), 'ERR_AUTH');
      const flipped = s.wrapped.slice();
      flipped[20]! ^= 1;
      await expectCode(pw.unwrap({ ...s, wrapped: flipped }, ctx), 'ERR_AUTH');
      expect(await pw.unwrap({ ...s, type: 'aes256-gcm' }, ctx)).toBeNull();
    });

    it('mixes with aesKey: either recipient alone decrypts', async () => {
      const alice = aesKey({ id: 'alice', key: pseudoRandom(32, 1) });
      const pw = cheap('shared secret', 'argon2id');
      const ct = await encrypt(text, { recipients: [alice, pw], backend });
      expect(inspect(ct).recipients.map((r) => r.type)).toEqual(['aes256-gcm', PASSPHRASE_STANZA]);
      expect(await decrypt(ct, { keys: [alice], backend })).toEqual(text);
      expect(await decrypt(ct, { keys: [pw], backend })).toEqual(text);
      expect(await decrypt(ct, { keys: [cheap('nope'), aesKey({ id: 'alice', key: pseudoRandom(32, 1) })], backend })).toEqual(text);
      const err = await expectCode(decrypt(ct, { keys: [cheap('nope'), aesKey({ id: 'bob', key: pseudoRandom(32, 2) })], backend }), 'ERR_NO_KEY');
      expect(err.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_AUTH']);
      const reversed = await encrypt(text, { recipients: [pw, alice], backend });
      expect(await decrypt(reversed, { keys: [alice], backend })).toEqual(text);
    });
  });
}

describe('passphrase: default Argon2id costs', () => {
  it('writes m = 128 MiB, t = 2, p = 1 and round trips', async () => {
    expect(DEFAULT_KDF_PARAMS.argon2id).toEqual({ memoryKiB: 131072, iterations: 2, parallelism: 1 });
    const pw = passphrase({ passphrase: 'correct horse battery staple' });
    expect(pw.kdf).toEqual({ kdf: 'argon2id', memoryKiB: 131072, iterations: 2, parallelism: 1 });
    const ct = await encrypt(text, { recipients: [pw] });
    const params = inspect(ct).recipients[0]!.params;
    expect([params.kdf, params.m, params.t, params.p]).toEqual(['argon2id', '131072', '2', '1']);
    expect(await decrypt(ct, { keys: [pw] })).toEqual(text);
  });
});

describe('passphrase: untrusted stanza parameters', () => {
  const wrapped = pseudoRandom(60, 9);
  const argon = { kdf: 'argon2id', m: '1024', t: '1', p: '1', salt: SALT };
  const scryptP = { kdf: 'scrypt', N: '1024', r: '8', p: '1', salt: SALT };
  const pbkdf = { kdf: 'pbkdf2-sha256', i: '10000', salt: SALT };
  const cases: [string, Record<string, string>, string, RegExp?][] = [
    ['argon2id m = 4 GiB', { ...argon, m: String(4 * 1024 * 1024) }, 'ERR_LIMIT', /m = 4194304 KiB exceeds the limit 262144 KiB/],
    ['argon2id m = 256 MiB + 1 KiB', { ...argon, m: String(262145) }, 'ERR_LIMIT', /m = 262145 KiB exceeds the limit 262144 KiB/],
    ['argon2id t = 1000', { ...argon, t: '1000' }, 'ERR_LIMIT', /t = 1000 exceeds the limit 8/],
    ['argon2id t = 9', { ...argon, t: '9' }, 'ERR_LIMIT', /t = 9 exceeds the limit 8/],
    ['argon2id p = 255', { ...argon, p: '255' }, 'ERR_LIMIT', /p = 255 exceeds the limit 4/],
    ['argon2id p = 5', { ...argon, p: '5' }, 'ERR_LIMIT', /p = 5 exceeds the limit 4/],
    ['argon2id m < 8·p', { ...argon, m: '16', p: '4' }, 'ERR_HEADER', /8·p/],
    ['scrypt N = 2^30', { ...scryptP, N: String(2 ** 30) }, 'ERR_LIMIT', /N = 1073741824 exceeds the limit 2\^20/],
    ['scrypt 128·N·r·p = 2 GiB', { ...scryptP, N: String(2 ** 20), p: '2' }, 'ERR_LIMIT', /128·N·r·p = 2147483648 bytes exceeds the limit 262144 KiB/],
    ['scrypt 128·N·r·p = 512 MiB', { ...scryptP, N: String(2 ** 19) }, 'ERR_LIMIT', /128·N·r·p = 536870912 bytes exceeds the limit 262144 KiB/],
    ['scrypt r·p huge', { ...scryptP, r: '1000000', p: '1000000' }, 'ERR_LIMIT', /r = 1000000 exceeds the limit 16/],
    ['scrypt r = 17', { ...scryptP, r: '17' }, 'ERR_LIMIT', /r = 17 exceeds the limit 16/],
    ['scrypt p = 17', { ...scryptP, p: '17' }, 'ERR_LIMIT', /p = 17 exceeds the limit 16/],
    ['scrypt N not a power of 2', { ...scryptP, N: '1000' }, 'ERR_HEADER', /power of 2/],
    ['scrypt N ≥ 2^(16·r)', { ...scryptP, N: String(2 ** 16), r: '1' }, 'ERR_HEADER', /RFC 7914/],
    ['pbkdf2 i = 10^9', { ...pbkdf, i: '1000000000' }, 'ERR_LIMIT', /i = 1000000000 outside the limits 10000\.\.1200000/],
    ['pbkdf2 i = 1 200 001', { ...pbkdf, i: '1200001' }, 'ERR_LIMIT', /i = 1200001 outside the limits 10000\.\.1200000/],
    ['pbkdf2 i = 1000', { ...pbkdf, i: '1000' }, 'ERR_LIMIT', /outside the limits/],
    ['pbkdf2 i with 30 digits', { ...pbkdf, i: '9'.repeat(30) }, 'ERR_LIMIT', /30 digits/],
    ['non-canonical integer 010', { ...argon, t: '01' }, 'ERR_HEADER', /canonical/],
    ['integer 0', { ...argon, t: '0' }, 'ERR_HEADER', /canonical/],
    ['integer 1e3', { ...pbkdf, i: '1e5' }, 'ERR_HEADER', /canonical/],
    ['salt not base64', { ...argon, salt: 'not base64!' }, 'ERR_HEADER', /salt/],
    ['salt of 8 bytes', { ...argon, salt: b64(pseudoRandom(8)) }, 'ERR_HEADER', /salt/],
    ['salt of 33 bytes', { ...argon, salt: b64(pseudoRandom(33)) }, 'ERR_HEADER', /salt/],
    ['salt with stray bits', { ...argon, salt: 'AAAAAAAAAAAAAAAAAAAAAB==' }, 'ERR_HEADER', /canonical base64/],
    ['salt of 4096 characters', { ...argon, salt: 'A'.repeat(4096) }, 'ERR_HEADER', /salt/],
    ['unknown kdf', { ...argon, kdf: 'bcrypt' }, 'ERR_UNSUPPORTED', /unknown kdf/],
    ['missing kdf', { m: '1024', t: '1', p: '1', salt: SALT }, 'ERR_HEADER', /missing parameter kdf/],
    ['missing salt', { kdf: 'argon2id', m: '1024', t: '1', p: '1' }, 'ERR_HEADER', /missing parameter salt/],
    ['extra parameter', { ...argon, x: '1' }, 'ERR_HEADER', /unexpected parameter/],
    ['scrypt names under argon2id', { ...scryptP, kdf: 'argon2id' }, 'ERR_HEADER', /missing parameter m/],
  ];

  for (const backend of BACKENDS) {
    it(`every bad parameter is refused before any KDF runs (${backend})`, async () => {
      const pw = cheap('pw');
      for (const [name, params, code, message] of cases) {
        const ct = await encrypt(text, { recipients: [forger({ type: PASSPHRASE_STANZA, keyId: '', params, wrapped })], backend });
        const started = performance.now();
        const err = await expectCode(decrypt(ct, { keys: [pw], backend }), 'ERR_NO_KEY');
        const ms = performance.now() - started;
        expect(err.errors, name).toHaveLength(1);
        const cause = err.errors[0] as EnsealError;
        expect(cause, name).toBeInstanceOf(EnsealError);
        expect(cause.code, `${name}: ${cause.message}`).toBe(code);
        if (message) expect(cause.message, name).toMatch(message);
        expect(ms, `${name} took ${ms.toFixed(1)} ms`).toBeLessThan(250);
      }
    });
  }

  it('a wrapped key of the wrong length is ERR_HEADER', async () => {
    const ctx: WrapContext = { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() };
    await expectCode(cheap('pw').unwrap({ type: PASSPHRASE_STANZA, keyId: '', params: argon, wrapped: wrapped.subarray(1) }, ctx), 'ERR_HEADER');
  });

  it('maxMemoryKiB lowers (or raises) the memory a reader accepts', async () => {
    const ct = await encrypt(text, { recipients: [passphrase({ passphrase: 'pw', params: { memoryKiB: 2048, iterations: 1 } })] });
    const err = await expectCode(decrypt(ct, { keys: [cheap('pw', 'argon2id', { maxMemoryKiB: 1024 })] }), 'ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_LIMIT');
    expect((err.errors[0] as Error).message).toMatch(/m = 2048 KiB exceeds the limit 1024 KiB \(maxMemoryKiB\)/);
    expect(await decrypt(ct, { keys: [cheap('pw', 'argon2id', { maxMemoryKiB: 2048 })] })).toEqual(text);
    expect(() => passphrase({ passphrase: 'pw', params: { memoryKiB: 4096 }, maxMemoryKiB: 2048 })).toThrow(RangeError);
  });
});

describe('passphrase: options and key hygiene', () => {
  it('rejects misuse with TypeError/RangeError', () => {
    expect(() => passphrase(undefined as never)).toThrow(TypeError);
    expect(() => passphrase({} as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 42 } as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: '' })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'a\uD800b' })).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 'pw', kdf: 'bcrypt' } as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 'pw', params: { memory: 1 } } as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 'pw', params: { memoryKiB: 2 ** 21 } })).toThrow(/exceeds the limit 262144 KiB/);
    expect(() => passphrase({ passphrase: 'pw', params: { iterations: 9 } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', params: { parallelism: 5 } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', kdf: 'scrypt', params: { N: 2 ** 19 } })).toThrow(/128·N·r·p/);
    expect(() => passphrase({ passphrase: 'pw', kdf: 'pbkdf2', params: { iterations: 1_200_001 } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', params: { iterations: 1.5 } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', kdf: 'scrypt', params: { N: 1000 } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', kdf: 'pbkdf2-sha256', params: { iterations: 9999 } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', maxMemoryKiB: 2 ** 21 + 1 })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', maxCost: 0 })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', maxCost: Number.NaN })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', maxCost: 1001 })).toThrow(RangeError);
    // Its own stanza would be beyond its own budget: refused at once.
    expect(() => passphrase({ passphrase: 'pw', maxCost: 1 })).toThrow(/1\.1 cost units, above "maxCost" 1/);
    expect(() => passphrase({ passphrase: 'pw', expect: { kdf: 'bcrypt' } } as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 'pw', expect: { params: {} } } as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 'pw', expect: { kdf: 'argon2id', params: { N: 1 } } } as never)).toThrow(TypeError);
    expect(() => passphrase({ passphrase: 'pw', expect: { kdf: 'argon2id', params: { memoryKiB: 1.5 } } })).toThrow(RangeError);
    expect(() => passphrase({ passphrase: 'pw', label: 'x'.repeat(2049) })).toThrow(RangeError);
  });

  it('never puts the passphrase in an error or description', async () => {
    const secret = 'hunter2-very-secret';
    const pw = cheap(secret, 'argon2id', { label: 'lbl' });
    expect(pw.description).toBe('passphrase:lbl');
    const ct = await encrypt(text, { recipients: [cheap('other')] });
    const err = await expectCode(decrypt(ct, { keys: [pw] }), 'ERR_NO_KEY');
    expect(JSON.stringify([err.message, ...err.errors.map(String)])).not.toContain(secret);
    const e2 = (() => {
      try {
        passphrase({ passphrase: secret, params: { iterations: 99 } });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(e2?.message).toBeTruthy();
    expect(e2!.message).not.toContain(secret);
  });

  it('strings are NFC-normalised; bytes are used as given', async () => {
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    const ct = await encrypt(text, { recipients: [cheap(composed)] });
    expect(await decrypt(ct, { keys: [cheap(decomposed)] })).toEqual(text);
    expect(await decrypt(ct, { keys: [cheap(new TextEncoder().encode(composed))] })).toEqual(text);
    const err = await expectCode(decrypt(ct, { keys: [cheap(new TextEncoder().encode(decomposed))] }), 'ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_AUTH');
  });

  it('copies the passphrase bytes, wipes the derived KEK, and can be disposed', async () => {
    const bytes = new TextEncoder().encode('pw-bytes');
    const pw = cheap(bytes);
    bytes.fill(0);
    const real = getBackend('node');
    const keys: Uint8Array[] = [];
    const spy = new Proxy(real, {
      get: (target, prop) => {
        if (prop === 'aesGcm') return async (k: Uint8Array) => (keys.push(k), target.aesGcm(k));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as CryptoBackend;
    const ctx: WrapContext = { aad: new Uint8Array(0), encryptionContext: {}, backend: spy };
    const s = await pw.wrap(pseudoRandom(32, 4), ctx);
    expect(toHex((await pw.unwrap(s, ctx))!)).toBe(toHex(pseudoRandom(32, 4)));
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(k.every((b) => b === 0)).toBe(true);
    pw.dispose();
    await expectCode(pw.unwrap(s, ctx), 'ERR_STATE');
    await expectCode(pw.wrap(pseudoRandom(32, 4), ctx), 'ERR_STATE');
  });
});
