/**
 * Envelope behaviour: key-provider contract (null = not mine, throw = mine but broken, one
 * aggregate ERR_NO_KEY), several recipients, encryption context checks, option validation,
 * inspect, sizes, and backend selection.
 */
import { describe, expect, it } from 'vitest';
import {
  AES_GCM_STANZA,
  EnsealError,
  aesKey,
  availableBackends,
  ciphertextRange,
  ciphertextSize,
  decrypt,
  decryptRange,
  decryptStream,
  encrypt,
  encryptStream,
  getBackend,
  inspect,
  isEnsealError,
  plaintextSize,
  type KeyProvider,
  type Stanza,
} from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { BACKENDS, expectCode, pipeBytes, pseudoRandom, toHex } from './helpers.js';

const key32 = (seed: number) => pseudoRandom(32, seed);
const alice = aesKey({ id: 'alice', key: key32(1) });
const bob = aesKey({ id: 'bob', key: key32(2) });
const text = new TextEncoder().encode('attack at dawn');

/** A test provider: a fixed data key "KMS" that can generate keys, and records calls. */
function fakeKms(id: string, opts: { fail?: Error } = {}): KeyProvider & { calls: string[] } {
  const calls: string[] = [];
  const mask = pseudoRandom(32, 99);
  const xor = (b: Uint8Array) => b.map((x, i) => x ^ (mask[i] as number));
  return {
    calls,
    description: `fake-kms:${id}`,
    async generateDataKey(length, ctx) {
      calls.push(`generate:${JSON.stringify(ctx.encryptionContext)}`);
      const dataKey = pseudoRandom(length, 7) as Uint8Array<ArrayBuffer>;
      return { dataKey, stanza: { type: 'fake-kms', keyId: id, params: { v: '1' }, wrapped: xor(dataKey) } };
    },
    async wrap(dataKey) {
      calls.push('wrap');
      return { type: 'fake-kms', keyId: id, params: { v: '1' }, wrapped: xor(dataKey) };
    },
    async unwrap(stanza: Stanza) {
      if (stanza.type !== 'fake-kms' || stanza.keyId !== id) return null;
      calls.push('unwrap');
      if (opts.fail) throw opts.fail;
      return xor(stanza.wrapped);
    },
  };
}

