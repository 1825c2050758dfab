/**
 * AES key wrap: the backends' raw AES block primitive (against node:crypto AES-ECB), RFC 3394 KW
 * and RFC 5649 KWP against Wycheproof (aes_wrap_test.json, aes_kwp_test.json), the RFC known
 * answers of kat.json, node:crypto's id-aesN-wrap(-pad) as an independent oracle (fast-check),
 * a bit-flip tamper sweep; then aesKey's three wrap modes through encrypt/decrypt. Every suite is
 * a function of the backend.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendName, CryptoBackend } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/select.js';
import { AES_KWP_STANZA, AES_KW_STANZA } from '../src/keys/aes-key.js';
import { aesKwpUnwrap, aesKwpWrap, aesKwUnwrap, aesKwWrap } from '../src/keys/aes-kw.js';
import { AES_GCM_STANZA, EnsealError, aesKey, decrypt, encrypt, inspect, type Stanza } from '../src/index.js';
import { atOddOffset, BACKENDS, caught, expectCode, hex, pseudoRandom, toHex, vector } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Vectors

interface WrapTest { tcId: number; comment: string; flags: string[]; key: string; msg: string; ct: string; result: 'valid' | 'invalid' | 'acceptable' }
interface WrapGroup { keySize: number; tests: WrapTest[] }
interface KatKw { id: string; kek: string; keyData?: string; wrapped: string; expect?: 'unwrap-fails' }

const flat = (file: string): (WrapTest & { keySize: number })[] =>
  (vector(`wycheproof/${file}`).testGroups as WrapGroup[]).flatMap((g) => g.tests.map((t) => ({ ...t, keySize: g.keySize })));
const kwTests = flat('aes_wrap_test.json');
const kwpTests = flat('aes_kwp_test.json');
const kat = vector<{ aes_kw: KatKw[]; aes_kwp: KatKw[] }>('kat.json');

const count = (ts: WrapTest[], r: WrapTest['result']): number => ts.filter((t) => t.result === r).length;

it('vector files hold the expected counts', () => {
  expect(kwTests).toHaveLength(165);
  expect([count(kwTests, 'valid'), count(kwTests, 'invalid'), count(kwTests, 'acceptable')]).toEqual([36, 126, 3]);
  expect(kwTests.filter((t) => t.result === 'invalid' && t.ct === '')).toHaveLength(27); // wrap-side tests
  expect(kwTests.filter((t) => t.result === 'acceptable').every((t) => t.flags.includes('ShortKey') && t.msg.length === 16)).toBe(true);
  expect(kwpTests).toHaveLength(254);
  expect([count(kwpTests, 'valid'), count(kwpTests, 'invalid'), count(kwpTests, 'acceptable')]).toEqual([77, 177, 0]);
  expect(kat.aes_kw).toHaveLength(7);
  expect(kat.aes_kwp).toHaveLength(3);
});

// ---------------------------------------------------------------------------------------------
// Independent oracles (node:crypto, never through enseal)

const ecb = (key: Uint8Array, data: Uint8Array, decrypt = false): string => {
  const alg = `aes-${key.length * 8}-ecb`;
  const c = decrypt ? createDecipheriv(alg, key, null) : createCipheriv(alg, key, null);
  c.setAutoPadding(false);
  return toHex(Buffer.concat([c.update(data), c.final()]));
};
const opensslWrap = (kek: Uint8Array, data: Uint8Array, pad: boolean): string => {
  const c = createCipheriv(`id-aes${kek.length * 8}-wrap${pad ? '-pad' : ''}`, kek, pad ? Buffer.from('a65959a6', 'hex') : Buffer.alloc(8, 0xa6));
  return toHex(Buffer.concat([c.update(data), c.final()]));
};

/** Whole underlying buffer of a view (to prove nothing around a subarray changed either). */
const snapshot = (u8: Uint8Array): string => toHex(new Uint8Array(u8.buffer, 0, u8.buffer.byteLength));

// ---------------------------------------------------------------------------------------------

