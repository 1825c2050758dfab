/**
 * Alibaba Cloud KMS: the RPC signature against Alibaba's published example, then the client end
 * to end against a local server that speaks the KMS RPC API (form-encoded POST, JSON answers),
 * recomputes the HMAC-SHA1 signature itself with node:crypto, rejects replayed nonces,
 * encrypts with real AES-GCM per key, and injects faults.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, type EnsealError } from '../src/index.js';
import { alibabaKms, canonicalizeRpcQuery, kms, signAlibabaRpc, type AlibabaKmsOptions } from '../src/kms.js';
import { caught, expectCode, pseudoRandom, vector } from './helpers.js';
import { FakeKms, Keyring, expectNoSecrets, forms, recordingSleep, refusedPort, sortedJson, type Reply, type SeenRequest } from './kms-helpers.js';

const vectors = vector<{ cases: any[] }>('alibaba-signature.json');

describe('Alibaba Cloud RPC signature: published example', () => {
  for (const c of vectors.cases) {
    it(c.name, async () => {
      expect(canonicalizeRpcQuery(c.params)).toBe(c.canonicalQuery);
      const s = await signAlibabaRpc(c.method, c.params, c.accessKeySecret);
      expect(s.stringToSign).toBe(c.stringToSign);
      expect(s.signature).toBe(c.signature);
      // The published signed URL carries the same parameters plus our signature.
      const signed = new URL(c.signedUrl).searchParams;
      expect(signed.get('Signature')).toBe(s.signature);
      expect(Object.fromEntries([...signed].filter(([k]) => k !== 'Signature'))).toEqual(c.params);
      // The StringToSign as printed (literal & separators) does not give the published value.
      expect(createHmac('sha1', c.hmacKey).update(c.publishedStringToSignAsPrinted).digest('base64')).not.toBe(c.signature);
    });
  }

  it('encodes per RFC 3986 (space %20, * %2A, ~ kept) and refuses an empty secret', async () => {
    expect(canonicalizeRpcQuery({ b: 'a b*~', a: "!'()", Signature: 'x' })).toBe('a=%21%27%28%29&b=a%20b%2A~');
    await expect(signAlibabaRpc('POST', { a: '1' }, '')).rejects.toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// A fake Alibaba Cloud KMS

const CREDS = { accessKeyId: 'LTAI5tFAKEACCESSKEYID', accessKeySecret: 'FakeAlibabaSecret0123456789abcdef', securityToken: 'CAIS-fake-sts-token-0123456789abcdefghijklmnop' };
const K1 = 'b1a2c3d4-1111-2222-3333-444455556666';
const K2 = 'c9d8e7f6-aaaa-bbbb-cccc-ddddeeeeffff';

/** Independent RFC 3986 encoding (not the client's). */
const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

class FakeAlibaba {
  readonly ring = new Keyring();
  readonly disabled = new Set<string>();
  readonly nonces = new Set<string>();
  readonly aliases = new Map([['alias/app', K1]]);
  readonly generated: Buffer[] = [];

  resolve(keyId: string | null): string | undefined {
    if (keyId === null) return undefined;
    const id = this.aliases.get(keyId) ?? keyId;
    return id === K1 || id === K2 ? id : undefined;
  }

  verify(p: URLSearchParams): Reply | undefined {
    const err = (code: string, status = 400): Reply => ({ status, body: { RequestId: 'r', HostId: 'kms', Code: code, Message: `${code}.` } });
    if (p.get('AccessKeyId') !== CREDS.accessKeyId) return err('InvalidAccessKeyId.NotFound', 404);
    if (p.get('SignatureMethod') !== 'HMAC-SHA1' || p.get('SignatureVersion') !== '1.0' || p.get('Version') !== '2016-01-20' || p.get('Format') !== 'JSON') return err('InvalidParameter');
    if (Math.abs(Date.parse(p.get('Timestamp') ?? '') - Date.now()) > 15 * 60_000) return err('InvalidTimeStamp.Expired');
    if (p.get('SecurityToken') !== CREDS.securityToken) return err('InvalidSecurityToken.Mismatch');
    const nonce = p.get('SignatureNonce') ?? '';
    if (nonce === '' || this.nonces.has(nonce)) return err('SignatureNonceUsed');
    this.nonces.add(nonce);
    const canonical = [...p]
      .filter(([k]) => k !== 'Signature')
      .map(([k, v]) => `${enc(k)}=${enc(v)}`)
      .sort()
      .join('&');
    const expected = createHmac('sha1', `${CREDS.accessKeySecret}&`).update(`POST&%2F&${enc(canonical)}`).digest('base64');
    return p.get('Signature') === expected ? undefined : err('SignatureDoesNotMatch');
  }

