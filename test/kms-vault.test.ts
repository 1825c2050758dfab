/**
 * HashiCorp Vault Transit: the client end to end against a local server that follows the
 * Transit HTTP API (datakey/encrypt/decrypt, `vault:vN:` ciphertexts, `{"errors": […]}`),
 * checks the token, implements derived keys (context) and AEAD associated data with real
 * AES-GCM, key versions with a minimum decryption version, and injects faults.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, type EnsealError } from '../src/index.js';
import { kms, vaultTransit, type VaultTransitOptions } from '../src/kms.js';
import { caught, expectCode, pseudoRandom } from './helpers.js';
import { FakeKms, Keyring, expectNoSecrets, forms, recordingSleep, refusedPort, type Reply, type SeenRequest } from './kms-helpers.js';

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
  ]);
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
  it('round trip (non-derived key); canonical id is mount/name; the context is not bound by Vault', async () => {
    const key = kms({ client: client().c, keyId: 'app' });
    const n = fake.paths.length;
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    expect(fake.paths.slice(n)).toEqual(['datakey/plaintext/app']);
    expect(inspect(ct).recipients[0]).toMatchObject({ type: 'kms-vault', keyId: 'transit/app', params: { requested: 'app' } });
    expect(Buffer.from(ct).includes('vault:v1:')).toBe(true); // Vault's ciphertext, stored as is
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: 'transit/app' })] })).toEqual(text);
    // The documented limitation: Vault unwraps under another context; enseal's header MAC and
    // payload commitment still refuse the edited object.
    await expectCode(decrypt(editContext(ct, 'aaaa'), { keys: [key] }), 'ERR_AUTH');
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
  });

  it('associated data binds the context on a non-derived key; generation goes through encrypt', async () => {
    const key = kms({ client: client({ associatedData: true }).c, keyId: 'app' });
    const n = fake.paths.length;
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    expect(fake.paths.slice(n)).toEqual(['encrypt/app']);
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    const err = await collect(decrypt(editContext(ct, 'aaaa'), { keys: [key] }));
    expect((err.errors[0] as EnsealError).code).toBe('ERR_KMS_DENIED');
    // A reader without associatedData is refused too (the AAD is part of the tag).
    expect((await collect(decrypt(ct, { keys: [kms({ client: client().c, keyId: 'app' })] }))).code).toBe('ERR_NO_KEY');
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

  it('unknown key → ERR_KMS_DENIED; a disabled key version → ERR_KMS_DISABLED', async () => {
    expect((await collect(client().c.generateDataKey('nope', {}))).message).toMatch(/HTTP 400: encryption key not found/);
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
    await expect(client().c.encrypt('a/b', new Uint8Array(1), {})).rejects.toThrow(TypeError);
    await expect(client().c.decrypt(new TextEncoder().encode('vault:v1:AAAA'), {})).rejects.toThrow(TypeError);
    await expectCode(client().c.decrypt(new TextEncoder().encode('not vault'), {}, 'app'), 'ERR_HEADER');
  });

  it('no error message contains the token or a data key', () => {
    expectNoSecrets(errors, [TOKEN, 'hvs.someOtherTokenValue000000', ...fake.generated.flatMap(forms)]);
  });
});
