/**
 * The per-message fast paths (src/envelope/oneshot-sync.ts, the KEK cache of aesKey, the random
 * pools): the synchronous encrypt/decrypt of node:crypto + aesKey must give the same bytes, the
 * same random draws and the same errors, in the same order, as the asynchronous path; it falls
 * back to that path whenever a part of the call is asynchronous; it leaves no key alive.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, getBackend, type CryptoBackend, type KeyProvider } from '../src/index.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { syncAesGcmOf } from '../src/backends/sync.js';
import { decryptSync, encryptSync } from '../src/envelope/oneshot-sync.js';
import { sealedSize } from '../src/format/cobblestone.js';
import { expectCode, pseudoRandom, toHex } from './helpers.js';

const CHUNK = 16384;
const alice = aesKey({ id: 'alice', key: pseudoRandom(32, 1) });
const bob = aesKey({ id: 'bob', key: pseudoRandom(32, 2) });

/** node with randomBytes replayed from a seed, recording the sizes asked for. */
function scripted(base: CryptoBackend, seed: number): CryptoBackend & { asked: number[] } {
  const asked: number[] = [];
  let n = seed;
  return {
    ...base,
    asked,
    randomBytes(size: number) {
      asked.push(size);
      return pseudoRandom(size, n++) as Uint8Array<ArrayBuffer>;
    },
  };
}

/** The same backend with `aesGcm` re-wrapped: no synchronous key factory, so the asynchronous path runs. */
function forcedAsync(b: CryptoBackend): CryptoBackend {
  return { ...b, aesGcm: (k: Uint8Array) => b.aesGcm(k) };
}

describe('synchronous one-shot path (node + aesKey)', () => {
  const node = getBackend('node');

  it('is available for node only, and a re-wrapped aesGcm drops it', () => {
    expect(syncAesGcmOf(node)).toBeTypeOf('function');
    expect(syncAesGcmOf(getBackend('webcrypto'))).toBeUndefined();
    expect(syncAesGcmOf(forcedAsync(node))).toBeUndefined();
  });

  it('runs exactly when every part is synchronous (else returns undefined having drawn nothing)', () => {
    const pt = pseudoRandom(100, 9);
    const kw = aesKey({ id: 'alice', key: pseudoRandom(32, 1), wrap: 'aes256-kw' });
    const custom: KeyProvider = { description: 'custom', wrap: (k, c) => alice.wrap(k, c), unwrap: (s, c) => alice.unwrap(s, c) };
    const ct = encryptSync(pt, { recipients: [alice] }, node, sealedSize(pt.length));
    expect(ct).toBeInstanceOf(Uint8Array);
    expect(toHex(decryptSync(ct!, { keys: [alice] }, node)!)).toBe(toHex(pt));
    for (const [recipients, backend] of [[[kw], node], [[alice, custom], node], [[alice], getBackend('webcrypto')], [[alice], forcedAsync(node)]] as const) {
      const s = scripted(backend, 1);
      expect(encryptSync(pt, { recipients }, s, sealedSize(pt.length))).toBeUndefined();
      expect(s.asked).toEqual([]);
    }
    expect(decryptSync(ct!, { keys: [custom] }, node)).toBeUndefined();
    expect(decryptSync(ct!, { keys: [alice] }, forcedAsync(node))).toBeUndefined();
  });

  for (const size of [0, 1, 1024, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]) {
    it(`${size} bytes: byte-identical to the asynchronous path with the same randomness, same draws, round-trips both ways`, async () => {
      const pt = pseudoRandom(size, size + 1);
      const context = { bucket: 'b', k: String(size) };
      const fast = scripted(node, 500);
      const slow = scripted(forcedAsync(node), 500);
      const a = await encrypt(pt, { recipients: [alice, bob], context, backend: fast });
      const b = await encrypt(pt, { recipients: [alice, bob], context, backend: slow });
      expect(toHex(a)).toBe(toHex(b));
      expect(fast.asked).toEqual([32, 12, 12, 24]); // data key, each recipient's nonce, salt
      expect(slow.asked).toEqual(fast.asked);
      for (const keys of [[alice], [bob], [bob, alice]]) {
        expect(toHex(await decrypt(a, { keys, context, backend: node }))).toBe(toHex(pt));
        expect(toHex(await decrypt(a, { keys, backend: forcedAsync(node) }))).toBe(toHex(pt));
        expect(toHex(await decrypt(a, { keys, backend: 'webcrypto' }))).toBe(toHex(pt));
      }
    });
  }

  it('every tampered byte of a 2-chunk object fails with the same code on both paths (header, preamble, chunks, length)', async () => {
    const pt = pseudoRandom(CHUNK + 100, 3);
    const ct = await encrypt(pt, { recipients: [alice], context: { a: '1' }, backend: node });
    const cases: Uint8Array[] = [];
    for (let i = 0; i < ct.length; i += i < 200 ? 1 : 997) {
      const bad = ct.slice();
      bad[i] = bad[i]! ^ 0x20;
      cases.push(bad);
    }
    for (const cut of [ct.length - 1, ct.length - 17, ct.length - 116, 200, 150]) cases.push(ct.slice(0, cut));
    const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));
    for (const [i, bad] of cases.entries()) {
      const fast = await codeOf(decrypt(bad, { keys: [alice], backend: node }));
      const slow = await codeOf(decrypt(bad, { keys: [alice], backend: forcedAsync(node) }));
      expect(fast, `case ${i}`).toBe(slow);
      expect(fast, `case ${i}`).not.toBe('ok');
    }
    await expectCode(decrypt(ct, { keys: [alice], context: { a: '2' }, backend: node }), 'ERR_CONTEXT');
    await expectCode(decrypt(ct, { keys: [bob], backend: node }), 'ERR_NO_KEY');
  });

  it('falls back to the asynchronous path for key-wrap stanzas and providers without a synchronous wrap', async () => {
    const kw = aesKey({ id: 'alice', key: pseudoRandom(32, 1), wrap: 'aes256-kw' });
    const custom: KeyProvider = { description: 'custom', wrap: (k, c) => alice.wrap(k, c), unwrap: (s, c) => alice.unwrap(s, c) };
    const pt = pseudoRandom(5000, 4);
    for (const recipients of [[kw], [alice, kw], [custom]]) {
      const ct = await encrypt(pt, { recipients, backend: node });
      expect(toHex(await decrypt(ct, { keys: [alice], backend: node }))).toBe(toHex(pt)); // alice reads kw stanzas too
      expect(toHex(await decrypt(ct, { keys: [custom], backend: node }))).toBe(toHex(pt));
    }
  });

  it('no key outlives a call: success, authentication failure, truncation, unknown key', async () => {
    const ct = await encrypt(pseudoRandom(3000, 5), { recipients: [alice], backend: node });
    const before = liveKeyCount();
    await encrypt(pseudoRandom(3000, 5), { recipients: [alice, bob], backend: node });
    await decrypt(ct, { keys: [alice], backend: node });
    const bad = ct.slice();
    bad[bad.length - 3] = bad[bad.length - 3]! ^ 1;
    await expectCode(decrypt(bad, { keys: [alice], backend: node }), 'ERR_AUTH');
    await expectCode(decrypt(ct.slice(0, ct.length - 20), { keys: [alice], backend: node }), 'ERR_AUTH');
    await expectCode(decrypt(ct, { keys: [bob], backend: node }), 'ERR_NO_KEY');
    expect(liveKeyCount()).toBe(before);
  });

  it('a disposed aesKey throws ERR_STATE on the synchronous path', async () => {
    const k = aesKey({ id: 'gone', key: pseudoRandom(32, 6) });
    const ct = await encrypt(new Uint8Array(10), { recipients: [k], backend: node });
    k.dispose();
    await expectCode(encrypt(new Uint8Array(10), { recipients: [k], backend: node }), 'ERR_STATE');
    await expectCode(decrypt(ct, { keys: [k], backend: node }), 'ERR_NO_KEY'); // its unwrap throws ERR_STATE, collected
    const e = await expectCode(decrypt(ct, { keys: [k], backend: node }), 'ERR_NO_KEY');
    expect((e as unknown as { errors: { code: string }[] }).errors.map((x) => x.code)).toEqual(['ERR_STATE']);
  });
});

