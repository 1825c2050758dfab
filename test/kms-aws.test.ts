/**
 * AWS KMS: the SigV4 signer against AWS's published test suite, then the client end to end
 * against a local server that speaks the KMS JSON protocol, verifies SigV4 itself (written here
 * with node:crypto, not with the client's signer), encrypts with real AES-GCM per key, and
 * injects faults.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, getBackend, inspect, type EnsealError } from '../src/index.js';
import { decodeHeader } from '../src/format/header.js';
import { awsKms, kms, signSigV4, type AwsKmsOptions } from '../src/kms.js';
import { BACKENDS, caught, expectCode, pseudoRandom, vector } from './helpers.js';
import { FakeKms, Keyring, expectNoSecrets, forms, forgedObject, recordingSleep, refusedPort, sortedJson, type Reply, type SeenRequest } from './kms-helpers.js';

interface SigCase {
  name: string;
  request: { method: string; target: string; headers: Record<string, string>; body: string };
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  region: string;
  service: string;
  timestamp: string;
  signBody: boolean;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  authorization: string;
}
const vectors = vector<{ cases: SigCase[]; iamExample: any }>('sigv4.json');

for (const backend of BACKENDS) {
  describe(`SigV4 / ${backend}: AWS test suite`, () => {
    for (const c of vectors.cases) {
      it(c.name, async () => {
        const headers = Object.fromEntries(Object.entries(c.request.headers).filter(([k]) => k.toLowerCase() !== 'host'));
        const r = await signSigV4(getBackend(backend), {
          method: c.request.method,
          url: new URL(`https://${c.request.headers.Host}${c.request.target}`),
          headers,
          body: c.request.body,
          region: c.region,
          service: c.service,
          credentials: { accessKeyId: c.credentials.access_key_id, secretAccessKey: c.credentials.secret_access_key, sessionToken: c.credentials.token },
          date: Date.parse(c.timestamp),
          signPayloadHeader: c.signBody,
        });
        expect(r.canonicalRequest).toBe(c.canonicalRequest);
        expect(r.stringToSign).toBe(c.stringToSign);
        expect(r.signature).toBe(c.signature);
        expect(r.authorization).toBe(c.authorization);
        expect(r.headers['x-amz-date']).toBe('20150830T123600Z');
      });
    }

    it('the IAM ListUsers example of the SigV4 documentation', async () => {
      const x = vectors.iamExample;
      const r = await signSigV4(getBackend(backend), {
        method: x.request.method,
        url: new URL(x.request.url),
        headers: { 'Content-Type': x.request.headers['Content-Type'] },
        body: '',
        region: x.region,
        service: x.service,
        credentials: { accessKeyId: x.credentials.access_key_id, secretAccessKey: x.credentials.secret_access_key },
        date: Date.parse(x.timestamp),
      });
      expect(createHash('sha256').update(r.canonicalRequest).digest('hex')).toBe(x.canonicalRequestSha256);
      expect(r.authorization).toBe(x.authorization);
    });
  });
}

describe('SigV4 misuse', () => {
  it('refuses missing credentials, bad scope parts and duplicate headers', async () => {
    const base = { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: '', region: 'us-east-1', service: 'kms', date: 0 };
    await expect(signSigV4(getBackend(), { ...base, credentials: { accessKeyId: '', secretAccessKey: 'x' } })).rejects.toThrow(TypeError);
    await expect(signSigV4(getBackend(), { ...base, region: 'us east', credentials: { accessKeyId: 'a', secretAccessKey: 'x' } })).rejects.toThrow(TypeError);
    await expect(signSigV4(getBackend(), { ...base, headers: { 'X-A': '1', 'x-a': '2' }, credentials: { accessKeyId: 'a', secretAccessKey: 'x' } })).rejects.toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// A fake AWS KMS

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const CREDS = { accessKeyId: 'AKIAFAKEKMSTEST00001', secretAccessKey: 'fake/Secret+Key0123456789abcdefghijKLMNOP', sessionToken: 'FwoGZXIvYXdzEFAKE-session-token-0123456789' };
const OTHER_ACCOUNT = '444455556666';
const K1 = '1234abcd-12ab-34cd-56ef-1234567890ab';
const K2 = '0987dcba-09fe-87dc-65ba-ab0987654321';
/** A key of another account whose key policy lets these credentials decrypt. */
const K3 = 'fedc3333-3333-4444-5555-666677778888';
const OWNER = new Map([[K1, ACCOUNT], [K2, ACCOUNT], [K3, OTHER_ACCOUNT]]);
const arn = (id: string): string => `arn:aws:kms:${REGION}:${OWNER.get(id) ?? ACCOUNT}:key/${id}`;

