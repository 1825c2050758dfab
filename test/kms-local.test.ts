/**
 * LocalKms: key store lifecycle (create, aliases, list without material), the blob format,
 * rotation, disable/enable, permissions, atomic replacement under a simulated crash, locking
 * between instances (concurrent createKey, stale locks), corrupted stores, and envelope round
 * trips on every backend.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, type EnsealError, type KmsClient } from '../src/index.js';
import { decodeHeader } from '../src/format/header.js';
import { defaultLocalKmsPath, kms, LocalKms } from '../src/kms-local.js';
import { BACKENDS, caught, expectCode } from './helpers.js';
import { forgedObject } from './kms-helpers.js';

// Simulated crash: rename() can be made to fail, as if the process died before it.
const failRename = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...orig,
    rename: async (from: string, to: string) => {
      if (failRename.on) throw Object.assign(new Error('EIO: simulated crash before rename'), { code: 'EIO' });
      return orig.rename(from, to);
    },
  };
});

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'enseal-lkms-'));
  path = join(dir, 'store', 'kms.json');
});
afterEach(async () => {
  failRename.on = false;
  await rm(dir, { recursive: true, force: true });
});

const text = new TextEncoder().encode('local kms hello');
const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('LocalKms store', () => {
  it('open: refuses a missing store unless create; creates file 0600 in a 0700 directory', async () => {
    const err = await expectCode(LocalKms.open(path), 'ERR_KMS_UNAVAILABLE');
    expect(err.message).toMatch(/does not exist.*create: true/);
    const local = await LocalKms.open(path, { create: true });
    expect(local.type).toBe('local');
    expect(await mode(path)).toBe(0o600);
    expect(await mode(join(dir, 'store'))).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ format: 'enseal-local-kms', version: 1, keys: [] });
    expect(await local.listKeys()).toEqual([]);
    await expect(LocalKms.open('')).rejects.toThrow(TypeError);
  });

  it('createKey: lk- ids, unique aliases, listKeys without key material', async () => {
    const local = await LocalKms.open(path, { create: true });
    const a = await local.createKey({ alias: 'backups' });
    const b = await local.createKey();
    expect(a.id).toMatch(/^lk-[0-9a-f]{32}$/);
    expect(a).toMatchObject({ alias: 'backups', enabled: true, primaryVersion: 1, versions: [{ version: 1 }] });
    expect(Date.parse(a.created)).toBeGreaterThan(Date.now() - 60_000);
    expect(b.alias).toBeUndefined();
    await expectCode(local.createKey({ alias: 'backups' }), 'ERR_KMS_DENIED');
    for (const alias of ['', 'lk-x', 'has space', '-lead', 'x'.repeat(129)]) await expect(local.createKey({ alias })).rejects.toThrow(TypeError);
    const listed = await local.listKeys();
    expect(listed.map((k) => k.id)).toEqual([a.id, b.id]);
    const materials = JSON.parse(await readFile(path, 'utf8')).keys.map((k: any) => k.versions[0].material);
    expect(materials).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toContain(materials[0]);
    expect(await mode(path)).toBe(0o600);
  });

  it('blob layout: "elk" 01, key id, u32 version, nonce, ciphertext+tag; context and key id bound', async () => {
    const local = await LocalKms.open(path, { create: true });
    const { id } = await local.createKey({ alias: 'k' });
    const { ciphertext: blob, keyId } = await local.encrypt('k', text, { a: '1' });
    expect(keyId).toBe(id);
    const n = blob[4]!;
    expect([...blob.subarray(0, 4)]).toEqual([0x65, 0x6c, 0x6b, 0x01]);
    expect(n).toBe(35);
    expect(Buffer.from(blob.subarray(5, 5 + n)).toString()).toBe(id);
    expect(Buffer.from(blob.subarray(5 + n, 9 + n)).readUInt32BE()).toBe(1);
    expect(blob.length).toBe(9 + n + 12 + text.length + 16);
    expect(await local.decrypt(blob, { a: '1' })).toEqual(text);
    expect(await local.decrypt(blob, { a: '1' }, 'k')).toEqual(text);
    await expectCode(local.decrypt(blob, { a: '2' }), 'ERR_KMS_DENIED');
    await expectCode(local.decrypt(blob, {}), 'ERR_KMS_DENIED');
    // Every byte is authenticated or framing-checked: flip each one.
    for (let i = 0; i < blob.length; i++) {
      const t = blob.slice();
      t[i]! ^= 0x01;
      await expectCode(local.decrypt(t, { a: '1' }), 'ERR_KMS_DENIED');
    }
    await expectCode(local.decrypt(blob.subarray(0, 20), { a: '1' }), 'ERR_KMS_DENIED');
    await local.createKey({ alias: 'other' });
    const e = await expectCode(local.decrypt(blob, { a: '1' }, 'other'), 'ERR_KMS_DENIED');
    expect(e.message).toBe(`local KMS: the ciphertext was made under key "${id}", not "other"`);
    await expectCode(local.encrypt('missing', text, {}), 'ERR_KMS_NOT_FOUND');
    await expectCode(local.decrypt(blob, { a: '1' }, 'missing'), 'ERR_KMS_NOT_FOUND');
    await expect(local.encrypt('k', new Uint8Array(4097), {})).rejects.toThrow(RangeError);
  });

  it('rotation: new version is primary, old blobs still decrypt, new blobs use the new version', async () => {
    const local = await LocalKms.open(path, { create: true });
    await local.createKey({ alias: 'rot' });
    const v1 = await local.encrypt('rot', text, {});
    const info = await local.rotateKey('rot');
    expect(info.primaryVersion).toBe(2);
    expect(info.versions.map((v) => v.version)).toEqual([1, 2]);
    const v2 = await local.encrypt('rot', text, {});
    const version = (b: Uint8Array): number => Buffer.from(b).readUInt32BE(5 + b[4]!);
    expect([version(v1.ciphertext), version(v2.ciphertext)]).toEqual([1, 2]);
    expect(await local.decrypt(v1.ciphertext, {})).toEqual(text);
    expect(await local.decrypt(v2.ciphertext, {})).toEqual(text);
    const stored = JSON.parse(await readFile(path, 'utf8')).keys[0];
    expect(stored.versions[0].material).not.toBe(stored.versions[1].material);
    await local.rotateKey((await local.listKeys())[0]!.id);
    expect((await local.listKeys())[0]!.primaryVersion).toBe(3);
    await expectCode(local.rotateKey('nope'), 'ERR_KMS_NOT_FOUND');
  });

  it('disable/enable: a disabled key refuses generate, encrypt and decrypt with ERR_KMS_DISABLED', async () => {
    const local = await LocalKms.open(path, { create: true });
    await local.createKey({ alias: 'd' });
    const g = await local.generateDataKey('d', { x: 'y' });
    expect(g.plaintext).toHaveLength(32);
    expect((await local.disableKey('d')).enabled).toBe(false);
    await expectCode(local.generateDataKey('d', {}), 'ERR_KMS_DISABLED');
    await expectCode(local.encrypt('d', text, {}), 'ERR_KMS_DISABLED');
    await expectCode(local.decrypt(g.ciphertext, { x: 'y' }), 'ERR_KMS_DISABLED');
    expect((await local.enableKey('d')).enabled).toBe(true);
    expect(await local.decrypt(g.ciphertext, { x: 'y' })).toEqual(g.plaintext);
  });

  it('a store readable by group or others is refused (ERR_KMS_DENIED), also by an open instance', async () => {
    const local = await LocalKms.open(path, { create: true });
    await local.createKey({ alias: 'p' });
    await chmod(path, 0o644);
    const e = await expectCode(LocalKms.open(path), 'ERR_KMS_DENIED');
    expect(e.message).toMatch(/mode 0644.*chmod 600/);
    await expectCode(local.encrypt('p', text, {}), 'ERR_KMS_DENIED');
    await chmod(path, 0o600);
    expect((await local.encrypt('p', text, {})).keyId).toMatch(/^lk-/);
  });

  it('atomic replacement: a crash before rename leaves the old store intact, no temp file, lock released', async () => {
    const local = await LocalKms.open(path, { create: true });
    await local.createKey({ alias: 'keep' });
    const before = await readFile(path);
    failRename.on = true;
    const e = await expectCode(local.rotateKey('keep'), 'ERR_KMS_UNAVAILABLE');
    expect(e.message).toMatch(/could not be written \(EIO\); the previous store is unchanged/);
    await expectCode(local.createKey({ alias: 'lost' }), 'ERR_KMS_UNAVAILABLE');
    failRename.on = false;
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await readdir(join(dir, 'store'))).toEqual(['kms.json']);
    const reopened = await LocalKms.open(path);
    expect((await reopened.listKeys()).map((k) => [k.alias, k.primaryVersion])).toEqual([['keep', 1]]);
    expect((await reopened.rotateKey('keep')).primaryVersion).toBe(2);
  });

  it('two instances on one file: concurrent createKey loses nothing; each sees the other\'s changes', async () => {
    const a = await LocalKms.open(path, { create: true });
    const b = await LocalKms.open(path);
    const made = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b).createKey({ alias: `k${i}` })));
    const ids = new Set(made.map((k) => k.id));
    expect(ids.size).toBe(24);
    for (const local of [a, b]) {
      const listed = await local.listKeys();
      expect(listed).toHaveLength(24);
      expect(new Set(listed.map((k) => k.id))).toEqual(ids);
    }
    const blob = await a.encrypt('k3', text, {});
    expect(await b.decrypt(blob.ciphertext, {})).toEqual(text);
    expect(await readdir(join(dir, 'store'))).toEqual(['kms.json']);
  });

  it('locks: a held lock times out; a stale or dead-owner lock is taken over', async () => {
    const local = await LocalKms.open(path, { create: true, lockTimeoutMs: 100 });
    const lock = `${path}.lock`;
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), token: 'someone' }), { mode: 0o600 });
    const e = await expectCode(local.createKey(), 'ERR_KMS_UNAVAILABLE');
    expect(e.message).toMatch(/timed out after 100 ms waiting for lock/);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(lock, old, old);
    expect((await local.createKey({ alias: 'after-stale' })).alias).toBe('after-stale');
    await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), token: 'dead' }), { mode: 0o600 });
    expect((await local.createKey({ alias: 'after-dead' })).alias).toBe('after-dead');
    expect(await readdir(join(dir, 'store'))).toEqual(['kms.json']);
  });

  it('a corrupted store is a clear ERR_KMS_UNAVAILABLE naming the problem, never the material', async () => {
    const local = await LocalKms.open(path, { create: true });
    await local.createKey({ alias: 'c' });
    const good = JSON.parse(await readFile(path, 'utf8'));
    const material: string = good.keys[0].versions[0].material;
    const cases: [unknown, RegExp][] = [
      ['{"format": "enseal-local-kms", "vers', /not valid JSON/],
      [{ ...good, format: 'x' }, /"format" is not "enseal-local-kms"/],
      [{ ...good, version: 2 }, /unsupported "version"/],
      [{ ...good, extra: 1 }, /unknown field "extra"/],
      [{ ...good, keys: [{ ...good.keys[0], versions: [{ ...good.keys[0].versions[0], material: material.slice(4) }] }] }, /keys\[0\]\.versions\[0\]\.material is not base64 of 32 bytes/],
      [{ ...good, keys: [{ ...good.keys[0], primary: 2 }] }, /keys\[0\]\.primary is not one of its versions/],
      [{ ...good, keys: [good.keys[0], good.keys[0]] }, /keys\[1\]\.id is a duplicate/],
      [{ ...good, keys: [{ ...good.keys[0], id: 'lk-short' }] }, /keys\[0\]\.id is not a LocalKms key id/],
    ];
    for (const [content, re] of cases) {
      await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
      const e = (await caught(LocalKms.open(path))) as EnsealError;
      expect([e?.code, e?.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(re)]);
      expect(e.message).toMatch(/is corrupt/);
      expect(e.message).not.toContain(material);
      // An open instance reports it too (it reloads a changed file).
      expect(((await caught(local.listKeys())) as EnsealError).code).toBe('ERR_KMS_UNAVAILABLE');
    }
  });

  it('defaultLocalKmsPath: $ENSEAL_KMS_STORE, else ~/.enseal/kms.json', () => {
    const saved = process.env.ENSEAL_KMS_STORE;
    try {
      delete process.env.ENSEAL_KMS_STORE;
      expect(defaultLocalKmsPath()).toBe(join(homedir(), '.enseal', 'kms.json'));
      process.env.ENSEAL_KMS_STORE = join(dir, 'elsewhere.json');
      expect(defaultLocalKmsPath()).toBe(join(dir, 'elsewhere.json'));
    } finally {
      if (saved === undefined) delete process.env.ENSEAL_KMS_STORE;
      else process.env.ENSEAL_KMS_STORE = saved;
    }
  });
});

for (const backend of BACKENDS) {
  describe(`LocalKms envelopes / ${backend}`, () => {
    it('round trip by alias; the stanza keeps the canonical id; another store is not mine', async () => {
      const local = await LocalKms.open(path, { create: true, backend });
      const { id } = await local.createKey({ alias: 'app' });
      const key = kms({ client: local, keyId: 'app' });
      const ct = await encrypt(text, { recipients: [key], context: { tenant: 't1' }, backend });
      expect(inspect(ct).recipients[0]).toMatchObject({ type: 'kms-local', keyId: id, params: { requested: 'app' } });
      expect(await decrypt(ct, { keys: [key], backend })).toEqual(text);
      expect(await decrypt(ct, { keys: [kms({ client: local, keyId: id })], backend })).toEqual(text);
      // A key written by id is found by a reader configured with the alias (resolveKeyId).
      const byId = await encrypt(text, { recipients: [kms({ client: local, keyId: id })], backend });
      expect(inspect(byId).recipients[0]!.params).toEqual({});
      expect(await decrypt(byId, { keys: [key], backend })).toEqual(text);
      // Another store with the same alias: not mine, so ERR_NO_KEY without a cause.
      const other = await LocalKms.open(join(dir, 'other.json'), { create: true, backend });
      await other.createKey({ alias: 'app' });
      expect((await expectCode(decrypt(ct, { keys: [kms({ client: other, keyId: 'app' })], backend }), 'ERR_NO_KEY')).errors).toHaveLength(0);
      // Rotation keeps old objects readable; a disabled key is listed as the cause.
      await local.rotateKey('app');
      expect(await decrypt(ct, { keys: [key], backend })).toEqual(text);
      await local.disableKey('app');
      const err = await expectCode(decrypt(ct, { keys: [key], backend }), 'ERR_NO_KEY');
      expect((err.errors[0] as EnsealError).code).toBe('ERR_KMS_DISABLED');
    });
  });
}

/** LocalKms behind a recorder: which key id each decrypt named, and every alias lookup. */
function recorded(local: LocalKms) {
  const decrypts: (string | undefined)[] = [];
  const lookups: string[] = [];
  const client: KmsClient = {
    type: local.type,
    generateDataKey: (k, c) => local.generateDataKey(k, c),
    encrypt: (k, p, c) => local.encrypt(k, p, c),
    decrypt: (b, c, k) => {
      decrypts.push(k);
      return local.decrypt(b, c, k);
    },
    resolveKeyId: (k) => {
      lookups.push(k);
      return local.resolveKeyId(k);
    },
    ownsKeyId: (k) => local.ownsKeyId(k),
  };
  return { client, decrypts, lookups };
}

