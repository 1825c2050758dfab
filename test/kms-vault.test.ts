/**
 * HashiCorp Vault Transit: the client end to end against a local server that follows the
 * Transit HTTP API (datakey/encrypt/decrypt, `vault:vN:` ciphertexts, `{"errors": […]}`),
 * checks the token, implements derived keys (context) and AEAD associated data with real
 * AES-GCM (so, like Vault, it refuses a decrypt under another context or another key), key
 * versions with a minimum decryption version, unknown mounts (404), and injects faults.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, type EnsealError } from '../src/index.js';
import { decodeHeader } from '../src/format/header.js';
import { kms, vaultTransit, type VaultTransitOptions } from '../src/kms.js';
import { caught, expectCode, pseudoRandom } from './helpers.js';
import { FakeKms, Keyring, expectNoSecrets, forms, forgedObject, recordingSleep, refusedPort, type Reply, type SeenRequest } from './kms-helpers.js';

const TOKEN = 'hvs.FAKEvaultTOKEN0123456789abcdefghij';

interface TransitKey {
  derived: boolean;
  version: number;
  minDecryptionVersion: number;
}

class FakeVault {
  readonly ring = new Keyring();
  readonly keys = new Map<string, TransitKey>([
    ['transit/app', { derived: false, version: 1, minDecryptionVersion: 1 }],
    ['transit/derived', { derived: true, version: 1, minDecryptionVersion: 1 }],
    ['team/transit2/other', { derived: false, version: 1, minDecryptionVersion: 1 }],
    ['transit/b', { derived: false, version: 1, minDecryptionVersion: 1 }],
  ]);
  readonly mounts = new Set(['transit', 'team/transit2']);
  readonly generated: Buffer[] = [];
  readonly paths: string[] = [];

  /** The AES key of (key, version, derivation context). */
  ringId(name: string, version: number, context: Buffer | undefined): string {
    return `${name}#${version}#${context === undefined ? '' : createHmac('sha256', 'derive').update(context).digest('hex')}`;
  }

  handle = (req: SeenRequest): Reply => {
    const err = (status: number, ...messages: string[]): Reply => ({ status, body: { errors: messages } });
    if (req.headers['x-vault-token'] !== TOKEN) return err(403, 'permission denied');
    const m = /^\/v1\/(.+)\/(datakey\/plaintext|encrypt|decrypt)\/([\w.-]+)$/.exec(req.url);
    if (req.method !== 'POST' || m === null) return err(404, 'unsupported path');
    const [, mount, op, name] = m as unknown as string[];
    if (!this.mounts.has(mount!)) return err(404, `no handler for route "${mount}/${op}/${name}". route entry not found.`);
    this.paths.push(`${op}/${name}`);
    if (req.headers['x-vault-namespace'] !== undefined) this.paths.push(`ns:${req.headers['x-vault-namespace']}`);
    const key = this.keys.get(`${mount}/${name}`);
    if (key === undefined) return err(400, 'encryption key not found');
    const body = JSON.parse(req.body) as Record<string, any>;
    const context = typeof body.context === 'string' && body.context !== '' ? Buffer.from(body.context, 'base64') : undefined;
    if (key.derived && context === undefined) return err(400, "missing 'context' for key derivation; the key was created using a derived key");
    const kctx = key.derived ? context : undefined; // a non-derived key ignores the context
    const aad = typeof body.associated_data === 'string' ? Buffer.from(body.associated_data, 'base64').toString('hex') : '';
    const seal = (pt: Uint8Array): string => `vault:v${key.version}:${this.ring.seal(this.ringId(name!, key.version, kctx), pt, aad).toString('base64')}`;
    if (op === 'decrypt') {
      const cm = /^vault:v(\d+):(.+)$/.exec(String(body.ciphertext));
      if (cm === null) return err(400, 'invalid ciphertext: no prefix');
      const v = Number(cm[1]);
      if (v < key.minDecryptionVersion) return err(400, 'ciphertext version is disabled');
      const pt = this.ring.open(this.ringId(name!, v, kctx), Buffer.from(cm[2]!, 'base64'), aad);
      if (pt === undefined) return err(400, 'cipher: message authentication failed');
      return { status: 200, body: { request_id: 'r', data: { plaintext: pt.toString('base64') } } };
    }
    if (op === 'encrypt') {
      return { status: 200, body: { request_id: 'r', data: { ciphertext: seal(Buffer.from(String(body.plaintext), 'base64')), key_version: key.version } } };
    }
    if (body.bits !== 256) return err(400, 'invalid bit length');
    if (body.associated_data !== undefined) return err(400, 'unknown field associated_data'); // datakey has none
    const pt = randomBytes(32);
    this.generated.push(pt);
    return { status: 200, body: { request_id: 'r', data: { plaintext: pt.toString('base64'), ciphertext: seal(pt), key_version: key.version } } };
  };
}