class FakeAws {
  readonly ring = new Keyring();
  readonly disabled = new Set<string>();
  readonly aliases = new Map([['alias/app', K1], ['alias/b', K2]]);
  /** Plaintexts the KMS generated, to check they never leak into errors. */
  readonly generated: Buffer[] = [];
  /** The `KeyId` each Decrypt named (undefined: none), and each DescribeKey's. */
  readonly decryptKeyIds: (string | undefined)[] = [];
  readonly describes: string[] = [];
  /** A misbehaving KMS: answers Decrypt with this KeyId. */
  answerAs: string | undefined;

  /** The key a KeyId names: a key ARN or alias ARN (of its owner's account), an alias, or a bare key id of ours. */
  resolve(keyId: unknown): string | undefined {
    if (typeof keyId !== 'string') return undefined;
    const m = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(.+)$/.exec(keyId);
    if (m !== null && m[1] !== REGION) return undefined;
    const bare = m === null ? keyId : m[3]!;
    const id = bare.startsWith('key/') ? bare.slice(4) : (this.aliases.get(bare) ?? bare);
    if (!OWNER.has(id)) return undefined;
    // Only an ARN names another account's key; aliases and bare ids are this account's.
    return (m === null ? ACCOUNT : m[2]) === OWNER.get(id) ? id : undefined;
  }

