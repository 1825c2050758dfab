/**
 * Tampered S3EC metadata and bodies: each gives its typed error, and no plaintext is released
 * on a GCM tag or commitment failure (openS3ecObject rejects; there is no body to read). Also
 * the strict codec (mixed, partial, unknown, non-canonical), escaping of hostile values, the
 * memory bound, instruction-file placement rules, disposal, and a property test that any
 * mutation of the metadata gives a typed error or the right plaintext.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { EnsealError } from '../src/errors.js';
import { decodeS3ecMetadata, detectS3ecFormat, openS3ecObject, parseS3ecInstruction, putS3ecObject, s3ecAesKey } from '../src/interop.js';
import { memoryStore, type MemoryStore } from '../src/storage/memory.js';
import type { ObjectMetadata } from '../src/storage/store.js';
import { BACKENDS, caught, expectCode, pseudoRandom } from './helpers.js';
import { readAll } from './interop-s3ec-helpers.js';

const wrapKey = new Uint8Array(pseudoRandom(32, 5));
const PLAIN = pseudoRandom(3000, 12);

async function fixture(version: 2 | 3, backend: BackendName): Promise<{ store: MemoryStore; metadata: ObjectMetadata; body: Uint8Array }> {
  const store = memoryStore();
  await putS3ecObject(store, 'o', PLAIN, { recipients: [s3ecAesKey({ key: wrapKey })], version, backend });
  const { metadata } = await store.head('o');
  const body = await readAll((await store.get('o')).body);
  return { store, metadata, body };
}

/** Stores `body` with `metadata` under a fresh key and opens it. */
async function open(store: MemoryStore, metadata: ObjectMetadata, body: Uint8Array, backend: BackendName, extra: object = {}) {
  const key = `t${Math.random().toString(36).slice(2)}`;
  await store.put(key, body, { metadata });
  return openS3ecObject(store, key, await store.head(key), { keys: [s3ecAesKey({ key: wrapKey })], backend, ...extra });
}

const flipB64 = (s: string, at = 0): string => {
  const b = Buffer.from(s, 'base64');
  b[at]! ^= 1;
  return b.toString('base64');
};

