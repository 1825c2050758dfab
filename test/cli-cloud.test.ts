/**
 * `--kms aws:…`, `--kms alibaba:…` and `--kms vault:…` end to end against local fake KMSs
 * (`FakeKms` and `Keyring` from kms-helpers.ts), configured only through the documented
 * environment variables, with `ENSEAL_KMS_ALLOW_INSECURE_HTTP=1` for their loopback http:
 * endpoints. Each fake authenticates requests with the credentials the test put in the
 * environment (AWS: a full SigV4 check; Alibaba: the RPC HMAC-SHA1 signature; Vault: the
 * token), so a variable mapped to the wrong field fails. No credential may ever be printed.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pseudoRandom } from './helpers.js';
import { FakeKms, Keyring, sortedJson, type Reply, type SeenRequest } from './kms-helpers.js';
import { Sandbox, expectFailure, expectSuccess, recipientIds, requireBuild } from './cli-harness.js';

const VAULT_TOKEN = 'hvs.CLIfakeVAULTtoken0123456789abcdefgh';
const AWS = { region: 'eu-west-1', akid: 'AKIACLIFAKE000000001', secret: 'cli/Fake+Secret0123456789abcdefghijKLMNOP', token: 'FwoGZXIvYXdzCLI-fake-session-token-0123' };
const ALI = { region: 'cn-hangzhou', akid: 'LTAI5tCLIFAKEKEYID', secret: 'CliFakeAlibabaSecret0123456789ab', token: 'CAIS-cli-fake-sts-token-0123456789' };
const SECRETS = [VAULT_TOKEN, AWS.secret, AWS.token, ALI.secret, ALI.token];

/**
 * Vault Transit: token check, a namespace log, mount/name keys, `vault:v1:` ciphertexts. Like
 * Vault, it authenticates `associated_data` (AEAD keys) and derives per-`context` keys (derived
 * keys): both are part of the AAD here, so a wrong context fails to decrypt.
 */
class FakeVault {
  readonly ring = new Keyring();
  readonly seen: string[] = [];
  /** The binding fields of every request, in order. */
  readonly bindings: { op: string; associatedData: string | undefined; context: string | undefined }[] = [];
  handle = (req: SeenRequest): Reply => {
    const err = (status: number, message: string): Reply => ({ status, body: { errors: [message] } });
    if (req.headers['x-vault-token'] !== VAULT_TOKEN) return err(403, 'permission denied');
    const m = /^\/v1\/(.+)\/(datakey\/plaintext|encrypt|decrypt)\/([\w.-]+)$/.exec(req.url);
    if (m === null) return err(404, 'unsupported path');
    const [, mount, op, name] = m as unknown as [string, string, string, string];
    this.seen.push(`${String(req.headers['x-vault-namespace'] ?? '-')} ${mount}/${op}/${name}`);
    if (name === 'off') return err(400, 'key is disabled');
    const id = `${mount}/${name}`;
    const body = JSON.parse(req.body) as Record<string, string>;
    this.bindings.push({ op, associatedData: body.associated_data, context: body.context });
    const aad = `${body.associated_data ?? ''}|${body.context ?? ''}`;
    if (op === 'decrypt') {
      const pt = this.ring.open(id, Buffer.from(body.ciphertext!.replace(/^vault:v1:/, ''), 'base64'), aad);
      return pt === undefined ? err(400, 'cipher: message authentication failed') : { status: 200, body: { data: { plaintext: pt.toString('base64') } } };
    }
    const pt = op === 'encrypt' ? Buffer.from(body.plaintext!, 'base64') : randomBytes(32);
    const ciphertext = `vault:v1:${this.ring.seal(id, pt, aad).toString('base64')}`;
    return { status: 200, body: { data: op === 'encrypt' ? { ciphertext } : { ciphertext, plaintext: pt.toString('base64') } } };
  };
}