  /** Independent SigV4 verification of an incoming request. */
  verify(req: SeenRequest): Reply | undefined {
    const auth = String(req.headers.authorization ?? '');
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
    const fail = (type: string): Reply => ({ status: 400, body: { __type: type, message: 'The request signature we calculated does not match the signature you provided.' } });
    if (m === null) return fail('IncompleteSignatureException');
    const [, akid, day, region, service, signed, signature] = m as unknown as string[];
    if (akid !== CREDS.accessKeyId) return { status: 400, body: { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' } };
    const date = String(req.headers['x-amz-date'] ?? '');
    if (region !== REGION || service !== 'kms' || !date.startsWith(day!)) return fail('InvalidSignatureException');
    const names = signed!.split(';');
    for (const must of ['content-type', 'host', 'x-amz-date', 'x-amz-target', 'x-amz-security-token']) if (!names.includes(must)) return fail('InvalidSignatureException');
    if (req.headers['x-amz-security-token'] !== CREDS.sessionToken) return { status: 400, body: { __type: 'UnrecognizedClientException', message: 'invalid token' } };
    const [path, query = ''] = req.url.split('?');
    const canonical = [
      req.method,
      path,
      query,
      names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/ +/g, ' ')}\n`).join(''),
      signed,
      createHash('sha256').update(req.body).digest('hex'),
    ].join('\n');
    const sts = ['AWS4-HMAC-SHA256', date, `${day}/${region}/${service}/aws4_request`, createHash('sha256').update(canonical).digest('hex')].join('\n');
    let k: Buffer = createHmac('sha256', `AWS4${CREDS.secretAccessKey}`).update(day!).digest();
    for (const part of [region!, service!, 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
    const expected = createHmac('sha256', k).update(sts).digest();
    return timingSafeEqual(expected, Buffer.from(signature!, 'hex')) ? undefined : fail('InvalidSignatureException');
  }

  seal(id: string, plaintext: Uint8Array, ctx: Record<string, string>): string {
    const idb = Buffer.from(id);
    return Buffer.concat([Buffer.of(1, idb.length), idb, this.ring.seal(id, plaintext, `${id}|${sortedJson(ctx)}`)]).toString('base64');
  }

  handle = (req: SeenRequest): Reply => {
    const bad = this.verify(req);
    if (bad !== undefined) return bad;
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.1') return { status: 400, body: { __type: 'SerializationException' } };
    const body = JSON.parse(req.body) as Record<string, any>;
    const target = String(req.headers['x-amz-target']);
    const err = (type: string, status = 400): Reply => ({ status, body: { __type: `com.amazonaws.kms#${type}`, message: `${type} for this request` } });
    if (target === 'TrentService.Decrypt') {
      this.decryptKeyIds.push(body.KeyId);
      const blob = Buffer.from(String(body.CiphertextBlob), 'base64');
      if (blob[0] !== 1) return err('InvalidCiphertextException');
      const id = blob.subarray(2, 2 + (blob[1] as number)).toString();
      if (!OWNER.has(id)) return err('InvalidCiphertextException');
      if (body.KeyId !== undefined && this.resolve(body.KeyId) !== id) return err('IncorrectKeyException');
      if (this.disabled.has(id)) return err('DisabledException');
      const pt = this.ring.open(id, blob.subarray(2 + (blob[1] as number)), `${id}|${sortedJson(body.EncryptionContext)}`);
      if (pt === undefined) return err('InvalidCiphertextException');
      return { status: 200, body: { KeyId: this.answerAs ?? arn(id), Plaintext: pt.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
    }
    if (target === 'TrentService.DescribeKey') this.describes.push(String(body.KeyId));
    const id = this.resolve(body.KeyId);
    if (id === undefined) return err('NotFoundException');
    if (target === 'TrentService.DescribeKey') {
      return { status: 200, body: { KeyMetadata: { AWSAccountId: OWNER.get(id), KeyId: id, Arn: arn(id), KeyState: this.disabled.has(id) ? 'Disabled' : 'Enabled' } } };
    }
    if (this.disabled.has(id)) return err('DisabledException');
    if (target === 'TrentService.GenerateDataKey') {
      if (body.KeySpec !== 'AES_256') return err('ValidationException');
      const pt = randomBytes(32);
      this.generated.push(pt);
      return { status: 200, body: { KeyId: arn(id), Plaintext: pt.toString('base64'), CiphertextBlob: this.seal(id, pt, body.EncryptionContext) } };
    }
    if (target === 'TrentService.Encrypt') {
      const pt = Buffer.from(String(body.Plaintext), 'base64');
      return { status: 200, body: { KeyId: arn(id), CiphertextBlob: this.seal(id, pt, body.EncryptionContext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' } };
    }
    return err('UnknownOperationException');
  };
}

const fake = new FakeAws();
const server = new FakeKms(fake.handle, (f) => {
  if (f === 'throttle') return { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
  if (f === 'server-error') return { status: 500, body: { __type: 'KMSInternalException', message: 'internal' } };
  if (f === 'disabled') return { status: 400, body: { __type: 'DisabledException', message: 'disabled' } };
  // A denial that (badly) echoes secrets: the client must redact them.
  return { status: 400, body: { __type: 'com.amazonaws.kms#AccessDeniedException', message: `User is not authorized (token ${CREDS.sessionToken}, key ${CREDS.secretAccessKey}, blob ${randomBytes(32).toString('base64')})` } };
});
const errors: unknown[] = [];
const collect = async (p: Promise<unknown>): Promise<unknown> => {
  const e = await caught(p);
  errors.push(e);
  return e;
};

beforeAll(async () => void (await server.start()));
afterAll(async () => {
  await server.close();
});

function client(extra: Partial<AwsKmsOptions> = {}) {
  const rec = recordingSleep();
  const c = awsKms({ region: REGION, credentials: CREDS, endpoint: server.url, allowInsecureHttp: true, sleep: rec.sleep, retries: 3, ...extra });
  return { c, delays: rec.delays };
}
const text = new TextEncoder().encode('kms-wrapped hello');

describe('AWS KMS client against a local KMS', () => {
  it('envelope round trip; the stanza records the key ARN and the alias requested', async () => {
    const key = kms({ client: client().c, keyId: 'alias/app' });
    const ct = await encrypt(text, { recipients: [key], context: { bucket: 'b1' } });
    const r = inspect(ct).recipients[0]!;
    expect(r).toMatchObject({ type: 'kms-aws', keyId: arn(K1), params: { requested: 'alias/app' } });
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    // A reader configured with the alias, the bare key id (both resolved by DescribeKey), or the
    // ARN recognises the stanza.
    for (const keyId of ['alias/app', K1, arn(K1)]) expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId })] })).toEqual(text);
    // Another key ARN, or a key ARN of another region: not mine (null), no request made.
    const n = server.requests;
    for (const other of [kms({ client: client().c, keyId: arn(K2) }), kms({ client: client({ region: 'eu-west-1' }).c, keyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${K1}` })]) {
      const none = await expectCode(decrypt(ct, { keys: [other] }), 'ERR_NO_KEY');
      expect(none.errors).toHaveLength(0);
    }
    expect(server.requests).toBe(n);
  });

  it('credentials from a function, and the webcrypto backend', async () => {
    const key = kms({ client: client({ credentials: async () => CREDS, backend: 'webcrypto' }).c, keyId: arn(K2) });
    const ct = await encrypt(text, { recipients: [key], backend: 'webcrypto' });
    expect(inspect(ct).recipients[0]!.params).toEqual({});
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
  });

  it('multi-recipient with aesKey: GenerateDataKey first, Encrypt for a later KMS recipient', async () => {
    const aes = aesKey({ id: 'backup', key: pseudoRandom(32, 3) });
    const before = server.seen.length;
    const ct = await encrypt(text, { recipients: [kms({ client: client().c, keyId: K1 }), aes, kms({ client: client().c, keyId: K2 })] });
    expect(server.seen.slice(before).map((r) => r.headers['x-amz-target'])).toEqual(['TrentService.GenerateDataKey', 'TrentService.Encrypt']);
    expect(await decrypt(ct, { keys: [aes] })).toEqual(text);
    expect(await decrypt(ct, { keys: [kms({ client: client().c, keyId: K2 })] })).toEqual(text);
    const ct2 = await encrypt(text, { recipients: [aes, kms({ client: client().c, keyId: K1 })] });
    expect(await decrypt(ct2, { keys: [kms({ client: client().c, keyId: K1 })] })).toEqual(text);
  });

  it('wrong context: KMS refuses (InvalidCiphertextException) → ERR_NO_KEY listing ERR_KMS_DENIED', async () => {
    const key = kms({ client: client().c, keyId: K1 });
    const ct = await encrypt(text, { recipients: [key], context: { tenant: 'aaaa' } });
    const at = Buffer.from(ct).indexOf('aaaa');
    const edited = ct.slice();
    edited[at] = 'b'.charCodeAt(0);
    const err = (await collect(decrypt(edited, { keys: [key] }))) as EnsealError;
    expect(err.code).toBe('ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_KMS_DENIED');
    expect((err.errors[0] as Error).message).toMatch(/InvalidCiphertextException/);
  });

  it('throttling then success: retried with growing backoff', async () => {
    const { c, delays } = client();
    server.faults.push('throttle', 'throttle');
    const n = server.requests;
    const ct = await encrypt(text, { recipients: [kms({ client: c, keyId: K1 })] });
    expect(server.requests - n).toBe(3);
    expect(delays).toHaveLength(2);
    expect(delays.every((d) => d >= 0 && d <= 200)).toBe(true);
    expect(await decrypt(ct, { keys: [kms({ client: c, keyId: K1 })] })).toEqual(text);
  });

  it('persistent 5xx: ERR_KMS_UNAVAILABLE after the bounded retries', async () => {
    const { c, delays } = client({ retries: 2 });
    server.always = 'server-error';
    const n = server.requests;
    try {
      const err = (await collect(encrypt(text, { recipients: [kms({ client: c, keyId: K1 })] }))) as EnsealError;
      expect(err.code).toBe('ERR_KMS_UNAVAILABLE');
      expect(err.message).toMatch(/3 attempt\(s\).*KMSInternalException \(HTTP 500\)/);
    } finally {
      server.always = undefined;
    }
    expect(server.requests - n).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('a hung response times out fast: ERR_KMS_UNAVAILABLE', async () => {
    const { c } = client({ timeoutMs: 150, retries: 1 });
    server.faults.push('hang', 'hang');
    const t0 = Date.now();
    const err = (await collect(encrypt(text, { recipients: [kms({ client: c, keyId: K1 })] }))) as EnsealError;
    expect(err.code).toBe('ERR_KMS_UNAVAILABLE');
    expect(err.message).toMatch(/2 attempt\(s\) \(timed out after 150 ms\)/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('the overall deadline stops retries', async () => {
    let t = 0;
    const { c } = client({ retries: 10, deadlineMs: 1000, backoffBaseMs: 400, random: () => 0.99, now: () => t, sleep: async (ms) => void (t += ms) });
    server.always = 'throttle';
    const n = server.requests;
    try {
      const err = await expectCode(c.encrypt(K1, new Uint8Array(32), {}), 'ERR_KMS_UNAVAILABLE');
      expect(err.message).toMatch(/deadline reached/);
    } finally {
      server.always = undefined;
    }
    expect(server.requests - n).toBeLessThan(4);
  });

  it('a denial is ERR_KMS_DENIED at once (no retry), and echoed secrets are redacted', async () => {
    const { c, delays } = client();
    server.faults.push('deny');
    const n = server.requests;
    const err = (await collect(c.generateDataKey(K1, {}))) as EnsealError;
    expect(err.code).toBe('ERR_KMS_DENIED');
    expect(err.message).toMatch(/AccessDeniedException \(HTTP 400\)/);
    expect(err.message).toContain('[redacted]');
    expect(server.requests - n).toBe(1);
    expect(delays).toHaveLength(0);
  });

  it('a disabled key is ERR_KMS_DISABLED (encrypt and decrypt)', async () => {
    const key = kms({ client: client().c, keyId: K2 });
    const ct = await encrypt(text, { recipients: [key] });
    fake.disabled.add(K2);
    try {
      const e1 = (await collect(encrypt(text, { recipients: [key] }))) as EnsealError;
      expect(e1.code).toBe('ERR_KMS_DISABLED');
      const e2 = (await collect(decrypt(ct, { keys: [key] }))) as EnsealError;
      expect(e2.code).toBe('ERR_NO_KEY');
      expect((e2.errors[0] as EnsealError).code).toBe('ERR_KMS_DISABLED');
    } finally {
      fake.disabled.delete(K2);
    }
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
  });

  it('unknown key: ERR_KMS_NOT_FOUND (key id escaped); bad signature, unknown access key: ERR_KMS_DENIED', async () => {
    const e1 = (await collect(client().c.encrypt('alias/missing\u001b[1A', new Uint8Array(32), {}))) as EnsealError;
    expect([e1.code, e1.message]).toEqual(['ERR_KMS_NOT_FOUND', expect.stringMatching(/^AWS KMS Encrypt \(key "alias\/missing\\x1b\[1A"\): NotFoundException \(HTTP 400\)/)]);
    const wrongSecret = awsKms({ region: REGION, credentials: { ...CREDS, secretAccessKey: 'another/secret/value/0123456789abcdefghij' }, endpoint: server.url, allowInsecureHttp: true });
    const e2 = (await collect(wrongSecret.encrypt(K1, new Uint8Array(32), {}))) as EnsealError;
    expect([e2.code, e2.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/InvalidSignatureException/)]);
    const wrongId = awsKms({ region: REGION, credentials: { ...CREDS, accessKeyId: 'AKIAUNKNOWN000000000' }, endpoint: server.url, allowInsecureHttp: true });
    const e3 = (await collect(wrongId.encrypt(K1, new Uint8Array(32), {}))) as EnsealError;
    expect([e3.code, e3.message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/UnrecognizedClientException/)]);
  });

  it('KMS down (connection refused): ERR_KMS_UNAVAILABLE, inside ERR_NO_KEY on decrypt', async () => {
    const key = kms({ client: client().c, keyId: K1 });
    const ct = await encrypt(text, { recipients: [key] });
    const port = await refusedPort();
    const down = kms({ client: client({ endpoint: `http://127.0.0.1:${port}`, retries: 1 }).c, keyId: K1 });
    const e1 = (await collect(encrypt(text, { recipients: [down] }))) as EnsealError;
    expect([e1.code, e1.message]).toEqual(['ERR_KMS_UNAVAILABLE', expect.stringMatching(/2 attempt\(s\) \(network error ECONNREFUSED\)/)]);
    const e2 = (await collect(decrypt(ct, { keys: [down] }))) as EnsealError;
    expect(e2.code).toBe('ERR_NO_KEY');
    expect((e2.errors[0] as EnsealError).code).toBe('ERR_KMS_UNAVAILABLE');
  });

  it('endpoints: https only; http only on loopback with allowInsecureHttp', () => {
    const base = { region: REGION, credentials: CREDS };
    expect(() => awsKms({ ...base, endpoint: server.url })).toThrow(TypeError);
    expect(() => awsKms({ ...base, endpoint: 'http://kms.example.com', allowInsecureHttp: true })).toThrow(TypeError);
    expect(() => awsKms({ ...base, endpoint: 'ftp://127.0.0.1' , allowInsecureHttp: true })).toThrow(TypeError);
    expect(() => awsKms({ ...base, endpoint: 'https://user:pw@kms.example.com' })).toThrow(TypeError);
    expect(() => awsKms({ ...base, region: 'Not A Region' })).toThrow(TypeError);
    expect(() => awsKms({ ...base, retries: -1 })).toThrow(RangeError);
    expect(() => awsKms({ region: REGION, credentials: {} as never })).toThrow(TypeError);
    expect(awsKms(base).type).toBe('aws');
  });

  it('strict: a reader for key A refuses objects of key B (same account or another), whatever the stanza says; KMS is never asked for B', async () => {
    const readerA = kms({ client: client().c, keyId: 'alias/app' });
    const made = [await encrypt(text, { recipients: [kms({ client: client().c, keyId: 'alias/b' })], context: { c: '1' } }), await encrypt(text, { recipients: [kms({ client: client().c, keyId: arn(K3) })], context: { c: '1' } })];
    const decrypts = fake.decryptKeyIds.length;
    const describes = fake.describes.length;
    for (const ct of made) expect((await expectCode(decrypt(ct, { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    // Forged stanzas: the stanza (and its params) is unauthenticated until the header MAC.
    for (const ct of made) {
      const stanza = decodeHeader(ct).recipients[0]!;
      for (const forged of [{ ...stanza, params: { requested: 'alias/app' } }, { ...stanza, keyId: 'alias/app' }, { ...stanza, keyId: K1, params: { requested: 'alias/app' } }]) {
        expect((await expectCode(decrypt(await forgedObject(text, forged, { c: '1' }), { keys: [readerA] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
      }
      // Claiming A's ARN with B's blob: KMS is asked to decrypt under A, and refuses.
      const claim = (await collect(decrypt(await forgedObject(text, { ...stanza, keyId: arn(K1) }, { c: '1' }), { keys: [readerA] }))) as EnsealError;
      expect([claim.code, (claim.errors[0] as EnsealError).code, (claim.errors[0] as Error).message]).toEqual(['ERR_NO_KEY', 'ERR_KMS_DENIED', expect.stringMatching(/IncorrectKeyException/)]);
    }
    expect(fake.decryptKeyIds.slice(decrypts)).toEqual([arn(K1), arn(K1)]);
    expect(fake.describes.slice(describes)).toEqual(['alias/app']); // one lookup for the provider
  });

  it('strict: a reader configured with an alias decrypts with exactly one DescribeKey, cached', async () => {
    const writer = kms({ client: client().c, keyId: K1 });
    const cts = await Promise.all([1, 2, 3].map((i) => encrypt(pseudoRandom(100, i), { recipients: [writer] })));
    const reader = kms({ client: client().c, keyId: 'alias/app' });
    const describes = fake.describes.length;
    const decrypts = fake.decryptKeyIds.length;
    for (const [i, ct] of cts.entries()) expect(await decrypt(ct, { keys: [reader] })).toEqual(pseudoRandom(100, i + 1));
    expect(fake.describes.slice(describes)).toEqual(['alias/app']);
    expect(fake.decryptKeyIds.slice(decrypts)).toEqual([arn(K1), arn(K1), arn(K1)]);
    // A key ARN is canonical: no lookup at all.
    expect(await decrypt(cts[0]!, { keys: [kms({ client: client().c, keyId: arn(K1) })] })).toEqual(pseudoRandom(100, 1));
    expect(fake.describes.slice(describes)).toEqual(['alias/app']);
  });

  it('strict: a Decrypt answered for another key is wiped and refused', async () => {
    const key = kms({ client: client().c, keyId: arn(K1) });
    const ct = await encrypt(text, { recipients: [key] });
    fake.answerAs = arn(K2);
    try {
      const e = (await collect(decrypt(ct, { keys: [key] }))) as EnsealError;
      expect([(e.errors[0] as EnsealError).code, (e.errors[0] as Error).message]).toEqual(['ERR_KMS_DENIED', expect.stringMatching(/decrypted under another key/)]);
    } finally {
      fake.answerAs = undefined;
    }
  });

  it('discovery: opt-in decrypts any key; restricted to other accounts or regions it refuses', async () => {
    const ofB = await encrypt(text, { recipients: [kms({ client: client().c, keyId: 'alias/b' })] });
    const ofOther = await encrypt(text, { recipients: [kms({ client: client().c, keyId: arn(K3) })] });
    const decrypts = fake.decryptKeyIds.length;
    const describes = fake.describes.length;
    const any = kms({ client: client().c, discovery: true });
    expect(await decrypt(ofB, { keys: [any] })).toEqual(text);
    expect(await decrypt(ofOther, { keys: [any] })).toEqual(text);
    expect(fake.decryptKeyIds.slice(decrypts)).toEqual([arn(K2), arn(K3)]); // the stanza's key, by ARN
    const mine = kms({ client: client().c, discovery: { accounts: [ACCOUNT] } });
    expect(await decrypt(ofB, { keys: [mine] })).toEqual(text);
    expect((await expectCode(decrypt(ofOther, { keys: [mine] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    expect(await decrypt(ofOther, { keys: [kms({ client: client().c, discovery: { accounts: [OTHER_ACCOUNT], regions: [REGION] } })] })).toEqual(text);
    for (const refused of [{ regions: ['eu-west-1'] }, { accounts: ['999999999999'] }, { accounts: [ACCOUNT], regions: ['eu-west-1'] }]) {
      expect((await expectCode(decrypt(ofB, { keys: [kms({ client: client().c, discovery: refused })] }), 'ERR_NO_KEY')).errors, JSON.stringify(refused)).toHaveLength(0);
    }
    // A client of another region does not claim these ARNs at all.
    expect((await expectCode(decrypt(ofB, { keys: [kms({ client: client({ region: 'eu-west-1' }).c, discovery: true })] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
    expect(fake.decryptKeyIds.slice(decrypts)).toHaveLength(4);
    expect(fake.describes.slice(describes)).toEqual([]);
    await expect(encrypt(text, { recipients: [any] })).rejects.toThrow(TypeError);
  });

  it('missing key: a reader configured with an unknown alias gets ERR_KMS_NOT_FOUND from DescribeKey', async () => {
    const ct = await encrypt(text, { recipients: [kms({ client: client().c, keyId: K1 })] });
    const e = (await collect(decrypt(ct, { keys: [kms({ client: client().c, keyId: 'alias/gone' })] }))) as EnsealError;
    expect([e.code, (e.errors[0] as EnsealError).code, (e.errors[0] as Error).message]).toEqual(['ERR_NO_KEY', 'ERR_KMS_NOT_FOUND', expect.stringMatching(/^AWS KMS DescribeKey \(key "alias\/gone"\): NotFoundException/)]);
  });

  it('no error message contains a credential, a token or a data key', () => {
    const secrets = [CREDS.secretAccessKey, CREDS.sessionToken, ...fake.generated.flatMap(forms)];
    expectNoSecrets(errors, secrets);
    expect(errors.length).toBeGreaterThanOrEqual(8);
  });
});