const fake = new FakeVault();
const server = new FakeKms(fake.handle, (f) => {
  if (f === 'throttle') return { status: 429, body: { errors: ['request path "transit/encrypt/app": rate limit quota exceeded'] } };
  if (f === 'server-error') return { status: 503, body: { errors: ['Vault is sealed'] } };
  if (f === 'disabled') return { status: 400, body: { errors: ['ciphertext version is disabled'] } };
  return { status: 403, body: { errors: [`1 error occurred:\n\t* permission denied (token ${TOKEN})\n\n`] } };
});
const errors: unknown[] = [];
const collect = async (p: Promise<unknown>): Promise<EnsealError> => {
  const e = await caught(p);
  errors.push(e);
  return e as EnsealError;
};

beforeAll(async () => void (await server.start()));
afterAll(async () => {
  await server.close();
});

function client(extra: Partial<VaultTransitOptions> = {}) {
  const rec = recordingSleep();
  const c = vaultTransit({ address: server.url, token: TOKEN, allowInsecureHttp: true, sleep: rec.sleep, ...extra });
  return { c, delays: rec.delays };
}
const text = new TextEncoder().encode('vault-wrapped hello');

function editContext(ct: Uint8Array, from: string): Uint8Array {
  const edited = ct.slice();
  const at = Buffer.from(ct).indexOf(from);
  edited[at] = edited[at]! ^ 1;
  return edited;
}

