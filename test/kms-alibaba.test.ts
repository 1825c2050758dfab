/**
 * Alibaba Cloud KMS: the RPC signature against Alibaba's published example, then the client end
 * to end against a local server that speaks the KMS RPC API (form-encoded POST, JSON answers),
 * recomputes the HMAC-SHA1 signature itself with node:crypto, rejects replayed nonces,
 * encrypts with real AES-GCM per key, and injects faults.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, type EnsealError } from '../src/index.js';
import { decodeHeader } from '../src/format/header.js';
import { alibabaKms, canonicalizeRpcQuery, kms, signAlibabaRpc, type AlibabaKmsOptions } from '../src/kms.js';
import { caught, expectCode, pseudoRandom, vector } from './helpers.js';
import { FakeKms, Keyring, expectNoSecrets, forms, forgedObject, recordingSleep, refusedPort, sortedJson, type Reply, type SeenRequest } from './kms-helpers.js';

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
  readonly aliases = new Map([['alias/app', K1], ['alias/b', K2]]);
  readonly generated: Buffer[] = [];
  /** Per Decrypt: the KeyId parameter sent (the API has none) and the key whose blob it opened. */
  readonly decrypts: { keyIdParam: string | null; opened: string }[] = [];
  readonly describes: string[] = [];
  /** A misbehaving KMS: answers Decrypt with this KeyId. */
  answerAs: string | undefined;

  resolve(keyId: string | null): string | undefined {
    if (keyId === null) return undefined;
    const arn = /^acs:kms:cn-hangzhou:1234567890:key\/(.+)$/.exec(keyId);
    const id = arn !== null ? arn[1]! : (this.aliases.get(keyId) ?? keyId);
    return id === K1 || id === K2 ? id : undefined;
  }

  /** The not-found code real KMS uses for an alias, a deleted key, or an unknown key id. */
  static notFound(keyId: string | null): string {
    return keyId?.startsWith('alias/') ? 'Forbidden.AliasNotFound' : keyId === 'deleted-key' ? 'EntityNotExist.Key' : 'Forbidden.KeyNotFound';
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
      this.decrypts.push({ keyIdParam: p.get('KeyId'), opened: id });
      if (this.disabled.has(id)) return err('Rejected.Disabled', 409);
      const pt = this.ring.open(id, blob.subarray(1 + (blob[0] as number)), aad(id));
      if (pt === undefined) return err('InvalidCiphertext');
      return { status: 200, body: { RequestId: 'r', KeyId: this.answerAs ?? id, KeyVersionId: 'v1', Plaintext: pt.toString('utf8') } };
    }
    if (action === 'DescribeKey') this.describes.push(p.get('KeyId') ?? '');
    const id = this.resolve(p.get('KeyId'));
    if (id === undefined) return err(FakeAlibaba.notFound(p.get('KeyId')), 404);
    if (action === 'DescribeKey') {
      return { status: 200, body: { RequestId: 'r', KeyMetadata: { KeyId: id, Arn: `acs:kms:cn-hangzhou:1234567890:key/${id}`, KeyState: this.disabled.has(id) ? 'Disabled' : 'Enabled' } } };
    }
    if (this.disabled.has(id)) return err('Forbidden.DisabledKey', 403);
    if (action === 'GenerateDataKey') {
      if (p.get('KeySpec') !== 'AES_256') return err('InvalidParameter');
      const pt = randomBytes(32);
      this.generated.push(pt);
      return { status: 200, body: { RequestId: 'r', KeyId: id, KeyVersionId: 'v1', Plaintext: pt.toString('base64'), CiphertextBlob: seal(id, Buffer.from(pt.toString('base64'))) } };
    }
    if (action === 'Encrypt') {
      return { status: 200, body: { RequestId: 'r', KeyId: id, KeyVersionId: 'v1', CiphertextBlob: seal(id, Buffer.from(p.get('Plaintext') ?? '', 'utf8')) } };
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

  it('unknown key or alias: ERR_KMS_NOT_FOUND; unknown AccessKey id, wrong secret: ERR_KMS_DENIED', async () => {
    for (const [keyId, code] of [['alias/none', 'Forbidden.AliasNotFound'], ['no-such-key', 'Forbidden.KeyNotFound'], ['deleted-key', 'EntityNotExist.Key']]) {
      const e = await collect(client().c.encrypt(keyId!, new Uint8Array(32), {}));
      expect([e.code, e.message]).toEqual(['ERR_KMS_NOT_FOUND', `Alibaba Cloud KMS Encrypt (key "${keyId}"): ${code} (HTTP 404): The request failed: ${code}`]);
    }
    const escaped = await collect(client().c.encrypt('alias/x\u0007\u202e', new Uint8Array(32), {}));
    expect([escaped.code, escaped.message]).toEqual(['ERR_KMS_NOT_FOUND', expect.stringContaining('(key "alias/x\\x07\\u202e")')]);
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

  it('decryptText returns the Plaintext string as Encrypt was given it (legacy OSS Python starts); decrypt base64-decodes it', async () => {
    const { c } = client();
    const bytes = new TextEncoder().encode('12345678901234567890');
    const { ciphertext, keyId } = await c.encrypt(K1, bytes, { a: 'b' });
    expect(await c.decryptText(ciphertext, { a: 'b' }, keyId)).toBe(Buffer.from(bytes).toString('base64'));
    expect(await c.decrypt(ciphertext, { a: 'b' }, keyId)).toEqual(bytes);
    expect((await collect(c.decryptText(ciphertext, { a: 'other' }, keyId))).code).toBe('ERR_KMS_DENIED');
    expect((await collect(c.decryptText(ciphertext, { a: 'b' }, K2))).code).toBe('ERR_KMS_DENIED');
  });

  it('option checks', () => {
    expect(() => alibabaKms({ regionId: 'cn hangzhou', credentials: CREDS })).toThrow(TypeError);
    expect(() => alibabaKms({ regionId: 'cn-hangzhou', credentials: CREDS, endpoint: 'http://kms.example.com', allowInsecureHttp: true })).toThrow(TypeError);
    expect(() => alibabaKms({ regionId: 'cn-hangzhou', credentials: { accessKeyId: 'x' } as never })).toThrow(TypeError);
    expect(alibabaKms({ regionId: 'cn-hangzhou', credentials: CREDS }).type).toBe('alibaba');
  });

  it('strict: a reader for key A refuses objects of key B whatever the stanza says; a blob of B claiming A is refused from the answer', async () => {
    const readerA = kms({ client: client().c, keyId: 'alias/app' });
    const ofB = await encrypt(text, { recipients: [kms({ client: client().c, keyId: 'alias/b' })], context: { c: '1' } });
    const stanza = decodeHeader(ofB).recipients[0]!;
    expect(stanza.keyId).toBe(K2);
    const decrypts = fake.decrypts.length;
    const describes = fake.describes.length;
    expect((await expectCode(decrypt(ofB, { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    for (const forged of [{ ...stanza, params: { requested: 'alias/app' } }, { ...stanza, keyId: 'alias/app' }, { ...stanza, keyId: `acs:kms:cn-hangzhou:1234567890:key/${K1}`, params: { requested: K1 } }]) {
      expect((await expectCode(decrypt(await forgedObject(text, forged, { c: '1' }), { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    }
    // No request ever tried B's blob so far: the stanza never selected the key.
    expect(fake.decrypts.slice(decrypts)).toEqual([]);
    // Claiming A's key id with B's blob: Alibaba's Decrypt takes no key id, so KMS opens the blob,
    // and the client refuses (and wipes) the plaintext because the answer names B.
    const claim = await collect(decrypt(await forgedObject(text, { ...stanza, keyId: K1 }, { c: '1' }), { keys: [readerA] }));
    expect([claim.code, (claim.errors[0] as EnsealError).code, (claim.errors[0] as Error).message]).toEqual(['ERR_NO_KEY', 'ERR_KMS_DENIED', `Alibaba Cloud KMS Decrypt (key "${K1}"): the ciphertext was made under another key ("${K2}")`]);
    expect(fake.decrypts.slice(decrypts)).toEqual([{ keyIdParam: null, opened: K2 }]);
    expect(fake.describes.slice(describes)).toEqual(['alias/app']);
  });

  it('strict: an alias reader decrypts with exactly one DescribeKey; a key id needs none', async () => {
    const cts = await Promise.all([1, 2, 3].map((i) => encrypt(pseudoRandom(50, i), { recipients: [kms({ client: client().c, keyId: K1 })] })));
    const reader = kms({ client: client().c, keyId: 'alias/app' });
    const describes = fake.describes.length;
    for (const [i, ct] of cts.entries()) expect(await decrypt(ct, { keys: [reader] })).toEqual(pseudoRandom(50, i + 1));
    expect(fake.describes.slice(describes)).toEqual(['alias/app']);
    expect(await decrypt(cts[0]!, { keys: [kms({ client: client().c, keyId: K1 })] })).toEqual(pseudoRandom(50, 1));
    expect(fake.describes.slice(describes)).toEqual(['alias/app']);
    // A missing alias: the lookup says so.
    const e = await collect(decrypt(cts[0]!, { keys: [kms({ client: client().c, keyId: 'alias/gone' })] }));
    expect([e.code, (e.errors[0] as EnsealError).code]).toEqual(['ERR_NO_KEY', 'ERR_KMS_NOT_FOUND']);
  });

  it('discovery: opt-in decrypts any key (the answer must name the stanza\'s key); filters are refused', async () => {
    const ofB = await encrypt(text, { recipients: [kms({ client: client().c, keyId: K2 })] });
    const any = kms({ client: client().c, discovery: true });
    const decrypts = fake.decrypts.length;
    expect(await decrypt(ofB, { keys: [any] })).toEqual(text);
    expect(fake.decrypts.slice(decrypts)).toEqual([{ keyIdParam: null, opened: K2 }]);
    fake.answerAs = K1;
    try {
      const e = await collect(decrypt(ofB, { keys: [any] }));
      expect((e.errors[0] as EnsealError).code).toBe('ERR_KMS_DENIED');
    } finally {
      fake.answerAs = undefined;
    }
    expect(() => kms({ client: client().c, discovery: { accounts: ['111122223333'] } })).toThrow(TypeError);
    await expect(encrypt(text, { recipients: [any] })).rejects.toThrow(TypeError);
  });

  it('no error message contains the secret, the STS token or a data key', () => {
    expectNoSecrets(errors, [CREDS.accessKeySecret, CREDS.securityToken, 'WrongSecretWrongSecret0123456789', ...fake.generated.flatMap(forms)]);
  });
});