for (const backend of BACKENDS) {
  describe(`envelope / ${backend}`, () => {
    it('round trips with several recipients; each one alone decrypts', async () => {
      const ct = await encrypt(text, { recipients: [alice, bob], backend });
      expect(inspect(ct).recipients.map((r) => r.keyId)).toEqual(['alice', 'bob']);
      expect(await decrypt(ct, { keys: [alice], backend })).toEqual(text);
      expect(await decrypt(ct, { keys: [bob], backend })).toEqual(text);
      expect(await decrypt(ct, { keys: [aesKey({ id: 'zed', key: key32(3) }), bob], backend })).toEqual(text);
    });

    it('a provider that generates data keys is used when first, and sees the context', async () => {
      const kms = fakeKms('cmk-1');
      const ct = await encrypt(text, { recipients: [kms, alice], context: { a: '1' }, backend });
      expect(kms.calls).toEqual(['generate:{"a":"1"}']);
      expect(await decrypt(ct, { keys: [kms], backend })).toEqual(text);
      expect(await decrypt(ct, { keys: [alice], backend })).toEqual(text);
      const second = fakeKms('cmk-2');
      await encrypt(text, { recipients: [alice, second], backend });
      expect(second.calls).toEqual(['wrap']);
    });

    it('no matching provider: one ERR_NO_KEY with every cause', async () => {
      const ct = await encrypt(text, { recipients: [alice, fakeKms('cmk-1')], backend });
      const denied = new EnsealError('ERR_AUTH', 'denied');
      const wrongAlice = aesKey({ id: 'alice', key: key32(9) });
      const err = await expectCode(decrypt(ct, { keys: [wrongAlice, fakeKms('cmk-1', { fail: denied }), bob], backend }), 'ERR_NO_KEY');
      expect(err.errors).toHaveLength(2);
      expect((err.errors[0] as EnsealError).code).toBe('ERR_AUTH'); // wrong alice material
      expect(err.errors[1]).toBe(denied);
      expect(err.message).toMatch(/2 recipient/);
      const none = await expectCode(decrypt(ct, { keys: [bob], backend }), 'ERR_NO_KEY');
      expect(none.errors).toHaveLength(0);
    });

    it('a provider returning a data key of the wrong length is a cause, not a success', async () => {
      const ct = await encrypt(text, { recipients: [alice], backend });
      const liar: KeyProvider = { description: 'liar', wrap: async () => { throw new Error('unused'); }, unwrap: async () => new Uint8Array(16) };
      const err = await expectCode(decrypt(ct, { keys: [liar], backend }), 'ERR_NO_KEY');
      expect(String(err.errors[0])).toMatch(/wrong length/);
      expect(await decrypt(ct, { keys: [liar, alice], backend })).toEqual(text);
    });

    it('a provider that returns a wrong data key fails the header MAC before any chunk', async () => {
      const ct = await encrypt(text, { recipients: [alice], backend });
      const impostor: KeyProvider = { description: 'impostor', wrap: async () => { throw new Error('unused'); }, unwrap: async () => pseudoRandom(32, 5) };
      const err = await expectCode(decrypt(ct, { keys: [impostor], backend }), 'ERR_AUTH');
      expect(err.chunk).toBeUndefined();
    });

    it('expected context: subset match, mismatch is ERR_CONTEXT before any unwrap', async () => {
      const ct = await encrypt(text, { recipients: [alice], context: { bucket: 'b', path: 'p/q' }, backend });
      expect(await decrypt(ct, { keys: [alice], context: { bucket: 'b' }, backend })).toEqual(text);
      const spy = fakeKms('x');
      await expectCode(decrypt(ct, { keys: [spy, alice], context: { bucket: 'c' }, backend }), 'ERR_CONTEXT');
      await expectCode(decrypt(ct, { keys: [alice], context: { missing: '' }, backend }), 'ERR_CONTEXT');
      await expectCode(decrypt(ct, { keys: [alice], context: { toString: 'x' }, backend }), 'ERR_CONTEXT');
      expect(spy.calls).toEqual([]);
    });

    it('streams: empty input, a non-byte chunk, and an empty ciphertext stream', async () => {
      const e = await pipeBytes(encryptStream({ recipients: [alice], backend }), new Uint8Array(0));
      expect(e.error).toBeUndefined();
      expect(e.output.length).toBe(inspect(e.output).headerLength + ciphertextSize(0));
      expect((await decrypt(e.output, { keys: [alice], backend })).length).toBe(0);
      const empty = await pipeBytes(decryptStream({ keys: [alice], backend }), new Uint8Array(0));
      expect((empty.error as EnsealError).code).toBe('ERR_TRUNCATED');
      const ts = encryptStream({ recipients: [alice], backend });
      const drained = ts.readable.pipeTo(new WritableStream()).catch((e: unknown) => e);
      await expect(ts.writable.getWriter().write('text' as never)).rejects.toThrow(TypeError);
      expect(await drained).toBeInstanceOf(TypeError);
    });

    it('a stream that ends inside the header, the preamble, or after a full chunk errors', async () => {
      const ct = await encrypt(pseudoRandom(20000), { recipients: [alice], backend });
      const h = inspect(ct).headerLength;
      for (const cut of [5, h - 1, h + 10, h + 56 + 16400]) {
        const r = await pipeBytes(decryptStream({ keys: [alice], backend }), ct.subarray(0, cut), [777]);
        expect((r.error as EnsealError).code, `cut ${cut}`).toBe('ERR_TRUNCATED');
        expect(r.output.length % 16384).toBe(0);
      }
    });
  });
}