for (const backend of BACKENDS) {
  describe(`S3EC tamper matrix / ${backend}`, () => {
    it('V2: IV, wrapped key, cek-alg, tag length, wrap algorithm; body flipped or truncated', async () => {
      const { store, metadata, body } = await fixture(2, backend);
      const ok = await open(store, metadata, body, backend);
      expect(Buffer.from(await readAll(ok.body)).equals(Buffer.from(PLAIN))).toBe(true);
      await expectCode(open(store, { ...metadata, 'x-amz-iv': flipB64(metadata['x-amz-iv']!) }, body, backend), 'ERR_AUTH');
      await expectCode(open(store, { ...metadata, 'x-amz-iv': Buffer.alloc(16).toString('base64') }, body, backend), 'ERR_HEADER');
      const nk = await expectCode(open(store, { ...metadata, 'x-amz-key-v2': flipB64(metadata['x-amz-key-v2']!, 20) }, body, backend), 'ERR_NO_KEY');
      expect(nk.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_AUTH']);
      await expectCode(open(store, { ...metadata, 'x-amz-cek-alg': 'AES/CTR/NoPadding' }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...metadata, 'x-amz-tag-len': '96' }, body, backend), 'ERR_HEADER');
      const { 'x-amz-tag-len': _t, ...noTag } = metadata;
      await expectCode(open(store, noTag, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...metadata, 'x-amz-wrap-alg': 'AES/KWP' }, body, backend), 'ERR_HEADER');
      // CBC label on a GCM object: the AES/GCM wrap never wraps CBC content, so the pairing is
      // refused before any key is unwrapped, with or without the opt-in (no padding oracle on GCM
      // ciphertext).
      const { 'x-amz-tag-len': _u, ...cbcMeta } = { ...metadata, 'x-amz-cek-alg': 'AES/CBC/PKCS5Padding', 'x-amz-iv': Buffer.alloc(16, 7).toString('base64') } as ObjectMetadata;
      await expectCode(open(store, cbcMeta, body, backend), 'ERR_HEADER');
      await expectCode(open(store, cbcMeta, body, backend, { allowUnauthenticated: true }), 'ERR_HEADER');
      const flipped = body.slice();
      flipped[100]! ^= 0x80;
      await expectCode(open(store, metadata, flipped, backend), 'ERR_AUTH');
      const tagFlipped = body.slice();
      tagFlipped[tagFlipped.length - 1]! ^= 1;
      await expectCode(open(store, metadata, tagFlipped, backend), 'ERR_AUTH');
      // Truncated tag: the length metadata no longer fits; without it, the tag fails.
      await expectCode(open(store, metadata, body.subarray(0, body.length - 1), backend), 'ERR_HEADER');
      const { 'x-amz-unencrypted-content-length': _l, ...noLen } = metadata;
      await expectCode(open(store, noLen, body.subarray(0, body.length - 1), backend), 'ERR_AUTH');
      await expectCode(open(store, noLen, body.subarray(0, 15), backend), 'ERR_TRUNCATED');
    });

    it('V3: commitment, message id, wrapped key, x-amz-c, x-amz-w, reserved KMS entry; body flipped or truncated', async () => {
      const { store, metadata, body } = await fixture(3, backend);
      await expectCode(open(store, { ...metadata, 'x-amz-d': flipB64(metadata['x-amz-d']!) }, body, backend), 'ERR_AUTH');
      await expectCode(open(store, { ...metadata, 'x-amz-d': flipB64(metadata['x-amz-d']!) }, body, backend, { allowUnauthenticated: true, range: { start: 5, end: 9 } }), 'ERR_AUTH');
      await expectCode(open(store, { ...metadata, 'x-amz-i': flipB64(metadata['x-amz-i']!, 27) }, body, backend), 'ERR_AUTH');
      await expectCode(open(store, { ...metadata, 'x-amz-d': Buffer.alloc(32).toString('base64') }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...metadata, 'x-amz-3': flipB64(metadata['x-amz-3']!, 30) }, body, backend), 'ERR_NO_KEY');
      for (const c of ['116', '0115', ' 115', '115.0', 'AES/GCM/NoPadding']) await expectCode(open(store, { ...metadata, 'x-amz-c': c.trim() === c ? c : '115x' }, body, backend), 'ERR_HEADER');
      for (const w of ['32', '2', '002', '12x']) await expectCode(open(store, { ...metadata, 'x-amz-w': w }, body, backend), 'ERR_HEADER');
      // kms+context (12) with a raw-keyring x-amz-m, or an x-amz-t without the reserved entry.
      await expectCode(open(store, { ...metadata, 'x-amz-w': '12' }, body, backend), 'ERR_HEADER');
      const { 'x-amz-m': _m, ...noM } = metadata;
      await expectCode(open(store, { ...noM, 'x-amz-w': '12', 'x-amz-t': '{"a":"b"}' }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...noM, 'x-amz-w': '12', 'x-amz-t': '{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}' }, body, backend), 'ERR_HEADER');
      const flipped = body.slice();
      flipped[0]! ^= 1;
      await expectCode(open(store, metadata, flipped, backend), 'ERR_AUTH');
      await expectCode(open(store, metadata, body.subarray(0, body.length - 1), backend), 'ERR_AUTH');
      await expectCode(open(store, metadata, body.subarray(0, 10), backend), 'ERR_TRUNCATED');
    });

    it('downgrade: a V3 data key relabelled as V2 does not unwrap (the AES/GCM AAD binds "115")', async () => {
      const { store, metadata, body } = await fixture(3, backend);
      const v2 = {
        'x-amz-key-v2': metadata['x-amz-3']!,
        'x-amz-iv': Buffer.alloc(12, 1).toString('base64'),
        'x-amz-cek-alg': 'AES/GCM/NoPadding',
        'x-amz-tag-len': '128',
        'x-amz-wrap-alg': 'AES/GCM',
        'x-amz-matdesc': '{}',
      };
      const e = await expectCode(open(store, v2, body, backend), 'ERR_NO_KEY');
      expect(e.errors.map((x) => (x as EnsealError).code)).toEqual(['ERR_AUTH']);
    });

    it('mixed and partial metadata (V2 + V3, V1 + V2, shared names alone) is ERR_HEADER; detection agrees', async () => {
      const v2 = (await fixture(2, backend)).metadata;
      const { store, metadata: v3, body } = await fixture(3, backend);
      expect(() => detectS3ecFormat({ ...v3, 'x-amz-key-v2': v2['x-amz-key-v2']! })).toThrow(/mixed/);
      await expectCode(open(store, { ...v3, 'x-amz-key-v2': v2['x-amz-key-v2']! }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...v3, 'x-amz-iv': v2['x-amz-iv']! }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...v2, 'x-amz-key': v2['x-amz-key-v2']! }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { 'x-amz-iv': v2['x-amz-iv']!, 'x-amz-matdesc': '{}' }, body, backend), 'ERR_HEADER');
      const { 'x-amz-iv': _i, ...noIv } = v2;
      await expectCode(open(store, noIv, body, backend), 'ERR_HEADER');
      const { 'x-amz-3': _k, ...noKey } = v3;
      // x-amz-c/d/i alone: the rest would be in an instruction file, which does not exist.
      const { 'x-amz-w': _w, 'x-amz-m': _mm, ...onlyCdi } = noKey;
      await expectCode(open(store, onlyCdi, body, backend), 'ERR_HEADER');
      await expectCode(open(store, noKey, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...v2, 'x-amz-matdesc': '[1]' }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...v2, 'x-amz-matdesc': '{"a":1}' }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...v2, 'x-amz-unencrypted-content-length': '03000' }, body, backend), 'ERR_HEADER');
      await expectCode(open(store, { ...v2, 'x-amz-iv': `${v2['x-amz-iv']!.slice(0, -1)}-` }, body, backend), 'ERR_HEADER');
    });
  });
}

