/**
 * The kms() key provider on top of any KmsClient: the context it sends (object context +
 * enseal:bound), generate-vs-encrypt, stanza shape and bounds, the null/throw contract, strict
 * key matching (canonical id only, one cached lookup) and discovery, hygiene of wrong-length
 * keys, and aggregate ERR_NO_KEY causes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, getBackend, inspect, type EnsealError, type Stanza, type WrapContext } from '../src/index.js';
import { decodeHeader, encodeBound } from '../src/format/header.js';
import { encodeKmsContext, kms, KMS_BOUND_CONTEXT_KEY, type KmsClient } from '../src/kms.js';
import { LocalKms } from '../src/kms-local.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

/** An in-memory KMS: the blob is an opaque handle; it records every call (lookups apart). */
function memoryKms(opts: { type?: string; canonical?: (keyId: string) => string; owns?: (id: string) => boolean; plaintextLength?: number; blobLength?: number; failLookups?: number } = {}) {
  const store = new Map<string, { keyId: string; ctx: string; plaintext: Buffer }>();
  const calls: { op: string; keyId?: string; context: Record<string, string> }[] = [];
  const lookups: string[] = [];
  let failLookups = opts.failLookups ?? 0;
  const returned: Uint8Array[] = [];
  const canonical = opts.canonical ?? ((k: string) => (k.startsWith('canon:') ? k : `canon:${k}`));
  const blob = (keyId: string, ctx: Record<string, string>, plaintext: Uint8Array): Uint8Array => {
    const h = randomBytes(opts.blobLength ?? 24);
    store.set(h.toString('hex'), { keyId: canonical(keyId), ctx: JSON.stringify(Object.entries(ctx).sort()), plaintext: Buffer.from(plaintext) });
    return new Uint8Array(h);
  };
  const client: KmsClient = {
    type: opts.type ?? 'mem',
    async generateDataKey(keyId, context) {
      calls.push({ op: 'generate', keyId, context });
      const plaintext = new Uint8Array(randomBytes(opts.plaintextLength ?? 32));
      returned.push(plaintext);
      return { plaintext, ciphertext: blob(keyId, context, plaintext), keyId: canonical(keyId) };
    },
    async encrypt(keyId, plaintext, context) {
      calls.push({ op: 'encrypt', keyId, context });
      return { ciphertext: blob(keyId, context, plaintext), keyId: canonical(keyId) };
    },
    async decrypt(ciphertext, context, keyId) {
      calls.push({ op: 'decrypt', keyId, context });
      const e = store.get(Buffer.from(ciphertext).toString('hex'));
      if (e === undefined || e.ctx !== JSON.stringify(Object.entries(context).sort()) || (keyId !== undefined && keyId !== e.keyId)) {
        const { EnsealError } = await import('../src/errors.js');
        throw new EnsealError('ERR_KMS_DENIED', 'mem: refused');
      }
      const out = new Uint8Array(e.plaintext.subarray(0, opts.plaintextLength ?? 32));
      returned.push(out);
      return out;
    },
    async resolveKeyId(keyId) {
      lookups.push(keyId);
      if (failLookups > 0) {
        failLookups--;
        const { EnsealError } = await import('../src/errors.js');
        throw new EnsealError('ERR_KMS_UNAVAILABLE', 'mem: lookup failed');
      }
      return canonical(keyId);
    },
    ...(opts.owns === undefined ? {} : { ownsKeyId: opts.owns }),
  };
  return { client, calls, returned, lookups };
}

const text = new TextEncoder().encode('provider test');
const sha256url = (b: Uint8Array): string => createHash('sha256').update(b).digest('base64url');