function blockSuite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`aesBlock (raw AES, ECB on whole blocks) / ${name}`, () => {
    it('encrypt and decrypt equal node:crypto AES-ECB for 128/192/256-bit keys, 0..5 blocks, at odd offsets', async () => {
      for (const kn of [16, 24, 32]) {
        const key = pseudoRandom(kn, kn);
        const aes = await b().aesBlock(atOddOffset(key));
        for (let n = 0; n <= 5; n++) {
          const data = pseudoRandom(16 * n, 100 + n);
          const input = atOddOffset(data);
          const before = snapshot(input);
          expect(toHex(await aes.encrypt(input)), `${kn * 8}-bit, ${n} blocks`).toBe(ecb(key, data));
          expect(toHex(await aes.decrypt(input)), `${kn * 8}-bit, ${n} blocks`).toBe(ecb(key, data, true));
          expect(snapshot(input)).toBe(before);
        }
        aes.dispose();
      }
    });

    it('decrypt never fails, whatever the block (the WebCrypto emulation has no padding errors)', async () => {
      const key = pseudoRandom(32, 7);
      const aes = await b().aesBlock(key);
      // Blocks whose plain AES decryption ends in every possible PKCS#7-looking byte pattern.
      const special = [new Uint8Array(16), new Uint8Array(16).fill(0xff), new Uint8Array(16).fill(0x10), new Uint8Array(16).fill(0x01)];
      const targets = special.map((p) => hex(ecb(key, p)));
      for (const c of [...special, ...targets, pseudoRandom(16 * 20, 3)]) {
        expect(toHex(await aes.decrypt(c))).toBe(ecb(key, c, true));
      }
    });

    it('refuses partial blocks (RangeError) and keys that are not 16/24/32 bytes', async () => {
      const aes = await b().aesBlock(new Uint8Array(16));
      for (const n of [1, 8, 15, 17, 33]) {
        await expect(aes.encrypt(new Uint8Array(n)), `${n}`).rejects.toThrow(RangeError);
        await expect(aes.decrypt(new Uint8Array(n)), `${n}`).rejects.toThrow(RangeError);
      }
      for (const n of [0, 8, 15, 31, 33, 64]) await expect(b().aesBlock(new Uint8Array(n)), `${n}`).rejects.toThrow(RangeError);
    });
  });
}

function wycheproofSuite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`Wycheproof AES-KW (RFC 3394) / ${name}`, () => {
    for (const t of kwTests) {
      it(`tc${t.tcId} ${t.keySize}-bit ${t.result} [${t.flags.join(',')}] ${t.comment}`, async () => {
        const [kek, msg, ct] = [hex(t.key), hex(t.msg), hex(t.ct)];
        if (t.result === 'valid') {
          expect(toHex(await aesKwWrap(b(), kek, msg))).toBe(t.ct);
          expect(toHex(await aesKwUnwrap(b(), kek, ct))).toBe(t.msg);
          return;
        }
        // Invalid, and our choice for "acceptable" 8-byte keys (SP 800-38F: n ≥ 2): refused both ways.
        if (t.ct !== '' || t.result === 'acceptable') {
          const e = await expectCode(aesKwUnwrap(b(), kek, ct), 'ERR_AUTH');
          expect(e.message).toBe('key unwrap failed (wrong key or modified data)');
        }
        if (t.ct === '' || t.result === 'acceptable' || msg.length < 16 || msg.length % 8 !== 0) {
          await expect(aesKwWrap(b(), kek, msg)).rejects.toThrow(RangeError);
        }
      });
    }
  });

  describe(`Wycheproof AES-KWP (RFC 5649) / ${name}`, () => {
    for (const t of kwpTests) {
      it(`tc${t.tcId} ${t.keySize}-bit ${t.result} [${t.flags.join(',')}] ${t.comment}`, async () => {
        const [kek, msg, ct] = [hex(t.key), hex(t.msg), hex(t.ct)];
        if (t.result === 'valid') {
          expect(toHex(await aesKwpWrap(b(), kek, msg))).toBe(t.ct);
          expect(toHex(await aesKwpUnwrap(b(), kek, ct))).toBe(t.msg);
          return;
        }
        const e = await expectCode(aesKwpUnwrap(b(), kek, ct), 'ERR_AUTH');
        expect(e.message).toBe('key unwrap failed (wrong key or modified data)');
        if (msg.length > 0) expect(toHex(await aesKwpWrap(b(), kek, msg))).not.toBe(t.ct); // a proper wrap differs
      });
    }
  });

  describe(`RFC 3394 / RFC 5649 known answers (kat.json) / ${name}`, () => {
    it('aes_kw: wrap gives the RFC ciphertext, unwrap gives the key data; the wrong KEK is ERR_AUTH', async () => {
      for (const v of kat.aes_kw) {
        if (v.expect === 'unwrap-fails') {
          await expectCode(aesKwUnwrap(b(), hex(v.kek), hex(v.wrapped)), 'ERR_AUTH');
          continue;
        }
        expect(toHex(await aesKwWrap(b(), hex(v.kek), hex(v.keyData!))), v.id).toBe(v.wrapped);
        expect(toHex(await aesKwUnwrap(b(), hex(v.kek), hex(v.wrapped))), v.id).toBe(v.keyData);
      }
    });

    it('aes_kwp: wrap gives the RFC ciphertext (one-block and multi-block cases), unwrap gives the key data', async () => {
      for (const v of kat.aes_kwp) {
        expect(toHex(await aesKwpWrap(b(), hex(v.kek), hex(v.keyData!))), v.id).toBe(v.wrapped);
        expect(toHex(await aesKwpUnwrap(b(), hex(v.kek), hex(v.wrapped))), v.id).toBe(v.keyData);
      }
      expect(kat.aes_kwp.some((v) => v.wrapped.length === 32)).toBe(true); // the 16-byte, one-AES case is covered
    });
  });
}