describe('S3EC relabelling that would strip a key wrap of its binding', () => {
  const gcmV2 = (wrap: string, matdesc: Record<string, string>): ObjectMetadata => ({
    'x-amz-key-v2': Buffer.alloc(60, 1).toString('base64'),
    'x-amz-iv': Buffer.alloc(12, 2).toString('base64'),
    'x-amz-cek-alg': 'AES/GCM/NoPadding',
    'x-amz-tag-len': '128',
    'x-amz-wrap-alg': wrap,
    'x-amz-matdesc': JSON.stringify(matdesc),
  });
  const asCbc = (m: ObjectMetadata): ObjectMetadata => {
    const { 'x-amz-tag-len': _t, ...rest } = m;
    return { ...rest, 'x-amz-cek-alg': 'AES/CBC/PKCS5Padding', 'x-amz-iv': Buffer.alloc(16, 2).toString('base64') };
  };
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return (e as EnsealError).code;
    }
  };

  it('CBC content under a V2 wrap that binds the content algorithm is ERR_HEADER; under the legacy wraps it decodes', () => {
    for (const w of ['AES/GCM', 'RSA-OAEP-SHA1']) expect(code(() => decodeS3ecMetadata(asCbc(gcmV2(w, {}))))).toBe('ERR_HEADER');
    expect(code(() => decodeS3ecMetadata(asCbc(gcmV2('kms+context', { 'aws:x-amz-cek-alg': 'AES/CBC/PKCS5Padding' }))))).toBe('ERR_HEADER');
    for (const w of ['AESWrap', 'kms']) expect(decodeS3ecMetadata(asCbc(gcmV2(w, {})))?.contentAlgorithm).toBe('AES/CBC/PKCS5Padding');
    for (const w of ['AES/GCM', 'RSA-OAEP-SHA1', 'AESWrap', 'kms']) expect(decodeS3ecMetadata(gcmV2(w, {}))?.contentAlgorithm).toBe('AES/GCM/NoPadding');
  });

  it('legacy kms: a context holding the reserved entry must name the content algorithm (kms+context or V3 relabelled kms is ERR_HEADER)', () => {
    const reserved = (v: string) => ({ app: 'x', 'aws:x-amz-cek-alg': v });
    expect(decodeS3ecMetadata(gcmV2('kms', reserved('AES/GCM/NoPadding')))?.wrapAlgorithm).toBe('kms');
    expect(decodeS3ecMetadata(gcmV2('kms', { app: 'x' }))?.wrapAlgorithm).toBe('kms');
    expect(code(() => decodeS3ecMetadata(gcmV2('kms', reserved('115'))))).toBe('ERR_HEADER');
    expect(code(() => decodeS3ecMetadata(asCbc(gcmV2('kms', reserved('AES/GCM/NoPadding')))))).toBe('ERR_HEADER');
    const v1 = { 'x-amz-key': Buffer.alloc(40, 1).toString('base64'), 'x-amz-iv': Buffer.alloc(16, 2).toString('base64'), 'x-amz-wrap-alg': 'kms' };
    expect(decodeS3ecMetadata({ ...v1, 'x-amz-matdesc': '{"kms_cmk_id":"k"}' })?.version).toBe(1);
    expect(code(() => decodeS3ecMetadata({ ...v1, 'x-amz-matdesc': JSON.stringify(reserved('AES/GCM/NoPadding')) }))).toBe('ERR_HEADER');
    const e = caught(Promise.resolve().then(() => decodeS3ecMetadata(gcmV2('kms', reserved('\u001b[2J115')))));
    return e.then((err) => expect((err as Error).message).not.toMatch(/\u001b/));
  });

  it('the AES/GCM unwrap binds the claimed content algorithm, even for a description the decoder did not make', async () => {
    const store = memoryStore();
    const ring = s3ecAesKey({ key: wrapKey });
    await putS3ecObject(store, 'o', PLAIN, { recipients: [ring], version: 2 });
    const desc = decodeS3ecMetadata((await store.head('o')).metadata)!;
    const { getBackend } = await import('../src/backends/select.js');
    const b = getBackend('node');
    const dk = await ring.s3ecUnwrap(desc, b);
    expect(dk.length).toBe(32);
    await expect(ring.s3ecUnwrap({ ...desc, contentAlgorithm: 'AES/CBC/PKCS5Padding' }, b)).rejects.toBeInstanceOf(EnsealError);
  });
});