describe('kms() provider', () => {
  it('misuse: client, client type, key id, keyId vs discovery, discovery filters', async () => {
    const { client } = memoryKms();
    expect(() => kms({ client } as never)).toThrow(/"keyId" expected a non-empty string \(or discovery: true/);
    expect(() => kms({ client, keyId: 'k', discovery: true })).toThrow(/mutually exclusive/);
    expect(() => kms({ client, keyId: 'k', discovery: {} })).toThrow(TypeError);
    expect(() => kms({ client, discovery: false })).toThrow(TypeError);
    expect(kms({ client, keyId: 'k', discovery: false }).description).toBe('kms-mem:k');
    expect(() => kms({ client, discovery: 'yes' as never })).toThrow(TypeError);
    // A filter needs key ids that name accounts/regions (keyScope): the memory client has none.
    expect(() => kms({ client, discovery: { accounts: ['111122223333'] } })).toThrow(/accounts\/regions need key ids that name an account and region/);
    const scoped: KmsClient = { ...client, keyScope: () => ({ account: '111122223333', region: 'us-east-1' }) };
    expect(kms({ client: scoped, discovery: { accounts: ['111122223333'], regions: ['us-east-1'] } }).description).toBe('kms-mem:* (accounts 111122223333; regions us-east-1)');
    for (const bad of [{ accounts: [] }, { accounts: ['12'] }, { regions: ['US East'] }, { regions: 'us-east-1' }, { account: ['111122223333'] }]) {
      expect(() => kms({ client: scoped, discovery: bad as never }), JSON.stringify(bad)).toThrow(TypeError);
    }
    // A discovery provider has no key: it cannot be a recipient.
    const any = kms({ client, discovery: true });
    expect(any.description).toBe('kms-mem:*');
    await expect(encrypt(text, { recipients: [any] })).rejects.toThrow(/only unwraps/);
    await expect(any.wrap(new Uint8Array(32), { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() })).rejects.toThrow(TypeError);
    expect(() => kms({ client: {} as never, keyId: 'k' })).toThrow(TypeError);
    expect(() => kms(undefined as never)).toThrow(TypeError);
    expect(() => kms({ client: { ...client, type: 'AWS' }, keyId: 'k' })).toThrow(TypeError);
    expect(() => kms({ client: { ...client, type: 'a'.repeat(61) }, keyId: 'k' })).toThrow(TypeError);
    expect(kms({ client: { ...client, type: 'a'.repeat(60) }, keyId: 'k' }).description).toBe(`kms-${'a'.repeat(60)}:k`);
    expect(() => kms({ client, keyId: '' })).toThrow(TypeError);
    expect(() => kms({ client, keyId: 'k\uD800' })).toThrow(TypeError);
    expect(() => kms({ client, keyId: 'x'.repeat(2049) })).toThrow(RangeError);
  });

  for (const backend of BACKENDS) {
    it(`sends the object context plus enseal:bound = base64url(SHA-256(bound)) / ${backend}`, async () => {
      const m = memoryKms();
      const key = kms({ client: m.client, keyId: 'k1' });
      const context = { bucket: 'photos', 'z-last': '', 'ünï': 'cødé' };
      const ct = await encrypt(text, { recipients: [key], context, backend });
      const bound = decodeHeader(ct).bound;
      expect(bound).toEqual(encodeBound(context));
      expect(m.calls).toEqual([{ op: 'generate', keyId: 'k1', context: { ...context, [KMS_BOUND_CONTEXT_KEY]: sha256url(bound) } }]);
      expect(await decrypt(ct, { keys: [key], backend })).toEqual(text);
      expect(m.calls[1]).toEqual({ op: 'decrypt', keyId: 'canon:k1', context: m.calls[0]!.context });
      expect(sha256url(bound)).toHaveLength(43);
    });
  }

  it('generateDataKey when first recipient, encrypt otherwise; stanza shape', async () => {
    const m = memoryKms();
    const aes = aesKey({ id: 'a', key: pseudoRandom(32, 1) });
    const ct = await encrypt(text, { recipients: [kms({ client: m.client, keyId: 'k1' }), aes, kms({ client: m.client, keyId: 'canon:k2' })] });
    expect(m.calls.map((c) => c.op)).toEqual(['generate', 'encrypt']);
    expect(inspect(ct).recipients).toEqual([
      { type: 'kms-mem', keyId: 'canon:k1', params: { requested: 'k1' }, wrappedKeyLength: 24 },
      { type: 'aes256-gcm', keyId: 'a', params: {}, wrappedKeyLength: 60 },
      { type: 'kms-mem', keyId: 'canon:k2', params: {}, wrappedKeyLength: 24 },
    ]);
    expect(await decrypt(ct, { keys: [aes] })).toEqual(text);
    expect(await decrypt(ct, { keys: [kms({ client: m.client, keyId: 'canon:k2' })] })).toEqual(text);
  });

  it('the reserved context key is refused: TypeError on encrypt, ERR_CONTEXT on unwrap', async () => {
    const m = memoryKms();
    const key = kms({ client: m.client, keyId: 'k1' });
    await expect(encrypt(text, { recipients: [key], context: { [KMS_BOUND_CONTEXT_KEY]: 'x' } })).rejects.toThrow(TypeError);
    const stanza = await key.wrap(pseudoRandom(32, 2), { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() });
    const bad: WrapContext = { aad: new Uint8Array(0), encryptionContext: { [KMS_BOUND_CONTEXT_KEY]: 'x' }, backend: getBackend() };
    await expectCode(key.unwrap(stanza, bad), 'ERR_CONTEXT');
    expect(m.calls.map((c) => c.op)).toEqual(['encrypt']);
  });

  it('null for other stanza types, client types and keys; strict matching by the canonical id alone', async () => {
    const m = memoryKms();
    const ctx: WrapContext = { aad: Uint8Array.of(1), encryptionContext: {}, backend: getBackend() };
    const key = kms({ client: m.client, keyId: 'k1' });
    const s = await key.wrap(pseudoRandom(32, 3), ctx);
    expect(s).toMatchObject({ type: 'kms-mem', keyId: 'canon:k1', params: { requested: 'k1' } });
    const other = memoryKms({ type: 'other' });
    expect(await kms({ client: other.client, keyId: 'k1' }).unwrap(s, ctx)).toBeNull();
    expect(await key.unwrap({ ...s, type: 'aes256-gcm' }, ctx)).toBeNull();
    expect(await kms({ client: m.client, keyId: 'k2' }).unwrap(s, ctx)).toBeNull();
    // `requested` is a hint only: with or without it, the canonical id decides.
    const noRequested: Stanza = { ...s, params: {} };
    expect(await kms({ client: m.client, keyId: 'k1' }).unwrap(noRequested, ctx)).toEqual(pseudoRandom(32, 3));
    expect(await kms({ client: m.client, keyId: 'canon:k1' }).unwrap(noRequested, ctx)).toEqual(pseudoRandom(32, 3));
    expect(await key.unwrap(s, ctx)).toEqual(pseudoRandom(32, 3));
    // A stanza naming the configured id or alias itself (not the canonical id) is not mine.
    expect(await key.unwrap({ ...s, keyId: 'k1' }, ctx)).toBeNull();
    // Every decrypt named the canonical key, never a stanza's.
    expect(m.calls.filter((c) => c.op === 'decrypt').map((c) => c.keyId)).toEqual(['canon:k1', 'canon:k1', 'canon:k1']);
    // Its own stanza with unknown params: ERR_HEADER, before any KMS call.
    await expectCode(key.unwrap({ ...s, params: { ...s.params, v: '2' } }, ctx), 'ERR_HEADER');
    expect(m.calls.filter((c) => c.op === 'decrypt')).toHaveLength(3);
  });

  it('strict: another key\'s stanza is refused whatever its params say, and the KMS is only ever asked for the configured key', async () => {
    const m = memoryKms();
    const ctx: WrapContext = { aad: Uint8Array.of(7), encryptionContext: { t: '1' }, backend: getBackend() };
    const a = kms({ client: m.client, keyId: 'a' });
    const b = kms({ client: m.client, keyId: 'b' });
    const ofB = await b.wrap(pseudoRandom(32, 9), ctx);
    expect(ofB.keyId).toBe('canon:b');
    // The attacker's variants of B's stanza: claims to be requested as A, or names A's alias.
    expect(await a.unwrap({ ...ofB, params: { requested: 'a' } }, ctx)).toBeNull();
    expect(await a.unwrap({ ...ofB, keyId: 'a' }, ctx)).toBeNull();
    expect(await a.unwrap({ ...ofB, keyId: 'a', params: { requested: 'a' } }, ctx)).toBeNull();
    // Claims A's canonical id with B's blob: A is asked (not B), and the KMS refuses.
    await expectCode(a.unwrap({ ...ofB, keyId: 'canon:a' }, ctx), 'ERR_KMS_DENIED');
    expect(m.calls.filter((c) => c.op === 'decrypt').map((c) => c.keyId)).toEqual(['canon:a']);
    // Through decrypt: the result is ERR_NO_KEY.
    const ct = await encrypt(text, { recipients: [b] });
    const none = await expectCode(decrypt(ct, { keys: [a] }), 'ERR_NO_KEY');
    expect(none.errors).toHaveLength(0);
    expect(m.calls.filter((c) => c.op === 'decrypt' && c.keyId === 'canon:b')).toHaveLength(0);
  });

  it('strict: one alias lookup per provider, shared by concurrent unwraps; a failed lookup is retried', async () => {
    const m = memoryKms();
    const key = kms({ client: m.client, keyId: 'alias-x' });
    const cts = await Promise.all([1, 2, 3].map((i) => encrypt(pseudoRandom(10, i), { recipients: [key] })));
    expect(m.lookups).toEqual([]); // writing never looks up
    const out = await Promise.all(cts.map((ct) => decrypt(ct, { keys: [key] })));
    out.forEach((pt, i) => expect(pt).toEqual(pseudoRandom(10, i + 1)));
    expect(await decrypt(cts[0]!, { keys: [key] })).toEqual(pseudoRandom(10, 1));
    expect(m.lookups).toEqual(['alias-x']);
    // A non-KMS stanza never causes a lookup.
    const aes = aesKey({ id: 'a', key: pseudoRandom(32, 1) });
    const fresh = memoryKms();
    await expectCode(decrypt(await encrypt(text, { recipients: [aes] }), { keys: [kms({ client: fresh.client, keyId: 'k' })] }), 'ERR_NO_KEY');
    expect(fresh.lookups).toEqual([]);
    // A lookup that fails is a cause of ERR_NO_KEY, and the next unwrap asks again.
    const flaky = memoryKms({ failLookups: 1 });
    const fk = kms({ client: flaky.client, keyId: 'k' });
    const ct = await encrypt(text, { recipients: [fk] });
    const err = await expectCode(decrypt(ct, { keys: [fk] }), 'ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_KMS_UNAVAILABLE');
    expect(await decrypt(ct, { keys: [fk] })).toEqual(text);
    expect(flaky.lookups).toEqual(['k', 'k']);
    // A client without resolveKeyId: the configured id is canonical.
    const plain = memoryKms();
    const { resolveKeyId: _unused, ...noResolve } = plain.client;
    const direct = kms({ client: noResolve as KmsClient, keyId: 'canon:z' });
    expect(await decrypt(await encrypt(text, { recipients: [direct] }), { keys: [direct] })).toEqual(text);
    const byAlias = kms({ client: noResolve as KmsClient, keyId: 'z' });
    expect((await expectCode(decrypt(await encrypt(text, { recipients: [byAlias] }), { keys: [byAlias] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
  });

  it('bounded work: at most 4 KMS decrypts per header and provider, strict or discovery (forged copies of a stanza)', async () => {
    for (const mode of ['strict', 'discovery'] as const) {
      const m = memoryKms();
      const key = mode === 'strict' ? kms({ client: m.client, keyId: 'a' }) : kms({ client: m.client, discovery: true });
      const good = await encrypt(text, { recipients: [kms({ client: m.client, keyId: 'a' })] });
      const stanza = decodeHeader(good).recipients[0]!;
      const forged = { ...stanza, wrapped: new Uint8Array(24).fill(1) }; // the KMS refuses it
      const forger = { description: 'forger', wrap: async () => forged, unwrap: async () => null };
      const hostile = await encrypt(text, { recipients: Array.from({ length: 7 }, () => forger) });
      const err = await expectCode(decrypt(hostile, { keys: [key] }), 'ERR_NO_KEY');
      expect(err.errors.map((e) => (e as EnsealError).code), mode).toEqual([...Array(4).fill('ERR_KMS_DENIED'), ...Array(3).fill('ERR_LIMIT')]);
      expect((err.errors[4] as Error).message).toMatch(/already 4 KMS decrypt calls for this header \(at most 4\)/);
      expect(m.calls.filter((c) => c.op === 'decrypt'), mode).toHaveLength(4);
      // The budget is per header: the same provider still reads a good object afterwards.
      expect(await decrypt(good, { keys: [key] }), mode).toEqual(text);
    }
  });

  it('discovery: any stanza of its type the client owns, decrypted under the stanza\'s key', async () => {
    const m = memoryKms({ owns: (id) => id.startsWith('canon:') });
    const ctx: WrapContext = { aad: Uint8Array.of(2), encryptionContext: {}, backend: getBackend() };
    const any = kms({ client: m.client, discovery: true });
    const s1 = await kms({ client: m.client, keyId: 'one' }).wrap(pseudoRandom(32, 11), ctx);
    const s2 = await kms({ client: m.client, keyId: 'two' }).wrap(pseudoRandom(32, 12), ctx);
    expect(await any.unwrap(s1, ctx)).toEqual(pseudoRandom(32, 11));
    expect(await any.unwrap(s2, ctx)).toEqual(pseudoRandom(32, 12));
    expect(m.calls.filter((c) => c.op === 'decrypt').map((c) => c.keyId)).toEqual(['canon:one', 'canon:two']);
    expect(m.lookups).toEqual([]);
    // Not owned by the client, another type, an empty key id: not mine.
    expect(await any.unwrap({ ...s1, keyId: 'elsewhere:one' }, ctx)).toBeNull();
    expect(await any.unwrap({ ...s1, type: 'kms-other' }, ctx)).toBeNull();
    expect(await any.unwrap({ ...s1, keyId: '' }, ctx)).toBeNull();
    // The stanza's key id is sent: one that does not match the blob is refused by the KMS.
    await expectCode(any.unwrap({ ...s1, keyId: 'canon:two' }, ctx), 'ERR_KMS_DENIED');
    await expectCode(any.unwrap({ ...s1, params: { extra: 'x' } }, ctx), 'ERR_HEADER');
    // With a filter: only keys whose scope matches.
    const scoped: KmsClient = { ...m.client, keyScope: (id) => (id === 'canon:one' ? { account: '111122223333', region: 'us-east-1' } : undefined) };
    expect(await kms({ client: scoped, discovery: { accounts: ['111122223333'] } }).unwrap(s1, ctx)).toEqual(pseudoRandom(32, 11));
    expect(await kms({ client: scoped, discovery: { accounts: ['444455556666'] } }).unwrap(s1, ctx)).toBeNull();
    expect(await kms({ client: scoped, discovery: { regions: ['eu-west-1'] } }).unwrap(s1, ctx)).toBeNull();
    expect(await kms({ client: scoped, discovery: { accounts: ['111122223333'] } }).unwrap(s2, ctx)).toBeNull(); // no scope
    expect(await kms({ client: scoped, discovery: {} }).unwrap(s2, ctx)).toEqual(pseudoRandom(32, 12));
  });

  it('binding: another header (aad) or context gives another KMS context, so the KMS refuses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'enseal-kmsp-'));
    try {
      const local = await LocalKms.open(join(dir, 'kms.json'), { create: true });
      await local.createKey({ alias: 'bind' });
      const key = kms({ client: local, keyId: 'bind' });
      const ctx: WrapContext = { aad: encodeBound({ a: '1' }), encryptionContext: { a: '1' }, backend: getBackend() };
      const s = await key.wrap(pseudoRandom(32, 4), ctx);
      expect(await key.unwrap(s, ctx)).toEqual(pseudoRandom(32, 4));
      await expectCode(key.unwrap(s, { ...ctx, aad: encodeBound({ a: '2' }) }), 'ERR_KMS_DENIED');
      await expectCode(key.unwrap(s, { ...ctx, encryptionContext: { a: '2' } }), 'ERR_KMS_DENIED');
      // The KMS context is exactly the object context + enseal:bound (in any order).
      expect(await local.decrypt(s.wrapped, { [KMS_BOUND_CONTEXT_KEY]: sha256url(ctx.aad), a: '1' })).toEqual(pseudoRandom(32, 4));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('context encoding: u32 count, then sorted (u32 len, key, u32 len, value); injective', () => {
    const hexOf = (c: Record<string, string>): string => Buffer.from(encodeKmsContext(c)).toString('hex');
    expect(hexOf({ b: '2', a: '1' })).toBe('00000002' + '00000001' + '61' + '00000001' + '31' + '00000001' + '62' + '00000001' + '32');
    expect(hexOf({})).toBe('00000000');
    expect(hexOf({ a: 'b', c: '' })).not.toBe(hexOf({ a: 'bc' }));
    expect(() => encodeKmsContext({ a: 1 } as never)).toThrow(TypeError);
    expect(() => encodeKmsContext({ a: '\uDC00' })).toThrow(TypeError);
  });

  it('bounds: a blob over 8192 bytes is ERR_LIMIT; an empty blob or key id is a malformed KMS answer', async () => {
    const ctx: WrapContext = { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() };
    await expectCode(kms({ client: memoryKms({ blobLength: 8193 }).client, keyId: 'k' }).wrap(new Uint8Array(32), ctx), 'ERR_LIMIT');
    expect((await kms({ client: memoryKms({ blobLength: 8192 }).client, keyId: 'k' }).wrap(new Uint8Array(32), ctx)).wrapped).toHaveLength(8192);
    await expectCode(kms({ client: memoryKms({ blobLength: 0 }).client, keyId: 'k' }).wrap(new Uint8Array(32), ctx), 'ERR_KMS_UNAVAILABLE');
    await expectCode(kms({ client: memoryKms({ canonical: () => '' }).client, keyId: 'k' }).wrap(new Uint8Array(32), ctx), 'ERR_KMS_UNAVAILABLE');
    await expect(kms({ client: memoryKms().client, keyId: 'k' }).generateDataKey!(16, ctx)).rejects.toThrow(RangeError);
  });

  it('a data key of the wrong length from the KMS is wiped and refused', async () => {
    const ctx: WrapContext = { aad: new Uint8Array(0), encryptionContext: {}, backend: getBackend() };
    const m = memoryKms({ plaintextLength: 31 });
    const key = kms({ client: m.client, keyId: 'k' });
    const e1 = await expectCode(key.generateDataKey!(32, ctx), 'ERR_KMS_UNAVAILABLE');
    expect(e1.message).toMatch(/wrong length/);
    expect(m.returned[0]!.every((b) => b === 0)).toBe(true);
    const s = await key.wrap(pseudoRandom(32, 5), ctx);
    await expectCode(key.unwrap(s, ctx), 'ERR_AUTH');
    expect(m.returned[1]).toHaveLength(31);
    expect(m.returned[1]!.every((b) => b === 0)).toBe(true);
  });

  it('ERR_NO_KEY lists each KMS cause alongside other providers\' causes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'enseal-kmsp-'));
    try {
      const local = await LocalKms.open(join(dir, 'kms.json'), { create: true });
      await local.createKey({ alias: 'one' });
      const aes = aesKey({ id: 'a', key: pseudoRandom(32, 7) });
      const ct = await encrypt(text, { recipients: [kms({ client: local, keyId: 'one' }), aes] });
      await local.disableKey('one');
      const wrongAes = aesKey({ id: 'a', key: pseudoRandom(32, 8) });
      const err = await expectCode(decrypt(ct, { keys: [kms({ client: local, keyId: 'one' }), wrongAes] }), 'ERR_NO_KEY');
      expect(err.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_KMS_DISABLED', 'ERR_AUTH']);
      expect(err.message).toMatch(/2 provider error/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('entry points', () => {
  /** Runtime (non-type) imports reachable from an entry, and the node: modules among them. */
  function closure(entry: string): { files: string[]; node: string[] } {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
    const seen = new Set<string>();
    const node: string[] = [];
    const todo = [resolve(root, entry)];
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
        const d = m[1]!;
        if (d.startsWith('node:')) node.push(`${d} <- ${relative(root, f)}`);
        else if (d.startsWith('.')) todo.push(resolve(dirname(f), d.replace(/\.js$/, '.ts')));
      }
    }
    return { files: [...seen].map((f) => relative(root, f)), node };
  }

  it('enseal/kms reaches no node: module (fetch and WebCrypto only); enseal/kms-local does', () => {
    const cloud = closure('src/kms.ts');
    expect(cloud.files).toContain('src/kms/aws.ts');
    expect(cloud.node).toEqual([]);
    expect(closure('src/kms-local.ts').node.length).toBeGreaterThan(0);
  });
});