describe('LocalKms: strict readers, discovery, missing keys', () => {
  it('a reader for key A refuses every object made under key B of the same store, whatever the stanza says', async () => {
    const local = await LocalKms.open(path, { create: true });
    const a = await local.createKey({ alias: 'team-a' });
    const b = await local.createKey({ alias: 'team-b' });
    const ofB = await encrypt(text, { recipients: [kms({ client: local, keyId: 'team-b' })], context: { t: '1' } });
    const rec = recorded(local);
    const readerA = kms({ client: rec.client, keyId: 'team-a' });
    // As written: another key id → not mine, no decrypt at all.
    expect((await expectCode(decrypt(ofB, { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    // Forged stanzas (the header MAC is checked only after unwrap, so they reach the provider).
    const stanzaB = decodeHeader(ofB).recipients[0]!;
    const forge = (s: typeof stanzaB) => forgedObject(text, s, { t: '1' });
    for (const forged of [{ ...stanzaB, params: { requested: 'team-a' } }, { ...stanzaB, keyId: 'team-a' }, { ...stanzaB, keyId: 'team-a', params: { requested: 'team-a' } }]) {
      expect((await expectCode(decrypt(await forge(forged), { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    }
    // Claiming A's canonical id with B's blob: LocalKms is asked for A and refuses.
    const claim = await expectCode(decrypt(await forge({ ...stanzaB, keyId: a.id }), { keys: [readerA] }), 'ERR_NO_KEY');
    expect((claim.errors[0] as EnsealError).code).toBe('ERR_KMS_DENIED');
    expect((claim.errors[0] as EnsealError).message).toBe(`local KMS: the ciphertext was made under key "${b.id}", not "${a.id}"`);
    expect(rec.decrypts).toEqual([a.id]);
    expect(rec.decrypts).not.toContain(b.id);
    // A's own objects still decrypt, with exactly one alias lookup for the provider.
    const ofA = await encrypt(text, { recipients: [readerA] });
    expect(await decrypt(ofA, { keys: [readerA] })).toEqual(text);
    expect(await decrypt(ofA, { keys: [readerA] })).toEqual(text);
    expect(rec.lookups).toEqual(['team-a']);
    expect(rec.decrypts).toEqual([a.id, a.id, a.id]);
  });

  it('discovery: true decrypts any key of the store (and only of this store); it cannot encrypt', async () => {
    const local = await LocalKms.open(path, { create: true });
    await local.createKey({ alias: 'x' });
    const b = await local.createKey({ alias: 'y' });
    const ofB = await encrypt(text, { recipients: [kms({ client: local, keyId: 'y' })] });
    const rec = recorded(local);
    const any = kms({ client: rec.client, discovery: true });
    expect(await decrypt(ofB, { keys: [any] })).toEqual(text);
    expect(rec.decrypts).toEqual([b.id]);
    expect(rec.lookups).toEqual([]);
    const other = await LocalKms.open(join(dir, 'other.json'), { create: true });
    await other.createKey({ alias: 'y' });
    expect((await expectCode(decrypt(ofB, { keys: [kms({ client: other, discovery: true })] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    await expect(encrypt(text, { recipients: [any] })).rejects.toThrow(TypeError);
    // Filters need key ids with accounts/regions: LocalKms has none.
    expect(() => kms({ client: local, discovery: { regions: ['eu-west-1'] } })).toThrow(TypeError);
  });

  it('a missing key or alias is ERR_KMS_NOT_FOUND (not denied), its id escaped in the message', async () => {
    const local = await LocalKms.open(path, { create: true });
    const aes = aesKey({ id: 'a', key: new Uint8Array(32).fill(3) });
    await local.createKey({ alias: 'present' });
    const ct = await encrypt(text, { recipients: [kms({ client: local, keyId: 'present' }), aes] });
    const evil = 'gone\u001b[2J\u202e';
    const e = await expectCode(decrypt(ct, { keys: [kms({ client: local, keyId: evil })] }), 'ERR_NO_KEY');
    const cause = e.errors[0] as EnsealError;
    expect(cause.code).toBe('ERR_KMS_NOT_FOUND');
    expect(cause.message).toBe('local KMS: no key "gone\\x1b[2J\\u202e"');
    await expectCode(encrypt(text, { recipients: [kms({ client: local, keyId: 'gone' })] }), 'ERR_KMS_NOT_FOUND');
    await expectCode(local.resolveKeyId('gone'), 'ERR_KMS_NOT_FOUND');
    await expectCode(local.disableKey('gone'), 'ERR_KMS_NOT_FOUND');
    expect(await decrypt(ct, { keys: [kms({ client: local, keyId: evil }), aes] })).toEqual(text);
  });
});