function propertySuite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`KW/KWP against node:crypto id-aes*-wrap(-pad), and tampering / ${name}`, () => {
    it('KW and KWP equal OpenSSL for random KEKs and key data; unwrap inverts; inputs are not mutated', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(16, 24, 32),
          fc.integer({ min: 1, max: 72 }),
          fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          async (kn, len, seed) => {
            const kek = pseudoRandom(kn, seed);
            const data = pseudoRandom(len, seed + 1);
            const input = atOddOffset(data);
            const before = snapshot(input);
            const kwp = await aesKwpWrap(b(), atOddOffset(kek), input);
            expect(toHex(kwp)).toBe(opensslWrap(kek, data, true));
            expect(toHex(await aesKwpUnwrap(b(), kek, atOddOffset(kwp)))).toBe(toHex(data));
            if (len >= 16 && len % 8 === 0) {
              const kw = await aesKwWrap(b(), kek, input);
              expect(toHex(kw)).toBe(opensslWrap(kek, data, false));
              expect(toHex(await aesKwUnwrap(b(), kek, atOddOffset(kw)))).toBe(toHex(data));
            }
            expect(snapshot(input)).toBe(before);
          },
        ),
        { numRuns: name === 'node' ? 120 : 40 },
      );
    });

    it('flipping any one of the 320 bits of a wrapped 32-byte key is ERR_AUTH (KW and KWP); so is a wrong KEK', async () => {
      const kek = pseudoRandom(32, 41);
      const dataKey = pseudoRandom(32, 42);
      for (const [wrap, unwrap] of [[aesKwWrap, aesKwUnwrap], [aesKwpWrap, aesKwpUnwrap]] as const) {
        const wrapped = await wrap(b(), kek, dataKey);
        expect(wrapped).toHaveLength(40);
        const results = await Promise.all(
          Array.from({ length: 320 }, (_, bit) => {
            const bad = wrapped.slice();
            bad[bit >> 3]! ^= 1 << (bit & 7);
            return caught(unwrap(b(), kek, bad));
          }),
        );
        for (const e of results) expect((e as EnsealError)?.code).toBe('ERR_AUTH');
        const otherKek = kek.slice();
        otherKek[31]! ^= 1;
        await expectCode(unwrap(b(), otherKek, wrapped), 'ERR_AUTH');
        await expectCode(unwrap(b(), kek, wrapped.subarray(8)), 'ERR_AUTH'); // one block dropped
      }
    });

    it('KWP length and padding checks: every MLI but the true one, and a non-zero pad byte, fail', async () => {
      // Build KWP ciphertexts with chosen (possibly wrong) AIVs through the KW core: KW with IV = AIV.
      const kek = pseudoRandom(16, 5);
      const forge = (aiv: string, padded: Uint8Array): string => {
        const c = createCipheriv('id-aes128-wrap', kek, Buffer.from(aiv, 'hex'));
        return Buffer.concat([c.update(padded), c.final()]).toString('hex');
      };
      const padded = new Uint8Array(24);
      padded.set(pseudoRandom(20, 6));
      expect(toHex(await aesKwpUnwrap(b(), kek, hex(forge('a65959a600000014', padded))))).toBe(toHex(padded.subarray(0, 20)));
      for (const mli of [0, 1, 15, 16, 25, 32, 0x7fffffff, 0xffffffff]) {
        const aiv = `a65959a6${mli.toString(16).padStart(8, '0')}`;
        await expectCode(aesKwpUnwrap(b(), kek, hex(forge(aiv, padded))), 'ERR_AUTH');
      }
      for (const mli of [17, 18, 19, 20, 21, 22, 23, 24]) {
        // Valid lengths for 24 padded bytes: accepted iff the bytes past MLI are zero.
        const aiv = `a65959a6${mli.toString(16).padStart(8, '0')}`;
        const r = await caught(aesKwpUnwrap(b(), kek, hex(forge(aiv, padded))));
        if (mli >= 20) expect(r, `mli ${mli}`).toBeUndefined();
        else expect((r as EnsealError).code, `mli ${mli}`).toBe('ERR_AUTH');
      }
      const dirty = padded.slice();
      dirty[23] = 1;
      await expectCode(aesKwpUnwrap(b(), kek, hex(forge('a65959a600000014', dirty))), 'ERR_AUTH');
      await expectCode(aesKwpUnwrap(b(), kek, hex(forge('a65959a700000014', padded))), 'ERR_AUTH'); // wrong AIV constant
    });

    it('misuse: lengths KW/KWP cannot wrap are RangeErrors; malformed wrapped lengths are ERR_AUTH', async () => {
      const kek = pseudoRandom(32, 9);
      for (const n of [0, 1, 7, 8, 9, 15, 17, 31]) await expect(aesKwWrap(b(), kek, new Uint8Array(n)), `KW ${n}`).rejects.toThrow(RangeError);
      await expect(aesKwpWrap(b(), kek, new Uint8Array(0))).rejects.toThrow(RangeError);
      for (const n of [0, 8, 15, 16, 23, 25, 41]) await expectCode(aesKwUnwrap(b(), kek, new Uint8Array(n)), 'ERR_AUTH');
      for (const n of [0, 8, 15, 17, 23, 25]) await expectCode(aesKwpUnwrap(b(), kek, new Uint8Array(n)), 'ERR_AUTH');
      for (const n of [0, 15, 33]) await expect(aesKwWrap(b(), new Uint8Array(n), new Uint8Array(16))).rejects.toThrow(RangeError);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// aesKey wrap modes through the envelope

const text = new TextEncoder().encode('key wrap modes');
const master = pseudoRandom(32, 77);

function aesKeyModes(name: BackendName): void {
  const backend = name;

  describe(`aesKey({ wrap }) through encrypt/decrypt / ${name}`, () => {
    for (const mode of [AES_GCM_STANZA, AES_KW_STANZA, AES_KWP_STANZA] as const) {
      it(`${mode}: round trip, stanza shape, and any mode's provider decrypts it`, async () => {
        const k = aesKey({ id: 'cmk', key: master, wrap: mode });
        for (const n of [0, 1, 16384, 40000]) {
          const pt = pseudoRandom(n, n + 3);
          const ct = await encrypt(pt, { recipients: [k], context: { m: mode }, backend });
          expect(toHex(await decrypt(ct, { keys: [k], backend }))).toBe(toHex(pt));
        }
        const ct = await encrypt(text, { recipients: [k], backend });
        const info = inspect(ct);
        expect(info.recipients).toEqual([{ type: mode, keyId: 'cmk', params: {}, wrappedKeyLength: mode === AES_GCM_STANZA ? 60 : 40 }]);
        for (const other of [AES_GCM_STANZA, AES_KW_STANZA, AES_KWP_STANZA] as const) {
          expect(await decrypt(ct, { keys: [aesKey({ id: 'cmk', key: master, wrap: other })], backend })).toEqual(text);
        }
      });
    }

    it('KW and KWP stanzas are exactly RFC 3394 / RFC 5649 of the data key (OpenSSL agrees)', async () => {
      const dataKey = pseudoRandom(32, 12);
      const ctx = { aad: new Uint8Array(3), encryptionContext: {}, backend: getBackend(name) };
      const kw = await aesKey({ id: 'x', key: master, wrap: 'aes256-kw' }).wrap(dataKey, ctx);
      const kwp = await aesKey({ id: 'x', key: master, wrap: 'aes256-kwp' }).wrap(dataKey, ctx);
      expect(toHex(kw.wrapped)).toBe(opensslWrap(master, dataKey, false));
      expect(toHex(kwp.wrapped)).toBe(opensslWrap(master, dataKey, true));
      expect([kw.type, kw.keyId, kw.params, kwp.type]).toEqual(['aes256-kw', 'x', {}, 'aes256-kwp']);
    });

    it('multi-recipient objects mixing gcm, kw and kwp: each key alone decrypts', async () => {
      const g = aesKey({ id: 'g', key: pseudoRandom(32, 1) });
      const w = aesKey({ id: 'w', key: pseudoRandom(32, 2), wrap: 'aes256-kw' });
      const p = aesKey({ id: 'p', key: pseudoRandom(32, 3), wrap: 'aes256-kwp' });
      const ct = await encrypt(text, { recipients: [w, g, p], context: { mixed: 'yes' }, backend });
      expect(inspect(ct).recipients.map((r) => r.type)).toEqual(['aes256-kw', 'aes256-gcm', 'aes256-kwp']);
      for (const k of [g, w, p]) expect(await decrypt(ct, { keys: [k], backend })).toEqual(text);
    });

    it('KW cannot bind the header, the header MAC does: an edited context fails as ERR_AUTH (gcm: ERR_NO_KEY)', async () => {
      for (const mode of [AES_KW_STANZA, AES_KWP_STANZA, AES_GCM_STANZA] as const) {
        const k = aesKey({ id: 'cmk', key: master, wrap: mode });
        const ct = await encrypt(text, { recipients: [k], context: { tenant: 'a' }, backend });
        const at = Buffer.from(ct).indexOf('tenant') + 'tenant'.length + 2; // the value byte 'a'
        const edited = ct.slice();
        edited[at] = 'b'.charCodeAt(0);
        expect(inspect(edited).context).toEqual({ tenant: 'b' });
        if (mode === AES_GCM_STANZA) {
          const e = await expectCode(decrypt(edited, { keys: [k], backend }), 'ERR_NO_KEY');
          expect((e.errors[0] as EnsealError).code).toBe('ERR_AUTH');
        } else {
          const e = await expectCode(decrypt(edited, { keys: [k], backend }), 'ERR_AUTH');
          expect(e.message).toBe('header authentication failed');
        }
      }
    });

    it('unwrap contract: other ids/types → null; malformed own stanza → ERR_HEADER; wrong key → ERR_AUTH', async () => {
      const ctx = { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend(name) };
      const dataKey = pseudoRandom(32, 8);
      for (const mode of [AES_KW_STANZA, AES_KWP_STANZA] as const) {
        const k = aesKey({ id: 'kid', key: master, wrap: mode });
        const s: Stanza = await k.wrap(dataKey, ctx);
        expect(toHex((await k.unwrap(s, ctx))!)).toBe(toHex(dataKey));
        expect(toHex((await k.unwrap(s, { ...ctx, aad: new Uint8Array(5) }))!)).toBe(toHex(dataKey)); // no AAD binding
        expect(await k.unwrap({ ...s, keyId: 'other' }, ctx)).toBeNull();
        expect(await k.unwrap({ ...s, type: 'aes128-kw' }, ctx)).toBeNull();
        await expectCode(k.unwrap({ ...s, wrapped: s.wrapped.subarray(0, 32) }, ctx), 'ERR_HEADER');
        await expectCode(k.unwrap({ ...s, wrapped: new Uint8Array(60) }, ctx), 'ERR_HEADER');
        await expectCode(k.unwrap({ ...s, params: { v: '1' } }, ctx), 'ERR_HEADER');
        const wrong = aesKey({ id: 'kid', key: pseudoRandom(32, 99) });
        const e = await expectCode(wrong.unwrap(s, ctx), 'ERR_AUTH');
        expect(e.message).not.toContain(toHex(master).slice(0, 8));
        const tampered = s.wrapped.slice();
        tampered[39]! ^= 0x80;
        await expectCode(k.unwrap({ ...s, wrapped: tampered }, ctx), 'ERR_AUTH');
      }
    });
  });
}

describe('aesKey wrap option misuse', () => {
  it('an unknown wrap mode is a TypeError; the default stays aes256-gcm', async () => {
    expect(() => aesKey({ id: 'k', key: master, wrap: 'aes256-ecb' as never })).toThrow(TypeError);
    expect(() => aesKey({ id: 'k', key: master, wrap: 'toString' as never })).toThrow(TypeError);
    const k = aesKey({ id: 'k', key: master });
    expect(k.description).toBe('aes256-gcm:k');
    expect(aesKey({ id: 'k', key: master, wrap: 'aes256-kwp' }).description).toBe('aes256-kwp:k');
    const s = await k.wrap(pseudoRandom(32, 1), { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() });
    expect(s.type).toBe('aes256-gcm');
    expect(s.wrapped).toHaveLength(60);
  });

  it('a disposed KW key throws ERR_STATE', async () => {
    const k = aesKey({ id: 'k', key: master, wrap: 'aes256-kw' });
    k.dispose();
    await expectCode(encrypt(text, { recipients: [k] }), 'ERR_STATE');
  });
});

for (const name of BACKENDS) {
  blockSuite(name);
  wycheproofSuite(name);
  propertySuite(name);
  aesKeyModes(name);
}