describe('options and misuse', () => {
  it('rejects missing or malformed recipients, keys and contexts with TypeError/RangeError', async () => {
    await expect(encrypt(text, { recipients: [] })).rejects.toThrow(TypeError);
    await expect(encrypt(text, undefined as never)).rejects.toThrow(TypeError);
    await expect(encrypt(text, { recipients: [{} as KeyProvider] })).rejects.toThrow(TypeError);
    await expect(encrypt('x' as never, { recipients: [alice] })).rejects.toThrow(TypeError);
    await expect(encrypt(text, { recipients: [alice], context: { '': 'v' } })).rejects.toThrow(TypeError);
    await expect(encrypt(text, { recipients: [alice], context: { k: 1 as never } })).rejects.toThrow(TypeError);
    await expect(encrypt(text, { recipients: [alice], context: { k: 'x'.repeat(4097) } })).rejects.toThrow(RangeError);
    await expect(encrypt(text, { recipients: Array(65).fill(alice) })).rejects.toThrow(RangeError);
    await expect(decrypt(new Uint8Array(100), { keys: [] })).rejects.toThrow(TypeError);
    expect(() => decryptStream({ keys: 'k' as never })).toThrow(TypeError);
  });

  it('a bad stanza from a provider is refused (TypeError) and nothing is written', async () => {
    const bad: KeyProvider = { description: 'bad', wrap: async () => ({ type: 'UPPER', keyId: '', params: {}, wrapped: new Uint8Array(1) }), unwrap: async () => null };
    await expect(encrypt(text, { recipients: [bad] })).rejects.toThrow(TypeError);
  });

  it('aesKey validates its input and copies the key', async () => {
    expect(() => aesKey({ id: '', key: key32(1) })).toThrow(TypeError);
    expect(() => aesKey({ id: 'k', key: new Uint8Array(16) })).toThrow(RangeError);
    expect(() => aesKey({ id: 'x'.repeat(2049), key: key32(1) })).toThrow(RangeError);
    const material = key32(4);
    const k = aesKey({ id: 'copy', key: material });
    const ct = await encrypt(text, { recipients: [k] });
    material.fill(0);
    expect(await decrypt(ct, { keys: [k] })).toEqual(text);
  });

  it('aesKey: other ids are not mine (null); a malformed own stanza throws ERR_HEADER', async () => {
    const ctx = { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() };
    const s = await alice.wrap(key32(8), ctx);
    expect(s.type).toBe(AES_GCM_STANZA);
    expect(await bob.unwrap(s, ctx)).toBeNull();
    expect(await alice.unwrap({ ...s, type: 'other' }, ctx)).toBeNull();
    await expectCode(alice.unwrap({ ...s, wrapped: s.wrapped.subarray(1) }, ctx), 'ERR_HEADER');
    await expectCode(alice.unwrap(s, { ...ctx, aad: new Uint8Array(1) }), 'ERR_AUTH'); // bound to the header
    expect(toHex((await alice.unwrap(s, ctx))!)).toBe(toHex(key32(8)));
  });

  it('backend selection: names, objects, unknown names', () => {
    expect(availableBackends()).toEqual([...BACKENDS]); // every backend this build has works under Node
    expect(getBackend().name).toBe('node');
    expect(getBackend('webcrypto').name).toBe('webcrypto');
    expect(getBackend('wasm').name).toBe('wasm');
    expect(() => getBackend('wasm2' as never)).toThrow(TypeError);
    expect(() => getBackend('toString' as never)).toThrow(TypeError);
    const custom = getBackend('node');
    expect(getBackend(custom)).toBe(custom);
  });

  it('isEnsealError narrows by code', () => {
    const e = new EnsealError('ERR_AUTH', 'x');
    expect(isEnsealError(e)).toBe(true);
    expect(isEnsealError(e, 'ERR_AUTH')).toBe(true);
    expect(isEnsealError(e, 'ERR_HEADER')).toBe(false);
    expect(isEnsealError(new Error('x'))).toBe(false);
  });
});