describe('Vault Transit client against a local Vault', () => {
  it('round trip (AEAD key, the default): canonical id is mount/name; the context is bound as associated data', async () => {
    const key = kms({ client: client().c, keyId: 'app' });
    const n = fake.paths.length;
    const seen = server.seen.length;
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    // datakey takes no associated data: the key is generated here and wrapped with encrypt.
    expect(fake.paths.slice(n)).toEqual(['encrypt/app']);
    const sent = JSON.parse(server.seen[seen]!.body) as Record<string, string>;
    const bound = Buffer.from(sent.associated_data!, 'base64');
    expect(bound.includes('tenant')).toBe(true);
    expect(bound.includes('enseal:bound')).toBe(true); // the header digest too
    expect(inspect(ct).recipients[0]).toMatchObject({ type: 'kms-vault', keyId: 'transit/app', params: { requested: 'app' } });
    expect(Buffer.from(ct).includes('vault:v1:')).toBe(true); // Vault's ciphertext, stored as is
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: 'transit/app' })] })).toEqual(text);
    // Another context: Vault itself refuses (before enseal's header MAC is even reached).
    const err = await collect(decrypt(editContext(ct, 'aaaa'), { keys: [key] }));
    expect([err.code, (err.errors[0] as EnsealError).code, (err.errors[0] as Error).message]).toEqual(['ERR_NO_KEY', 'ERR_KMS_DENIED', expect.stringMatching(/HTTP 400: cipher: message authentication failed/)]);
    // The client alone: a blob decrypts only under the context it was made with.
    const r = await client().c.encrypt('app', pseudoRandom(32, 1), { a: '1' });
    expect(await client().c.decrypt(r.ciphertext, { a: '1' }, r.keyId)).toEqual(pseudoRandom(32, 1));
    await expectCode(client().c.decrypt(r.ciphertext, { a: '2' }, r.keyId), 'ERR_KMS_DENIED');
    await expectCode(client().c.decrypt(r.ciphertext, {}, r.keyId), 'ERR_KMS_DENIED');
  });

  it('derived keys bind the context: another context is refused by Vault → ERR_KMS_DENIED', async () => {
    const key = kms({ client: client({ derived: true }).c, keyId: 'derived' });
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    const err = await collect(decrypt(editContext(ct, 'aaaa'), { keys: [key] }));
    expect(err.code).toBe('ERR_NO_KEY');
    expect([(err.errors[0] as EnsealError).code, (err.errors[0] as Error).message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/HTTP 400: cipher: message authentication failed/)]);
    // Without the context, Vault refuses a derived key.
    expect((await collect(client().c.encrypt('derived', new Uint8Array(32), {}))).message).toMatch(/missing 'context'/);
    // Derived AEAD keys can take both; then generation goes through encrypt.
    const both = kms({ client: client({ derived: true, associatedData: true }).c, keyId: 'derived' });
    const n = fake.paths.length;
    const ct2 = await encrypt(text, { recipients: [both], context: { tenant: 'aaaa' } });
    expect(fake.paths.slice(n)).toEqual(['encrypt/derived']);
    expect(await decrypt(ct2, { keys: [both] })).toEqual(text);
    expect((await collect(decrypt(ct2, { keys: [key] }))).code).toBe('ERR_NO_KEY'); // no associated data: refused
  });

  it('a client that would bind nothing is refused; a reader binding otherwise is refused by Vault', async () => {
    expect(() => client({ associatedData: false })).toThrow(/binds nothing/);
    expect(() => client({ derived: 'yes' as never })).toThrow(TypeError);
    expect(() => client({ associatedData: 1 as never })).toThrow(TypeError);
    const key = kms({ client: client({ associatedData: true }).c, keyId: 'app' });
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: 'app' })] })).toEqual(text); // same as the default
    // A reader that sends the context as `context` (derived) and no associated data: the tag fails.
    const err = await collect(decrypt(ct, { keys: [kms({ client: client({ derived: true }).c, keyId: 'app' })] }));
    expect([err.code, (err.errors[0] as EnsealError).code]).toEqual(['ERR_NO_KEY', 'ERR_KMS_DENIED']);
  });

  it('custom mount and namespace; multi-recipient with aesKey', async () => {
    const aes = aesKey({ id: 'backup', key: pseudoRandom(32, 6) });
    const key = kms({ client: client({ mount: 'team/transit2', namespace: 'ns1/ns2' }).c, keyId: 'other' });
    const n = fake.paths.length;
    const ct = await encrypt(text, { recipients: [aes, key] });
    expect(fake.paths.slice(n)).toEqual(['encrypt/other', 'ns:ns1/ns2']);
    expect(inspect(ct).recipients[1]!.keyId).toBe('team/transit2/other');
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    expect(await decrypt(ct, { keys: [aes] })).toEqual(text);
    // A client on another mount does not claim the stanza.
    expect((await expectCode(decrypt(ct, { keys: [kms({ client: client().c, keyId: 'other' })] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
  });

  it('throttling (429) then success, with backoff; persistent 503 → ERR_KMS_UNAVAILABLE', async () => {
    const { c, delays } = client();
    server.faults.push('throttle');
    const n = server.requests;
    const r = await c.encrypt('app', new Uint8Array(32), {});
    expect(server.requests - n).toBe(2);
    expect(delays).toHaveLength(1);
    expect(await c.decrypt(r.ciphertext, {}, r.keyId)).toEqual(new Uint8Array(32));
    const sealed = client({ retries: 2 });
    server.always = 'server-error';
    const m = server.requests;
    try {
      const err = await collect(sealed.c.generateDataKey('app', {}));
      expect([err.code, err.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/3 attempt\(s\) \(HTTP 503\)/)]);
    } finally {
      server.always = undefined;
    }
    expect(server.requests - m).toBe(3);
  });

  it('a hung response times out fast', async () => {
    const { c } = client({ timeoutMs: 100, retries: 2 });
    server.faults.push('hang', 'hang', 'hang');
    const t0 = Date.now();
    const err = await collect(c.encrypt('app', new Uint8Array(32), {}));
    expect([err.code, err.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/3 attempt\(s\) \(timed out after 100 ms\)/)]);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('403: ERR_KMS_DENIED without retry, the token redacted; a wrong token is denied too', async () => {
    const { c, delays } = client();
    server.faults.push('deny');
    const n = server.requests;
    const err = await collect(c.encrypt('app', new Uint8Array(32), {}));
    expect([err.code, err.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/HTTP 403: 1 error occurred: \* permission denied \(token \[redacted\]\)/)]);
    expect(server.requests - n).toBe(1);
    expect(delays).toEqual([]);
    const other = await collect(client({ token: async () => 'hvs.someOtherTokenValue000000' }).c.encrypt('app', new Uint8Array(32), {}));
    expect([other.code, other.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/HTTP 403: permission denied/)]);
  });

  it('unknown key or mount → ERR_KMS_NOT_FOUND; a disabled key version → ERR_KMS_DISABLED', async () => {
    const missing = await collect(client().c.generateDataKey('nope', {}));
    expect([missing.code, missing.message]).toEqual(['ERR_KMS_NOT_FOUND', 'Vault Transit encrypt (key "transit/nope"): HTTP 400: encryption key not found']);
    const noMount = await collect(client({ mount: 'nomount' }).c.encrypt('app', new Uint8Array(32), {}));
    expect([noMount.code, noMount.message]).toEqual(['ERR_KMS_NOT_FOUND', expect.stringMatching(/^Vault Transit encrypt \(key "nomount\/app"\): HTTP 404: no handler for route/)]);
    // A strict reader for a key that is gone: the cause is ERR_KMS_NOT_FOUND.
    const gone = await encrypt(text, { recipients: [kms({ client: client().c, keyId: 'b' })] });
    fake.keys.delete('transit/b');
    try {
      const e = await collect(decrypt(gone, { keys: [kms({ client: client().c, keyId: 'b' })] }));
      expect([e.code, (e.errors[0] as EnsealError).code]).toEqual(['ERR_NO_KEY', 'ERR_KMS_NOT_FOUND']);
    } finally {
      fake.keys.set('transit/b', { derived: false, version: 1, minDecryptionVersion: 1 });
    }
    const key = kms({ client: client().c, keyId: 'app' });
    const ct = await encrypt(text, { recipients: [key] });
    const k = fake.keys.get('transit/app')!;
    k.version = 2;
    k.minDecryptionVersion = 2;
    try {
      const err = await collect(decrypt(ct, { keys: [key] }));
      expect([(err.errors[0] as EnsealError).code, (err.errors[0] as Error).message]).toEqual(['ERR_KMS_DISABLED', expect.stringMatching(/ciphertext version is disabled/)]);
      const ct2 = await encrypt(text, { recipients: [key] });
      expect(Buffer.from(ct2).includes('vault:v2:')).toBe(true);
      expect(await decrypt(ct2, { keys: [key] })).toEqual(text);
    } finally {
      k.minDecryptionVersion = 1;
    }
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
  });

  it('Vault down: ERR_KMS_UNAVAILABLE', async () => {
    const err = await collect(client({ address: `http://localhost:${await refusedPort()}`, retries: 1 }).c.encrypt('app', new Uint8Array(32), {}));
    expect([err.code, err.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/2 attempt\(s\) \(network error (ECONNREFUSED|EADDRNOTAVAIL)\)/)]);
  });

  it('misuse: bad address, mount, token, key name; decrypt needs the key id', async () => {
    expect(() => vaultTransit({ address: 'http://vault.internal:8200', token: TOKEN, allowInsecureHttp: true })).toThrow(TypeError);
    expect(() => vaultTransit({ address: server.url, token: TOKEN })).toThrow(TypeError);
    expect(() => vaultTransit({ address: 'https://vault', token: '' })).toThrow(TypeError);
    expect(() => vaultTransit({ address: 'https://vault', token: TOKEN, mount: '../sys' })).toThrow(TypeError);
    expect(() => vaultTransit({ address: 'https://vault', token: TOKEN, associatedData: false })).toThrow(TypeError);
    await expect(client().c.encrypt('a/b', new Uint8Array(1), {})).rejects.toThrow(TypeError);
    await expect(client().c.decrypt(new TextEncoder().encode('vault:v1:AAAA'), {})).rejects.toThrow(TypeError);
    await expectCode(client().c.decrypt(new TextEncoder().encode('not vault'), {}, 'app'), 'ERR_HEADER');
  });

  it('strict: a reader for key A refuses objects of key B of the same mount whatever the stanza says; Vault is never asked for B', async () => {
    const readerA = kms({ client: client().c, keyId: 'app' });
    const ofB = await encrypt(text, { recipients: [kms({ client: client().c, keyId: 'b' })], context: { c: '1' } });
    const stanza = decodeHeader(ofB).recipients[0]!;
    expect(stanza.keyId).toBe('transit/b');
    const n = fake.paths.length;
    expect((await expectCode(decrypt(ofB, { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    for (const forged of [{ ...stanza, params: { requested: 'app' } }, { ...stanza, keyId: 'app' }, { ...stanza, keyId: 'transit/app/../b' }]) {
      expect((await expectCode(decrypt(await forgedObject(text, forged, { c: '1' }), { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    }
    expect(fake.paths.slice(n)).toEqual([]); // a Vault key name is canonical: no lookup, no request
    // Claiming A's canonical id with B's ciphertext: Vault is asked to decrypt with A, and refuses.
    const claim = await collect(decrypt(await forgedObject(text, { ...stanza, keyId: 'transit/app' }, { c: '1' }), { keys: [readerA] }));
    expect([claim.code, (claim.errors[0] as EnsealError).code, (claim.errors[0] as Error).message]).toEqual(['ERR_NO_KEY', 'ERR_KMS_DENIED', expect.stringMatching(/cipher: message authentication failed/)]);
    expect(fake.paths.slice(n)).toEqual(['decrypt/app']);
    // A's own objects: one decrypt each, no lookup.
    const ofA = await encrypt(text, { recipients: [readerA] });
    const m = fake.paths.length;
    expect(await decrypt(ofA, { keys: [readerA] })).toEqual(text);
    expect(await decrypt(ofA, { keys: [readerA] })).toEqual(text);
    expect(fake.paths.slice(m)).toEqual(['decrypt/app', 'decrypt/app']);
  });

  it('discovery: opt-in decrypts any key of the mount (under the stanza\'s key); other mounts are not its own', async () => {
    const ofB = await encrypt(text, { recipients: [kms({ client: client().c, keyId: 'b' })] });
    const any = kms({ client: client().c, discovery: true });
    const n = fake.paths.length;
    expect(await decrypt(ofB, { keys: [any] })).toEqual(text);
    expect(fake.paths.slice(n)).toEqual(['decrypt/b']);
    expect((await expectCode(decrypt(ofB, { keys: [kms({ client: client({ mount: 'team/transit2' }).c, discovery: true })] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    expect(() => kms({ client: client().c, discovery: { regions: ['eu-west-1'] } })).toThrow(TypeError);
    await expect(encrypt(text, { recipients: [any] })).rejects.toThrow(TypeError);
  });

  it('no error message contains the token or a data key', () => {
    expectNoSecrets(errors, [TOKEN, 'hvs.someOtherTokenValue000000', ...fake.generated.flatMap(forms)]);
  });
});