/** AWS KMS JSON protocol with an independent SigV4 verification. */
class FakeAws {
  readonly ring = new Keyring();
  verify(req: SeenRequest): boolean {
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/kms\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(String(req.headers.authorization));
    if (m === null || m[1] !== AWS.akid || m[3] !== AWS.region || req.headers['x-amz-security-token'] !== AWS.token) return false;
    const [, , day, region, signed, signature] = m as unknown as string[];
    const names = signed!.split(';');
    const canonical = [req.method, req.url, '', names.map((n) => `${n}:${String(req.headers[n]).trim()}\n`).join(''), signed, createHash('sha256').update(req.body).digest('hex')].join('\n');
    const sts = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date']), `${day}/${region}/kms/aws4_request`, createHash('sha256').update(canonical).digest('hex')].join('\n');
    let k: Buffer = createHmac('sha256', `AWS4${AWS.secret}`).update(day!).digest();
    for (const part of [region!, 'kms', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
    return timingSafeEqual(createHmac('sha256', k).update(sts).digest(), Buffer.from(signature!, 'hex'));
  }
  handle = (req: SeenRequest): Reply => {
    const err = (type: string): Reply => ({ status: 400, body: { __type: `com.amazonaws.kms#${type}`, message: type } });
    if (!this.verify(req)) return err('InvalidSignatureException');
    const body = JSON.parse(req.body) as Record<string, any>;
    const arn = (id: string): string => `arn:aws:kms:${AWS.region}:111122223333:key/${id}`;
    const aad = (id: string): string => `${id}|${sortedJson(body.EncryptionContext)}`;
    const target = String(req.headers['x-amz-target']);
    if (target === 'TrentService.DescribeKey') {
      // A strict reader configured with an alias or bare id resolves it to the key ARN first.
      const id = String(body.KeyId).replace(/^alias\//, 'alias-');
      return { status: 200, body: { KeyMetadata: { KeyId: id, Arn: arn(id) } } };
    }
    if (target === 'TrentService.Decrypt') {
      const blob = Buffer.from(String(body.CiphertextBlob), 'base64');
      const id = blob.subarray(1, 1 + blob[0]!).toString();
      const pt = this.ring.open(id, blob.subarray(1 + blob[0]!), aad(id));
      return pt === undefined ? err('InvalidCiphertextException') : { status: 200, body: { KeyId: arn(id), Plaintext: pt.toString('base64') } };
    }
    const id = String(body.KeyId).replace(/^alias\//, 'alias-');
    const pt = target === 'TrentService.Encrypt' ? Buffer.from(String(body.Plaintext), 'base64') : randomBytes(32);
    const idb = Buffer.from(id);
    const blob = Buffer.concat([Buffer.of(idb.length), idb, this.ring.seal(id, pt, aad(id))]).toString('base64');
    return { status: 200, body: { KeyId: arn(id), CiphertextBlob: blob, ...(target === 'TrentService.Encrypt' ? {} : { Plaintext: pt.toString('base64') }) } };
  };
}

/** Alibaba Cloud KMS RPC API with an independent signature check. */
class FakeAlibaba {
  readonly ring = new Keyring();
  handle = (req: SeenRequest): Reply => {
    const p = new URLSearchParams(req.body);
    const err = (code: string): Reply => ({ status: 400, body: { Code: code, Message: code } });
    const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const canonical = [...p].filter(([k]) => k !== 'Signature').map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
    const signature = createHmac('sha1', `${ALI.secret}&`).update(`POST&%2F&${enc(canonical)}`).digest('base64');
    if (p.get('AccessKeyId') !== ALI.akid || p.get('SecurityToken') !== ALI.token || p.get('Signature') !== signature) return err('SignatureDoesNotMatch');
    const aad = (id: string): string => `${id}|${p.get('EncryptionContext') ?? ''}`;
    if (p.get('Action') === 'Decrypt') {
      const blob = Buffer.from(p.get('CiphertextBlob') ?? '', 'base64');
      const id = blob.subarray(1, 1 + blob[0]!).toString();
      const pt = this.ring.open(id, blob.subarray(1 + blob[0]!), aad(id));
      return pt === undefined ? err('InvalidCiphertext') : { status: 200, body: { KeyId: id, Plaintext: pt.toString('base64') } };
    }
    const id = p.get('KeyId') ?? '';
    const pt = p.get('Action') === 'Encrypt' ? Buffer.from(p.get('Plaintext') ?? '', 'base64') : randomBytes(32);
    const idb = Buffer.from(id);
    const blob = Buffer.concat([Buffer.of(idb.length), idb, this.ring.seal(id, pt, aad(id))]).toString('base64');
    return { status: 200, body: { KeyId: id, CiphertextBlob: blob, Plaintext: pt.toString('base64') } };
  };
}

const vault = new FakeVault();
const aws = new FakeAws();
const alibaba = new FakeAlibaba();
const servers = [new FakeKms(vault.handle, () => ({ status: 500, body: {} })), new FakeKms(aws.handle, () => ({ status: 500, body: {} })), new FakeKms(alibaba.handle, () => ({ status: 500, body: {} }))];
const [vaultServer, awsServer, alibabaServer] = servers as [FakeKms, FakeKms, FakeKms];

/** The documented variables, pointing at the fakes. */
function cloudEnv(): Record<string, string> {
  return {
    ENSEAL_KMS_ALLOW_INSECURE_HTTP: '1',
    VAULT_ADDR: vaultServer.url,
    VAULT_TOKEN,
    VAULT_NAMESPACE: 'team-a',
    AWS_REGION: AWS.region,
    AWS_ACCESS_KEY_ID: AWS.akid,
    AWS_SECRET_ACCESS_KEY: AWS.secret,
    AWS_SESSION_TOKEN: AWS.token,
    ENSEAL_AWS_KMS_ENDPOINT: awsServer.url,
    ALIBABA_CLOUD_REGION_ID: ALI.region,
    ALIBABA_CLOUD_ACCESS_KEY_ID: ALI.akid,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: ALI.secret,
    ALIBABA_CLOUD_SECURITY_TOKEN: ALI.token,
    ENSEAL_ALIBABA_KMS_ENDPOINT: alibabaServer.url,
  };
}

let sb: Sandbox;
beforeAll(async () => {
  requireBuild();
  for (const s of servers) await s.start();
});
afterAll(async () => {
  for (const s of servers) await s.close();
});
beforeEach(() => {
  sb = new Sandbox();
  for (const s of SECRETS) sb.secret(s);
});
afterEach(() => sb.cleanup());

function plainFile(n: number): Buffer {
  const plain = Buffer.from(pseudoRandom(n, n + 11));
  writeFileSync(sb.at('plain'), plain);
  return plain;
}

describe('cloud KMS recipients configured from the environment', () => {
  it.each([
    ['vault', 'vault:app', 'transit/app'],
    ['aws', 'aws:alias/backups', 'arn:aws:kms:eu-west-1:111122223333:key/alias-backups'],
    ['alibaba', 'alibaba:key-1234', 'key-1234'],
  ])('%s: round trip through files', async (_name, spec, keyId) => {
    const plain = plainFile(30_000);
    const env = cloudEnv();
    expectSuccess(await sb.run(['encrypt', '--kms', spec, '--context', 'tenant=t1', 'plain', 'sealed'], { env }));
    expect(await recipientIds(sb, 'sealed')).toEqual([keyId]);
    const r = await sb.run(['decrypt', '--kms', spec, 'sealed', '-'], { env });
    expectSuccess(r);
    expect(r.stdout.equals(plain)).toBe(true);
  });

  it('vault: VAULT_NAMESPACE and ENSEAL_VAULT_TRANSIT_MOUNT are used; a cloud KMS mixes with a local key file', async () => {
    const plain = plainFile(5000);
    const key = await sb.run(['keygen', 'aes', '--out', 'k.json']);
    expectSuccess(key);
    const env = { ...cloudEnv(), ENSEAL_VAULT_TRANSIT_MOUNT: 'secret/transit2' };
    const n = vault.seen.length;
    expectSuccess(await sb.run(['encrypt', '--kms', 'vault:app', '--key', 'k.json', 'plain', 'sealed'], { env }));
    expect(vault.seen.slice(n)).toEqual(['team-a secret/transit2/encrypt/app']); // associated data: the data key is made locally
    const r = await sb.run(['decrypt', '--kms', 'vault:app', 'sealed', '-'], { env });
    expectSuccess(r);
    expect(r.stdout.equals(plain)).toBe(true);
    expect(vault.seen.slice(n + 1)).toEqual(['team-a secret/transit2/decrypt/app']);
  });

  it('vault: the object\'s encryption context is bound to every call (associated data, or derived keys with ENSEAL_VAULT_DERIVED=1)', async () => {
    const plain = plainFile(3000);
    for (const [derived, firstOp, field] of [['0', 'encrypt', 'associatedData'], ['1', 'datakey/plaintext', 'context']] as const) {
      const env = { ...cloudEnv(), ENSEAL_VAULT_DERIVED: derived };
      const n = vault.bindings.length;
      expectSuccess(await sb.run(['encrypt', '--kms', 'vault:app', '--context', 'tenant=t-42', 'plain', 'sealed'], { env }));
      const r = await sb.run(['decrypt', '--kms', 'vault:app', 'sealed', '-'], { env });
      expectSuccess(r);
      expect(r.stdout.equals(plain)).toBe(true);
      const [wrap, unwrap] = vault.bindings.slice(n);
      expect([wrap?.op, unwrap?.op]).toEqual([firstOp, 'decrypt']);
      const sent = Buffer.from(String(wrap?.[field]), 'base64');
      expect(sent.includes(Buffer.from('tenant'))).toBe(true);
      expect(sent.includes(Buffer.from('t-42'))).toBe(true);
      expect(sent.includes(Buffer.from('enseal:bound'))).toBe(true);
      expect(unwrap?.[field]).toBe(wrap?.[field]); // the same context on decrypt
    }
    const bad = await sb.run(['encrypt', '--kms', 'vault:app', 'plain', 'other'], { env: { ...cloudEnv(), ENSEAL_VAULT_DERIVED: 'yes' } });
    expectFailure(bad, 'ERR_USAGE', 2);
    expect(bad.stderr).toContain('ENSEAL_VAULT_DERIVED');
  });

  it('cloud keys are strict: another key of the same KMS does not unwrap; --kms-discovery lets it', async () => {
    const plain = plainFile(4000);
    const env = cloudEnv();
    expectSuccess(await sb.run(['encrypt', '--kms', 'vault:app', 'plain', 'sealed'], { env }));
    const strict = await sb.run(['decrypt', '--kms', 'vault:other', 'sealed', 'out'], { env });
    expectFailure(strict, 'ERR_NO_KEY', 1);
    expect(existsSync(sb.at('out'))).toBe(false);
    const n = vault.seen.length;
    const discovery = await sb.run(['decrypt', '--kms', 'vault:other', '--kms-discovery', 'sealed', '-'], { env });
    expectSuccess(discovery);
    expect(discovery.stdout.equals(plain)).toBe(true);
    expect(vault.seen.slice(n)).toEqual(['team-a transit/decrypt/app']); // the stanza's own key
  });

  it('a KMS refusal is reported with its code (encrypt) and as the cause (decrypt)', async () => {
    plainFile(100);
    const env = cloudEnv();
    expectFailure(await sb.run(['encrypt', '--kms', 'vault:off', 'plain', 'sealed'], { env }), 'ERR_KMS_DISABLED', 1);
    expectSuccess(await sb.run(['encrypt', '--kms', 'vault:app', 'plain', 'sealed'], { env }));
    const denied = await sb.run(['decrypt', '--kms', 'vault:app', 'sealed', 'out'], { env: { ...env, VAULT_TOKEN: 'hvs.wrong-token-value' } });
    expectFailure(denied, 'ERR_KMS_DENIED', 1);
    expect(denied.stderr).not.toContain('hvs.wrong-token-value');
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it.each([
    ['vault', 'VAULT_ADDR'],
    ['vault', 'VAULT_TOKEN'],
    ['aws', 'AWS_ACCESS_KEY_ID'],
    ['aws', 'AWS_SECRET_ACCESS_KEY'],
    ['alibaba', 'ALIBABA_CLOUD_REGION_ID'],
    ['alibaba', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
  ])('%s without %s: ERR_USAGE naming the variable, never a value', async (kms, variable) => {
    plainFile(100);
    for (const value of [undefined, '']) {
      const r = await sb.run(['encrypt', '--kms', `${kms}:k`, 'plain', 'sealed'], { env: { ...cloudEnv(), [variable]: value } });
      expectFailure(r, 'ERR_USAGE', 2);
      expect(r.stderr).toContain(variable);
    }
    expect(existsSync(sb.at('sealed'))).toBe(false);
  });

  it('aws: AWS_DEFAULT_REGION stands in for AWS_REGION; neither is ERR_USAGE', async () => {
    const plain = plainFile(200);
    const env = { ...cloudEnv(), AWS_REGION: undefined, AWS_DEFAULT_REGION: AWS.region };
    expectSuccess(await sb.run(['encrypt', '--kms', 'aws:k1', 'plain', 'sealed'], { env }));
    const r = await sb.run(['decrypt', '--kms', 'aws:k1', 'sealed', '-'], { env });
    expectSuccess(r);
    expect(r.stdout.equals(plain)).toBe(true);
    const none = await sb.run(['encrypt', '--kms', 'aws:k1', 'plain', 'other'], { env: { ...env, AWS_DEFAULT_REGION: undefined } });
    expectFailure(none, 'ERR_USAGE', 2);
    expect(none.stderr).toContain('AWS_REGION');
  });

  it('plain http: is refused unless ENSEAL_KMS_ALLOW_INSECURE_HTTP=1, and then only for loopback', async () => {
    plainFile(100);
    const insecure = { ...cloudEnv(), ENSEAL_KMS_ALLOW_INSECURE_HTTP: undefined };
    for (const kms of ['vault:app', 'aws:k', 'alibaba:k']) {
      const r = await sb.run(['encrypt', '--kms', kms, 'plain', 'sealed'], { env: insecure });
      expectFailure(r, 'ERR_USAGE', 2);
      expect(r.stderr).toContain('https:');
    }
    const remote = await sb.run(['encrypt', '--kms', 'vault:app', 'plain', 'sealed'], { env: { ...cloudEnv(), VAULT_ADDR: 'http://vault.example.com:8200' } });
    expectFailure(remote, 'ERR_USAGE', 2);
    expect(existsSync(sb.at('sealed'))).toBe(false);
  });
});

describe('enseal migrate: foreign objects wrapped by a cloud KMS', () => {
  it('--oss-kms and --s3ec-kms read OSS and S3EC objects wrapped by Alibaba and AWS KMS, strict by key id', async () => {
    const { alibabaKms, awsKms } = await import('../src/kms.js');
    const { ossKmsKey, putOssObject, putS3ecObject, s3ecKmsKey } = await import('../src/interop.js');
    const { fsStore } = await import('../src/storage/fs.js');
    const { mkdirSync } = await import('node:fs');
    const ali = alibabaKms({ regionId: ALI.region, credentials: { accessKeyId: ALI.akid, accessKeySecret: ALI.secret, securityToken: ALI.token }, endpoint: alibabaServer.url, allowInsecureHttp: true });
    const awsClient = awsKms({ region: AWS.region, credentials: { accessKeyId: AWS.akid, secretAccessKey: AWS.secret, sessionToken: AWS.token }, endpoint: awsServer.url, allowInsecureHttp: true });
    mkdirSync(sb.at('store'));
    const store = fsStore(sb.at('store'));
    const ossPlain = Buffer.from(pseudoRandom(40_000, 71));
    const s3Plain = Buffer.from(pseudoRandom(20_000, 72));
    await putOssObject(store, 'oss.bin', ossPlain, { recipients: [ossKmsKey({ client: ali, keyId: 'key-oss' })] });
    await putS3ecObject(store, 's3.bin', s3Plain, { recipients: [s3ecKmsKey({ client: awsClient, keyId: 'alias/s3ec' })] });
    expectSuccess(await sb.run(['keygen', 'aes', '--out', 'k.json']));
    const env = cloudEnv();

    // Strict: a KMS key other than the one that wrapped the object does not read it, and nothing changes.
    const wrongOss = await sb.run(['migrate', '--oss-kms', 'key-other', '--allow-unauthenticated', '--key', 'k.json', './store/oss.bin'], { env });
    expect(wrongOss.code).toBe(1);
    expect(wrongOss.stderr).toMatch(/ERR_NO_KEY|ERR_KMS_DENIED/);
    const wrongS3 = await sb.run(['migrate', '--s3ec-kms', 'alias/other', '--key', 'k.json', './store/s3.bin'], { env });
    expect(wrongS3.code).toBe(1);
    expect(wrongS3.stderr).toMatch(/ERR_NO_KEY|ERR_KMS_DENIED/);
    for (const k of ['oss.bin', 's3.bin']) {
      const before = await sb.run(['get', '--key', 'k.json', `./store/${k}`, '-'], { env });
      expect(before.code).toBe(1); // still the foreign object: not readable as enseal with k.json
    }

    const headOss = await sb.run(['head', './store/oss.bin'], { env });
    expectSuccess(headOss);
    expect(JSON.parse(headOss.stdout.toString('utf8'))).toMatchObject({ format: 'oss', interop: { wrapAlgorithm: 'KMS/ALICLOUD' } });
    const oss = await sb.run(['migrate', '--oss-kms', 'key-oss', '--allow-unauthenticated', '--key', 'k.json', './store/oss.bin'], { env });
    expectSuccess(oss);
    expect(JSON.parse(oss.stdout.toString('utf8'))).toMatchObject({ from: 'oss' });
    const s3 = await sb.run(['migrate', '--s3ec-kms', 'alias/s3ec', '--key', 'k.json', './store/s3.bin'], { env });
    expectSuccess(s3);
    for (const [k, plain] of [['oss.bin', ossPlain], ['s3.bin', s3Plain]] as const) {
      const r = await sb.run(['get', '--key', 'k.json', `./store/${k}`, '-'], { env });
      expectSuccess(r);
      expect(r.stdout.equals(plain)).toBe(true);
      const head = await sb.run(['head', `./store/${k}`], { env });
      expectSuccess(head);
      const doc = JSON.parse(head.stdout.toString('utf8')) as { format: string; interop?: unknown };
      expect([doc.format, doc.interop]).toEqual(['enseal', undefined]);
    }

    const noEnv = await sb.run(['migrate', '--oss-kms', 'key-oss', '--key', 'k.json', './store/oss.bin'], { env: { ...env, ALIBABA_CLOUD_REGION_ID: undefined } });
    expectFailure(noEnv, 'ERR_USAGE', 2);
    expect(noEnv.stderr).toContain('--oss-kms needs the environment variable ALIBABA_CLOUD_REGION_ID');
    const help = await sb.run(['help', 'migrate']);
    expectSuccess(help);
    expect(help.stdout.toString('utf8')).toContain('--s3ec-kms KEYID');
  });
});