describe('inspect and sizes', () => {
  it('inspect describes the header without secrets', async () => {
    const ct = await encrypt(pseudoRandom(40000), { recipients: [alice, bob], context: { z: '1', a: '2' } });
    const info = inspect(ct);
    expect(info).toMatchObject({
      format: 'enseal',
      version: 1,
      suite: { id: 1, name: 'Cobblestone-256', chunkSize: 16384 },
      context: { a: '2', z: '1' },
      authenticated: false,
      payload: { plaintextLength: 40000, chunks: 3 },
    });
    expect(Object.keys(info.context)).toEqual(['a', 'z']); // canonical order
    expect(info.recipients[0]).toEqual({ type: 'aes256-gcm', keyId: 'alice', params: {}, wrappedKeyLength: 60 });
    const json = JSON.stringify(info);
    expect(json).not.toContain(toHex(key32(1)));
    expect(inspect(ct.subarray(0, info.headerLength)).payload).toBeUndefined();
    expect(inspect(ct.subarray(0, info.headerLength), { totalLength: ct.length }).payload).toEqual(info.payload);
    expect(inspect(ct.subarray(0, ct.length - 7248)).payload).toEqual({ ciphertextLength: ct.length - 7248 - info.headerLength, error: 'ERR_TRUNCATED' });
    await expectCode(async () => inspect(ct.subarray(0, 20)), 'ERR_TRUNCATED');
    await expectCode(async () => inspect(new TextEncoder().encode('PK\x03\x04 not ours at all')), 'ERR_HEADER');
  });

  it('size helpers match real objects', async () => {
    for (const n of [0, 1, 16383, 16384, 16385, 100000]) {
      const ct = await encrypt(pseudoRandom(n), { recipients: [alice] });
      const h = inspect(ct).headerLength;
      expect(ciphertextSize(n, h)).toBe(ct.length);
      expect(plaintextSize(ct.length, h)).toBe(n);
      expect(chunked.ciphertextSize(n)).toBe(ct.length - h);
      expect(chunked.plaintextSize(ct.length - h)).toBe(n);
    }
    expect(ciphertextSize(0)).toBe(72);
    expect(ciphertextRange(0, 0)).toEqual({ start: 56, end: 56 + 16400 - 1 });
    expect(ciphertextRange(20000, 40000, 100)).toEqual({ start: 156 + 16400, end: 156 + 3 * 16400 - 1 });
    expect(() => ciphertextRange(5, 4)).toThrow(RangeError);
    expect(() => ciphertextSize(-1)).toThrow(RangeError);
    expect(() => ciphertextSize(1.5)).toThrow(RangeError);
    await expectCode(async () => plaintextSize(56 + 16400), 'ERR_TRUNCATED');
    await expectCode(async () => plaintextSize(56 + 15), 'ERR_TRUNCATED');
  });
});

describe('enseal/chunked misuse', () => {
  it('checks key, salt, suite and context types', async () => {
    await expect(chunked.seal(new Uint8Array(31), text)).rejects.toThrow(RangeError);
    await expect(chunked.seal(key32(1), text, { salt: new Uint8Array(23) })).rejects.toThrow(RangeError);
    await expect(chunked.seal(key32(1), text, { suite: { ...chunked.COBBLESTONE_256 } })).rejects.toThrow(TypeError);
    await expect(chunked.seal(key32(1), text, { context: 5 as never })).rejects.toThrow(TypeError);
    expect(() => chunked.sealStream(new Uint8Array(16))).toThrow(RangeError);
    const k = chunked.COBBLESTONE_128;
    const ct = await chunked.seal(key32(1).subarray(0, 16), text, { suite: k, context: 'c' });
    expect(await chunked.open(key32(1).subarray(0, 16), ct, { suite: k, context: 'c' })).toEqual(text);
    await expectCode(chunked.open(key32(1).subarray(0, 16), ct, { suite: k, context: 'd' }), 'ERR_AUTH');
  });
});

describe('strings must be well-formed (a lone surrogate would be stored as U+FFFD)', () => {
  it('context keys/values and key ids with lone surrogates are refused with TypeError', async () => {
    await expect(encrypt(text, { recipients: [alice], context: { '\uD800': 'a', '\uDC00': 'b' } })).rejects.toThrow(TypeError);
    await expect(encrypt(text, { recipients: [alice], context: { tenant: 'x\uD800' } })).rejects.toThrow(TypeError);
    expect(() => aesKey({ id: 'k\uD800', key: key32(1) })).toThrow(TypeError);
    const ok = await encrypt(text, { recipients: [aesKey({ id: 'k\uD83D\uDD10', key: key32(1) })], context: { e: '\uD83D\uDD10' } });
    expect(inspect(ok).context).toEqual({ e: '🔐' });
  });
});

describe('aesKey.dispose', () => {
  it('wipes the key: later use throws ERR_STATE (inside ERR_NO_KEY on decrypt)', async () => {
    const k = aesKey({ id: 'short-lived', key: key32(11) });
    const ct = await encrypt(text, { recipients: [k] });
    k.dispose();
    await expectCode(encrypt(text, { recipients: [k] }), 'ERR_STATE');
    const err = await expectCode(decrypt(ct, { keys: [k] }), 'ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_STATE');
  });
});