describe('S3EC AES-CBC reads fail one way only', () => {
  it('every bit pattern of the last padding byte gives the same ERR_AUTH message when the length is recorded (no second oracle)', async () => {
    const { createCipheriv, randomBytes } = await import('node:crypto');
    const kek = randomBytes(32);
    const dataKey = randomBytes(32);
    const iv = randomBytes(16);
    const w = createCipheriv('id-aes256-wrap', kek, Buffer.alloc(8, 0xa6));
    const edk = Buffer.concat([w.update(dataKey), w.final()]);
    const plain = Buffer.alloc(100, 0x42); // padded with twelve 0x0c to 112 bytes
    const c = createCipheriv('aes-256-cbc', dataKey, iv);
    const body = Buffer.concat([c.update(plain), c.final()]);
    const metadata = { 'x-amz-key': edk.toString('base64'), 'x-amz-iv': iv.toString('base64'), 'x-amz-matdesc': '{}', 'x-amz-wrap-alg': 'AESWrap', 'x-amz-unencrypted-content-length': '100' };
    const store = memoryStore();
    const ring = s3ecAesKey({ key: kek });
    await store.put('o', body, { metadata });
    const ok = await openS3ecObject(store, 'o', await store.head('o'), { keys: [ring], allowUnauthenticated: true });
    expect(Buffer.from(await readAll(ok.body)).equals(plain)).toBe(true);
    const outcomes = new Set<string>();
    for (let x = 1; x < 256; x++) {
      const mod = Buffer.from(body);
      mod[mod.length - 17]! ^= x; // flips the last plaintext byte: the padding length
      await store.put('x', mod, { metadata });
      try {
        await openS3ecObject(store, 'x', await store.head('x'), { keys: [ring], allowUnauthenticated: true });
        outcomes.add('read');
      } catch (e) {
        outcomes.add(`${(e as EnsealError).code}: ${(e as Error).message}`);
      }
    }
    expect([...outcomes]).toEqual(['ERR_AUTH: the S3EC CBC content did not decrypt (wrong key, or a modified object)']);
  });
});