  handle = (req: SeenRequest): Reply => {
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-www-form-urlencoded') return { status: 400, body: { Code: 'InvalidParameter' } };
    const p = new URLSearchParams(req.body);
    const bad = this.verify(p);
    if (bad !== undefined) return bad;
    const err = (code: string, status = 400): Reply => ({ status, body: { RequestId: 'r', HostId: 'kms', Code: code, Message: `The request failed: ${code}` } });
    const ctx = p.get('EncryptionContext');
    let context: Record<string, string> = {};
    try {
      context = ctx === null ? {} : JSON.parse(ctx);
    } catch {
      return err('InvalidParameter');
    }
    const aad = (id: string): string => `${id}|${sortedJson(context)}`;
    const seal = (id: string, pt: Uint8Array): string => {
      const idb = Buffer.from(id);
      return Buffer.concat([Buffer.of(idb.length), idb, this.ring.seal(id, pt, aad(id))]).toString('base64');
    };
    const action = p.get('Action');
    if (action === 'Decrypt') {
      const blob = Buffer.from(p.get('CiphertextBlob') ?? '', 'base64');
      const id = blob.subarray(1, 1 + (blob[0] ?? 0)).toString();
      if (this.resolve(id) === undefined) return err('Forbidden.KeyNotFound', 404);
      if (this.disabled.has(id)) return err('Rejected.Disabled', 409);
      const pt = this.ring.open(id, blob.subarray(1 + (blob[0] as number)), aad(id));
      if (pt === undefined) return err('InvalidCiphertext');
      return { status: 200, body: { RequestId: 'r', KeyId: id, KeyVersionId: 'v1', Plaintext: pt.toString('base64') } };
    }
    const id = this.resolve(p.get('KeyId'));
    if (id === undefined) return err('Forbidden.KeyNotFound', 404);
    if (this.disabled.has(id)) return err('Forbidden.DisabledKey', 403);
    if (action === 'GenerateDataKey') {
      if (p.get('KeySpec') !== 'AES_256') return err('InvalidParameter');
      const pt = randomBytes(32);
      this.generated.push(pt);
      return { status: 200, body: { RequestId: 'r', KeyId: id, KeyVersionId: 'v1', Plaintext: pt.toString('base64'), CiphertextBlob: seal(id, pt) } };
    }
    if (action === 'Encrypt') {
      return { status: 200, body: { RequestId: 'r', KeyId: id, KeyVersionId: 'v1', CiphertextBlob: seal(id, Buffer.from(p.get('Plaintext') ?? '', 'base64')) } };
    }
    return err('InvalidAction.NotFound', 404);
  };
}