describe('unknown provider types', () => {
  /** Writes stanzas of a type no provider in this build knows (as a future version might). */
  const future: KeyProvider = {
    description: 'future',
    wrap: async () => ({ type: 'future-kem.v2', keyId: 'somewhere', params: { alg: 'x' }, wrapped: pseudoRandom(48, 4) }),
    unwrap: async () => null,
  };

  it('a stanza of an unknown type is skipped: other recipients still decrypt', async () => {
    const ct = await encrypt(text, { recipients: [future, alice] });
    expect(inspect(ct).recipients.map((r) => r.type)).toEqual(['future-kem.v2', 'aes256-gcm']);
    expect(await decrypt(ct, { keys: [alice, bob] })).toEqual(text);
  });

  it('only unknown types: ERR_NO_KEY saying no provider recognised any recipient, with no causes', async () => {
    const ct = await encrypt(text, { recipients: [future] });
    const err = await expectCode(decrypt(ct, { keys: [alice, bob] }), 'ERR_NO_KEY');
    expect(err.errors).toHaveLength(0);
    expect(err.message).toMatch(/no provider recognised any recipient/);
  });
});

describe('core errors say what is wrong', () => {
  const NOT_OURS = /^not an enseal object/;
  const CUT = /ciphertext was tampered with or truncated/;
  for (const backend of BACKENDS) {
    it(`${backend}: not an enseal object (ERR_HEADER), too short (ERR_TRUNCATED), cut or tampered payload`, async () => {
      const pt = pseudoRandom(2 * 16384 + 100, 12);
      const ct = await encrypt(pt, { recipients: [alice], backend });
      const H = inspect(ct).headerLength;
      const o = { keys: [alice], backend };
      const source = (b: Uint8Array) => ({ size: b.length, read: async (off: number, n: number) => b.slice(off, off + n) });
      const expected = new Map<Uint8Array, string>();
      const codeOf = (b: Uint8Array) => expected.get(b) as never;
      /** The same bytes through decrypt, decryptStream and decryptRange: the same code each time. */
      const viaAll = async (b: Uint8Array) => [
        await expectCode(decrypt(b, o), codeOf(b)),
        await expectCode(pipeBytes(decryptStream(o), b, [777]).then((r) => Promise.reject(r.error ?? new Error('stream ended cleanly'))), codeOf(b)),
        await expectCode(decryptRange(source(b), { start: 0 }, o), codeOf(b)),
      ];
      const cases: [string, Uint8Array, string, RegExp][] = [
        ['a zip file', new TextEncoder().encode('PK\x03\x04 certainly not ours, and longer than the prefix'), 'ERR_HEADER', NOT_OURS],
        ['5 bytes that are not the magic', new TextEncoder().encode('hello'), 'ERR_HEADER', NOT_OURS],
        ['empty input', new Uint8Array(0), 'ERR_TRUNCATED', /^not an enseal object: the input is empty/],
        ['the first 7 bytes of an object', ct.slice(0, 7), 'ERR_TRUNCATED', /^not an enseal object: 7 bytes is too short/],
        ['cut inside the header', ct.slice(0, H - 3), 'ERR_TRUNCATED', /ciphertext was truncated: it ends inside the \d+-byte header/],
        ['cut inside the preamble', ct.slice(0, H + 30), 'ERR_TRUNCATED', CUT],
        ['cut at a chunk boundary (no final chunk)', ct.slice(0, H + 56 + 16400), 'ERR_TRUNCATED', CUT],
        ['cut 10 bytes into a chunk', ct.slice(0, H + 56 + 16400 + 10), 'ERR_TRUNCATED', CUT],
        ['cut 500 bytes into a chunk', ct.slice(0, H + 56 + 16400 + 500), 'ERR_AUTH', CUT],
        ['a flipped payload bit', ((b) => ((b[H + 56 + 16400 + 3]! ^= 1), b))(ct.slice()), 'ERR_AUTH', CUT],
      ];
      for (const [name, bytes, code, message] of cases) {
        expected.set(bytes, code);
        for (const e of await viaAll(bytes)) expect(e.message, `${name}: ${e.message}`).toMatch(message);
      }
    });
  }
});