describe('S3EC codec and reader limits', () => {
  it('a stored size past what AES-GCM can encrypt under one IV is ERR_HEADER before any GET (no counter past 2^32)', async () => {
    const store = memoryStore();
    await putS3ecObject(store, 'o', PLAIN, { recipients: [s3ecAesKey({ key: wrapKey })], version: 2 });
    const info = await store.head('o');
    const { 'x-amz-unencrypted-content-length': _l, ...metadata } = info.metadata;
    const gets = store.stats.byOperation.get;
    for (const size of [2 ** 36 - 32 + 16 + 1, 2 ** 36 + 1000, 2 ** 50]) {
      for (const range of [undefined, { start: size - 100, end: size - 90 }, { start: 2 ** 36 - 48, end: 2 ** 36 - 17 }]) {
        await expectCode(openS3ecObject(store, 'o', { ...info, size, metadata }, { keys: [s3ecAesKey({ key: wrapKey })], allowUnauthenticated: true, ...(range === undefined ? {} : { range }) }), 'ERR_HEADER');
      }
    }
    expect(store.stats.byOperation.get).toBe(gets);
  });

  it('values quoted in errors are escaped', () => {
    const e = caught(Promise.resolve().then(() => decodeS3ecMetadata({ 'x-amz-c': '\u001b[31m\u202e', 'x-amz-3': 'AA==', 'x-amz-w': '02', 'x-amz-d': 'AA==', 'x-amz-i': 'AA==' })));
    return e.then((err) => {
      expect(err).toBeInstanceOf(EnsealError);
      expect((err as EnsealError).code).toBe('ERR_HEADER');
      const m = (err as Error).message;
      expect(m).toContain('x-amz-c');
      expect(m).not.toMatch(/[\u001b\u202e]/);
    });
  });

  it('over-long values are refused before they are decoded', () => {
    expect(() => decodeS3ecMetadata({ 'x-amz-key-v2': 'A'.repeat(9000), 'x-amz-iv': 'AA==', 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-tag-len': '128', 'x-amz-wrap-alg': 'AES/GCM', 'x-amz-matdesc': '{}' })).toThrow(/over/);
    expect(() => decodeS3ecMetadata({ 'x-amz-key-v2': 'A'.repeat(6000), 'x-amz-iv': 'AA==', 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-tag-len': '128', 'x-amz-wrap-alg': 'AES/GCM', 'x-amz-matdesc': '{}' })).toThrow(/largest valid/);
    expect(() => parseS3ecInstruction(new Uint8Array(70 * 1024))).toThrow(EnsealError);
  });

  it('a whole GCM read over maxBuffer is ERR_LIMIT before any GET; V1 without a wrap-alg is ERR_UNSUPPORTED', async () => {
    const store = memoryStore();
    await putS3ecObject(store, 'o', PLAIN, { recipients: [s3ecAesKey({ key: wrapKey })] });
    const gets = store.stats.byOperation.get;
    await expectCode(openS3ecObject(store, 'o', await store.head('o'), { keys: [s3ecAesKey({ key: wrapKey })], maxBuffer: 2999 }), 'ERR_LIMIT');
    expect(store.stats.byOperation.get).toBe(gets);
    const r = await openS3ecObject(store, 'o', await store.head('o'), { keys: [s3ecAesKey({ key: wrapKey })], maxBuffer: 3000 });
    expect(r.size).toBe(3000);
    expect(() => decodeS3ecMetadata({ 'x-amz-key': 'AAAA', 'x-amz-iv': Buffer.alloc(16).toString('base64'), 'x-amz-matdesc': '{}' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }));
  });

  it('instruction files: x-amz-c/d/i in the file, or a file next to S3EC object metadata, is ERR_HEADER', async () => {
    const store = memoryStore();
    const ring = s3ecAesKey({ key: wrapKey });
    await putS3ecObject(store, 'v3', PLAIN, { recipients: [ring], version: 3, instructionFile: true });
    const file = JSON.parse(Buffer.from(await readAll((await store.get('v3.instruction')).body)).toString()) as Record<string, string>;
    const info = await store.head('v3');
    await store.put('v3.instruction', new TextEncoder().encode(JSON.stringify({ ...file, 'x-amz-d': info.metadata['x-amz-d'] })));
    await expectCode(openS3ecObject(store, 'v3', info, { keys: [ring] }), 'ERR_HEADER');
    await store.put('v3.instruction', new TextEncoder().encode('not json'));
    await expectCode(openS3ecObject(store, 'v3', info, { keys: [ring] }), 'ERR_HEADER');
    // A V2 object with its own metadata and a stray instruction file: the metadata is used, the file ignored.
    await putS3ecObject(store, 'v2', PLAIN, { recipients: [ring], version: 2 });
    await store.put('v2.instruction', new TextEncoder().encode('{"x-amz-key-v2":"AAAA"}'));
    const r = await openS3ecObject(store, 'v2', await store.head('v2'), { keys: [ring] });
    expect(r.description.instructionFile).toBe(false);
    // An object with no S3EC metadata and no instruction file.
    await store.put('plain', PLAIN);
    await expectCode(openS3ecObject(store, 'plain', await store.head('plain'), { keys: [ring] }), 'ERR_HEADER');
  });

  it('a disposed keyring answers ERR_STATE (inside ERR_NO_KEY), no key given is ERR_NO_KEY', async () => {
    const store = memoryStore();
    const ring = s3ecAesKey({ key: wrapKey });
    await putS3ecObject(store, 'o', PLAIN, { recipients: [ring] });
    ring.dispose();
    const e = await expectCode(openS3ecObject(store, 'o', await store.head('o'), { keys: [ring] }), 'ERR_NO_KEY');
    expect((e.errors[0] as EnsealError).code).toBe('ERR_STATE');
    await expectCode(openS3ecObject(store, 'o', await store.head('o'), { keys: [] }), 'ERR_NO_KEY');
    await expect(putS3ecObject(store, 'p', PLAIN, { recipients: [ring, ring] })).rejects.toThrow(TypeError);
  });

  it('property: any mutation of one metadata value gives a typed error or the exact plaintext', async () => {
    const store = memoryStore();
    const ring = s3ecAesKey({ key: wrapKey });
    const plain = PLAIN.subarray(0, 64);
    for (const version of [2, 3] as const) {
      await putS3ecObject(store, `p${version}`, plain, { recipients: [ring], version });
    }
    const bodies = { 2: await readAll((await store.get('p2')).body), 3: await readAll((await store.get('p3')).body) };
    const metas = { 2: (await store.head('p2')).metadata, 3: (await store.head('p3')).metadata };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(2 as const, 3 as const), fc.nat(20), fc.string({ unit: fc.constantFrom(...'AZaz09+/={}":,\\-'.split('')), maxLength: 80 }), async (version, which, value) => {
        const names = Object.keys(metas[version]);
        const name = names[which % names.length]!;
        const m = { ...metas[version], [name]: value };
        await store.put('x', bodies[version], { metadata: m });
        try {
          const r = await openS3ecObject(store, 'x', await store.head('x'), { keys: [ring] });
          expect(Buffer.from(await readAll(r.body)).equals(Buffer.from(plain))).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(EnsealError);
          expect(['ERR_HEADER', 'ERR_AUTH', 'ERR_NO_KEY', 'ERR_UNAUTHENTICATED', 'ERR_UNSUPPORTED', 'ERR_TRUNCATED']).toContain((e as EnsealError).code);
        }
      }),
      { numRuns: 150 },
    );
  });
});