const fake = new FakeAlibaba();
const server = new FakeKms(fake.handle, (f) => {
  if (f === 'throttle') return { status: 429, body: { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } };
  if (f === 'server-error') return { status: 503, body: { Code: 'ServiceUnavailableTemporary', Message: 'unavailable' } };
  if (f === 'disabled') return { status: 409, body: { Code: 'Rejected.Disabled', Message: 'disabled' } };
  return { status: 403, body: { Code: 'Forbidden.NoPermission', Message: `not authorized; secret=${CREDS.accessKeySecret}` } };
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

function client(extra: Partial<AlibabaKmsOptions> = {}) {
  const rec = recordingSleep();
  const c = alibabaKms({ regionId: 'cn-hangzhou', credentials: CREDS, endpoint: server.url, allowInsecureHttp: true, sleep: rec.sleep, ...extra });
  return { c, delays: rec.delays };
}
const text = new TextEncoder().encode('alibaba-wrapped hello');

describe('Alibaba Cloud KMS client against a local KMS', () => {
  it('envelope round trip, by alias and by key id; another key is not mine', async () => {
    const key = kms({ client: client().c, keyId: 'alias/app' });
    const ct = await encrypt(text, { recipients: [key], context: { bucket: 'oss-1', 'a b': 'c*d' } });
    expect(inspect(ct).recipients[0]).toMatchObject({ type: 'kms-alibaba', keyId: K1, params: { requested: 'alias/app' } });
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: K1 })] })).toEqual(text);
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: `acs:kms:cn-hangzhou:1234567890:key/${K1}` })] })).toEqual(text);
    expect((await expectCode(decrypt(ct, { keys: [kms({ client: client().c, keyId: K2 })] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    // Every request carried a fresh nonce and a valid signature (the server checks both).
    expect(fake.nonces.size).toBeGreaterThanOrEqual(4);
  });

  it('multi-recipient with aesKey', async () => {
    const aes = aesKey({ id: 'backup', key: pseudoRandom(32, 4) });
    const ct = await encrypt(text, { recipients: [aes, kms({ client: client().c, keyId: K2 })], context: { x: 'y' } });
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: K2 })] })).toEqual(text);
    expect(await decrypt(ct, { keys: [aes] })).toEqual(text);
  });

  it('wrong context: KMS refuses (InvalidCiphertext) → ERR_NO_KEY listing ERR_KMS_DENIED', async () => {
    const key = kms({ client: client().c, keyId: K1 });
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    const edited = ct.slice();
    edited[Buffer.from(ct).indexOf('aaaa')] = 0x62;
    const err = await collect(decrypt(edited, { keys: [key] }));
    expect(err.code).toBe('ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_KMS_DENIED');
    expect((err.errors[0] as Error).message).toMatch(/InvalidCiphertext \(HTTP 400\)/);
  });

  it('throttling then success: retried (fresh nonce each time)', async () => {
    const { c, delays } = client();
    server.faults.push('throttle', 'throttle', 'throttle');
    const n = server.requests;
    const g = await c.generateDataKey(K1, { a: '1' });
    expect(server.requests - n).toBe(4);
    expect(delays).toHaveLength(3);
    expect(g.plaintext).toHaveLength(32);
    expect(await c.decrypt(g.ciphertext, { a: '1' })).toEqual(g.plaintext);
  });

  it('persistent 5xx: ERR_KMS_UNAVAILABLE after the bounded retries', async () => {
    const { c } = client({ retries: 1 });
    server.always = 'server-error';
    const n = server.requests;
    try {
      const err = await collect(c.encrypt(K1, new Uint8Array(32), {}));
      expect([err.code, err.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/2 attempt\(s\) \(ServiceUnavailableTemporary \(HTTP 503\)\)/)]);
    } finally {
      server.always = undefined;
    }
    expect(server.requests - n).toBe(2);
  });

  it('a hung response times out fast', async () => {
    const { c } = client({ timeoutMs: 120, retries: 0 });
    server.faults.push('hang');
    const t0 = Date.now();
    const err = await collect(c.encrypt(K1, new Uint8Array(32), {}));
    expect([err.code, err.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/timed out after 120 ms/)]);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('denial: ERR_KMS_DENIED without retry, secret redacted', async () => {
    const { c, delays } = client();
    server.faults.push('deny');
    const n = server.requests;
    const err = await collect(c.encrypt(K1, new Uint8Array(32), {}));
    expect([err.code, err.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/Forbidden\.NoPermission \(HTTP 403\).*\[redacted\]/)]);
    expect(server.requests - n).toBe(1);
    expect(delays).toEqual([]);
  });

  it('unknown key, unknown AccessKey id, wrong secret: ERR_KMS_DENIED', async () => {
    expect((await collect(client().c.encrypt('alias/none', new Uint8Array(32), {}))).message).toMatch(/Forbidden\.KeyNotFound \(HTTP 404\)/);
    const e2 = await collect(client({ credentials: { ...CREDS, accessKeyId: 'LTAIunknown' } }).c.encrypt(K1, new Uint8Array(32), {}));
    expect([e2.code, e2.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/InvalidAccessKeyId\.NotFound/)]);
    const e3 = await collect(client({ credentials: async () => ({ ...CREDS, accessKeySecret: 'WrongSecretWrongSecret0123456789' }) }).c.encrypt(K1, new Uint8Array(32), {}));
    expect([e3.code, e3.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/SignatureDoesNotMatch \(HTTP 400\)/)]);
  });

  it('disabled key: ERR_KMS_DISABLED for generate and decrypt', async () => {
    const key = kms({ client: client().c, keyId: K2 });
    const ct = await encrypt(text, { recipients: [key] });
    fake.disabled.add(K2);
    try {
      expect((await collect(encrypt(text, { recipients: [key] }))).code).toBe('ERR_KMS_DISABLED');
      const err = await collect(decrypt(ct, { keys: [key] }));
      expect([err.code, (err.errors[0] as EnsealError).code]).toEqual(['ERR_NO_KEY', 'ERR_KMS_DISABLED']);
    } finally {
      fake.disabled.delete(K2);
    }
  });

  it('KMS down: ERR_KMS_UNAVAILABLE', async () => {
    const err = await collect(client({ endpoint: `http://127.0.0.1:${await refusedPort()}`, retries: 2 }).c.encrypt(K1, new Uint8Array(32), {}));
    expect([err.code, err.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/3 attempt\(s\) \(network error ECONNREFUSED\)/)]);
  });

  it('a stanza blob that is not an Alibaba blob is refused before any request', async () => {
    const n = server.requests;
    await expectCode(client().c.decrypt(Uint8Array.of(0, 1, 2), {}), 'ERR_HEADER');
    expect(server.requests).toBe(n);
  });

  it('option checks', () => {
    expect(() => alibabaKms({ regionId: 'cn hangzhou', credentials: CREDS })).toThrow(TypeError);
    expect(() => alibabaKms({ regionId: 'cn-hangzhou', credentials: CREDS, endpoint: 'http://kms.example.com', allowInsecureHttp: true })).toThrow(TypeError);
    expect(() => alibabaKms({ regionId: 'cn-hangzhou', credentials: { accessKeyId: 'x' } as never })).toThrow(TypeError);
    expect(alibabaKms({ regionId: 'cn-hangzhou', credentials: CREDS }).type).toBe('alibaba');
  });

  it('no error message contains the secret, the STS token or a data key', () => {
    expectNoSecrets(errors, [CREDS.accessKeySecret, CREDS.securityToken, 'WrongSecretWrongSecret0123456789', ...fake.generated.flatMap(forms)]);
  });
});