describe('aesKey KEK cache (asynchronous backends)', () => {
  for (const name of ['webcrypto', 'wasm'] as const) {
    it(`${name}: kept out of the live-key count, dropped by dispose (ERR_STATE after), a new provider works`, async () => {
      const b = getBackend(name);
      const k = aesKey({ id: 'cached', key: pseudoRandom(32, 7) });
      const pt = pseudoRandom(2000, 8);
      const before = liveKeyCount();
      const ct = await encrypt(pt, { recipients: [k], backend: b });
      expect(toHex(await decrypt(ct, { keys: [k], backend: b }))).toBe(toHex(pt));
      expect(toHex(await decrypt(await encrypt(pt, { recipients: [k], backend: b }), { keys: [k], backend: b }))).toBe(toHex(pt));
      expect(liveKeyCount()).toBe(before);
      k.dispose();
      await expectCode(encrypt(pt, { recipients: [k], backend: b }), 'ERR_STATE');
      const k2 = aesKey({ id: 'cached', key: pseudoRandom(32, 7) });
      expect(toHex(await decrypt(ct, { keys: [k2], backend: b }))).toBe(toHex(pt));
      k2.dispose();
    });
  }

  it('one provider used concurrently on several backends: every call succeeds (no cached key is dropped in use)', async () => {
    const k = aesKey({ id: 'shared', key: pseudoRandom(32, 10) });
    const pt = pseudoRandom(3000, 11);
    const cts = await Promise.all(['webcrypto', 'wasm', 'node', 'webcrypto', 'wasm'].map((backend) => encrypt(pt, { recipients: [k], backend: backend as 'node' })));
    const back = await Promise.all(cts.flatMap((ct) => (['wasm', 'webcrypto', 'node'] as const).map((backend) => decrypt(ct, { keys: [k], backend }))));
    for (const b of back) expect(toHex(b)).toBe(toHex(pt));
    k.dispose();
  });

  it('the webcrypto random pool hands out distinct bytes and never a zeroed run', () => {
    const b = getBackend('webcrypto');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      for (const n of [12, 24, 32, 64]) {
        const r = b.randomBytes(n);
        expect(r).toHaveLength(n);
        expect(r.some((x) => x !== 0)).toBe(true);
        seen.add(toHex(r));
      }
    }
    expect(seen.size).toBe(800);
    expect(() => b.randomBytes(-1)).toThrow(RangeError);
    expect(b.randomBytes(0)).toHaveLength(0);
  });
});
