/**
 * The CLI's key providers end to end (AES key files, LocalKms, RSA key pairs from
 * `keygen rsa`, passphrases from the environment, and all of them mixed), `keygen rsa`, and the
 * parsing of the key options. Every test runs in its own sandbox (HOME and ENSEAL_KMS_STORE in
 * a temporary directory) and every command's output is scanned for the secrets it handled.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/args.js';
import { CliError } from '../src/cli/cli-error.js';
import { describeFailure } from '../src/cli/failure.js';
import { parseKdf } from '../src/cli/kdf-args.js';
import { parseKmsSpec } from '../src/cli/key-args.js';
import { pemBytes } from '../src/cli/pem.js';
import { EnsealError } from '../src/errors.js';
import { pseudoRandom } from './helpers.js';
import { Sandbox, expectFailure, expectSuccess, recipientIds, requireBuild, type RunResult } from './cli-harness.js';

/** Cheap Argon2id costs (the CLI's documented --kdf-cost option), so tests stay fast. */
const FAST = ['--kdf-cost', 'm=8,t=1,p=1'];
const PASSPHRASE = 'correct horse battery staple ✓';

let sb: Sandbox;
beforeAll(requireBuild);
beforeEach(() => {
  sb = new Sandbox();
  sb.secret(PASSPHRASE);
});
afterEach(() => sb.cleanup());

const stdoutLine = (r: RunResult): string => r.stdout.toString().trim();

async function aesKeyFile(name: string): Promise<string> {
  const r = await sb.run(['keygen', 'aes', '--out', name]);
  expectSuccess(r);
  sb.secretBytes(Buffer.from(JSON.parse(readFileSync(sb.at(name), 'utf8')).key, 'base64'));
  return stdoutLine(r);
}

async function rsaPair(name: string, bits = '2048'): Promise<string> {
  const r = await sb.run(['keygen', 'rsa', '--out', name, '--bits', bits]);
  expectSuccess(r);
  sb.secretPem(sb.at(name));
  return stdoutLine(r);
}

async function localKey(alias?: string): Promise<string> {
  const r = await sb.run(['kms', 'create-key', ...(alias === undefined ? [] : ['--alias', alias])]);
  expectSuccess(r);
  sb.secretStore();
  return stdoutLine(r);
}

function plainFile(n: number, seed: number): Buffer {
  const plain = Buffer.from(pseudoRandom(n, seed));
  writeFileSync(sb.at('plain'), plain);
  return plain;
}

async function decryptsTo(args: readonly string[], plain: Buffer, env?: Record<string, string>): Promise<void> {
  const r = await sb.run(['decrypt', ...args, 'sealed', '-'], { env });
  expectSuccess(r);
  expect(r.stdout.equals(plain)).toBe(true);
}

describe('round trips through files, one provider kind at a time', () => {
  it('AES key file', async () => {
    const id = await aesKeyFile('k.json');
    const plain = plainFile(40_000, 1);
    expectSuccess(await sb.run(['encrypt', '--key', 'k.json', 'plain', 'sealed']));
    expect(await recipientIds(sb, 'sealed')).toEqual([id]);
    await decryptsTo(['--key', 'k.json'], plain);
  });

  it('LocalKms in the default store: by alias, by id, bare or local:-prefixed, and --kms local', async () => {
    const id = await localKey('backups');
    expect(id).toMatch(/^lk-[0-9a-f]{32}$/);
    expect(statSync(sb.at('kms.json')).mode & 0o777).toBe(0o600);
    const plain = plainFile(20_000, 2);
    expectSuccess(await sb.run(['encrypt', '--kms', 'backups', 'plain', 'sealed']));
    const info = JSON.parse((await sb.run(['inspect', 'sealed'])).stdout.toString());
    expect(info.recipients).toEqual([{ type: 'kms-local', keyId: id, params: { requested: 'backups' }, wrappedKeyLength: expect.any(Number) }]);
    for (const spec of ['backups', 'local:backups', id, `local:${id}`, 'local']) await decryptsTo(['--kms', spec], plain);
  });

  it('LocalKms with zero configuration uses ~/.enseal/kms.json; --kms-store and ENSEAL_KMS_STORE pick another store', async () => {
    const noStoreEnv = { ENSEAL_KMS_STORE: undefined };
    const created = await sb.run(['kms', 'create-key', '--alias', 'home'], { env: noStoreEnv });
    expectSuccess(created);
    expect(existsSync(join(sb.dir, '.enseal', 'kms.json'))).toBe(true);
    expect(existsSync(sb.at('kms.json'))).toBe(false);
    sb.secretStore(join(sb.dir, '.enseal', 'kms.json'));
    const plain = plainFile(1000, 3);
    expectSuccess(await sb.run(['encrypt', '--kms', 'home', 'plain', 'sealed'], { env: noStoreEnv }));
    // The store named by ENSEAL_KMS_STORE (the sandbox default) does not exist: that store is used, and fails.
    expectFailure(await sb.run(['decrypt', '--kms', 'local', 'sealed', 'out']), 'ERR_KMS_UNAVAILABLE', 1);
    await decryptsTo(['--kms-store', join(sb.dir, '.enseal', 'kms.json'), '--kms', 'local'], plain);
    await decryptsTo(['--kms', 'home'], plain, { ENSEAL_KMS_STORE: join(sb.dir, '.enseal', 'kms.json') });
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('RSA key pair from keygen rsa: the public key encrypts, the private key decrypts, the key id matches', async () => {
    const id = await rsaPair('alice');
    expect(id).toMatch(/^sha256:[0-9a-f]{32}$/);
    const plain = plainFile(70_000, 4);
    expectSuccess(await sb.run(['encrypt', '--rsa-public', 'alice.pub', 'plain', 'sealed']));
    expect(await recipientIds(sb, 'sealed')).toEqual([id]);
    await decryptsTo(['--rsa-private', 'alice'], plain);
    // A private key also works as --rsa-public (its public half is used).
    expectSuccess(await sb.run(['encrypt', '--rsa-public', 'alice', 'plain', 'sealed']));
    expect(await recipientIds(sb, 'sealed')).toEqual([id]);
  });

  it('RSA keys made elsewhere: PKCS#1 PEM and DER private keys, a JWK public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(sb.at('pkcs1.pem'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    writeFileSync(sb.at('pkcs8.der'), privateKey.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });
    writeFileSync(sb.at('pub.jwk'), JSON.stringify(publicKey.export({ format: 'jwk' })));
    sb.secretPem(sb.at('pkcs1.pem'));
    sb.secretBytes(readFileSync(sb.at('pkcs8.der')));
    const plain = plainFile(5000, 5);
    expectSuccess(await sb.run(['encrypt', '--rsa-public', 'pub.jwk', 'plain', 'sealed']));
    await decryptsTo(['--rsa-private', 'pkcs1.pem'], plain);
    await decryptsTo(['--rsa-private', 'pkcs8.der'], plain);
  });

  it('passphrase from the environment (argon2id with small costs, scrypt, pbkdf2)', async () => {
    const plain = plainFile(30_000, 6);
    const env = { SEAL_PW: PASSPHRASE };
    const cases: [string[], Record<string, string>][] = [
      [FAST, { kdf: 'argon2id', m: '8', t: '1', p: '1' }],
      [['--kdf', 'scrypt', '--kdf-cost', 'N=1024'], { kdf: 'scrypt', N: '1024', r: '8', p: '1' }],
      [['--kdf', 'pbkdf2', '--kdf-cost', 'i=10000'], { kdf: 'pbkdf2-sha256', i: '10000' }],
    ];
    for (const [kdfArgs, params] of cases) {
      expectSuccess(await sb.run(['encrypt', '--passphrase-env', 'SEAL_PW', ...kdfArgs, 'plain', 'sealed'], { env }));
      const info = JSON.parse((await sb.run(['inspect', 'sealed'])).stdout.toString());
      expect(info.recipients[0].type).toBe('passphrase');
      expect(info.recipients[0].params).toMatchObject(params);
      await decryptsTo(['--passphrase-env', 'SEAL_PW'], plain, env);
    }
  });

  it('a wrong passphrase is ERR_NO_KEY with an ERR_AUTH cause, and creates no OUT', async () => {
    plainFile(1000, 7);
    expectSuccess(await sb.run(['encrypt', '--passphrase-env', 'PW', ...FAST, 'plain', 'sealed'], { env: { PW: PASSPHRASE } }));
    sb.secret('not the passphrase');
    const r = await sb.run(['decrypt', '--passphrase-env', 'PW', 'sealed', 'out'], { env: { PW: 'not the passphrase' } });
    expectFailure(r, 'ERR_NO_KEY', 1);
    expect(r.stderr).toContain('ERR_AUTH: passphrase stanza failed authentication');
    expect(existsSync(sb.at('out'))).toBe(false);
    expect(sb.leftovers()).toEqual([]);
  });

  it('an unset or empty --passphrase-env variable is ERR_USAGE naming the variable', async () => {
    plainFile(10, 8);
    for (const env of [{ PW: undefined }, { PW: '' }]) {
      const r = await sb.run(['encrypt', '--passphrase-env', 'PW', 'plain', 'sealed'], { env });
      expectFailure(r, 'ERR_USAGE', 2);
      expect(r.stderr).toContain('PW');
    }
    expect(existsSync(sb.at('sealed'))).toBe(false);
  });

  it('--passphrase without a terminal is ERR_USAGE (stdin and stderr are pipes here)', async () => {
    plainFile(10, 9);
    const r = await sb.run(['encrypt', '--passphrase', 'plain', 'sealed']);
    expectFailure(r, 'ERR_USAGE', 2);
    expect(r.stderr).toMatch(/terminal/);
    expect(existsSync(sb.at('sealed'))).toBe(false);
  });
});

describe('mixed recipients', () => {
  it('AES + RSA + LocalKms + passphrase: each key alone decrypts; inspect lists them in command-line order', async () => {
    const aesId = await aesKeyFile('a.json');
    const rsaId = await rsaPair('r');
    const kmsId = await localKey('team');
    const plain = plainFile(100_000, 10);
    const env = { PW: PASSPHRASE };
    const args = ['--key', 'a.json', '--rsa-public', 'r.pub', '--kms', 'team', '--passphrase-env', 'PW', ...FAST];
    expectSuccess(await sb.run(['encrypt', ...args, '--context', 'app=cli', 'plain', 'sealed'], { env }));
    expect(await recipientIds(sb, 'sealed')).toEqual([aesId, rsaId, kmsId, '']);
    for (const key of [['--key', 'a.json'], ['--rsa-private', 'r'], ['--kms', 'team'], ['--kms', 'local'], ['--passphrase-env', 'PW']]) {
      await decryptsTo(key, plain, env);
    }
    // Several keys on decrypt, the matching one last; and a ranged read with an RSA key.
    const other = await aesKeyFile('other.json');
    expect(other).not.toBe(aesId);
    await decryptsTo(['--key', 'other.json', '--rsa-private', 'r'], plain);
    const part = await sb.run(['decrypt', '--rsa-private', 'r', '--range', '50000-50099', 'sealed', '-']);
    expectSuccess(part);
    expect(part.stdout.equals(plain.subarray(50000, 50100))).toBe(true);
  });

  it('the first recipient may be a KMS (it generates the data key) followed by others', async () => {
    await localKey('first');
    await aesKeyFile('k.json');
    const plain = plainFile(3000, 11);
    expectSuccess(await sb.run(['encrypt', '--kms', 'first', '--key', 'k.json', 'plain', 'sealed']));
    await decryptsTo(['--key', 'k.json'], plain);
    await decryptsTo(['--kms', 'first'], plain);
  });
});

describe('keygen rsa', () => {
  it('writes FILE (PKCS#8 PEM, 0600) and FILE.pub (SPKI PEM), 3072 bits by default, and prints the key id', async () => {
    const id = await rsaPair('me', '3072');
    const def = await sb.run(['keygen', 'rsa', '--out', 'default']);
    expectSuccess(def);
    sb.secretPem(sb.at('default'));
    const priv = readFileSync(sb.at('me'), 'utf8');
    const pub = readFileSync(sb.at('me.pub'), 'utf8');
    expect(priv).toMatch(/^-----BEGIN PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PRIVATE KEY-----\n$/);
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    expect(statSync(sb.at('me')).mode & 0o777).toBe(0o600);
    expect(statSync(sb.at('me.pub')).mode & 0o077 & 0o022).toBe(0); // never group/other-writable
    const key = createPrivateKey(priv);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(key.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(createPublicKey(key).export({ type: 'spki', format: 'pem' })).toBe(pub);
    expect(createPrivateKey(readFileSync(sb.at('default'))).asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(id).not.toBe(stdoutLine(def));
  });

  it('--bits 4096 works; other sizes are usage errors that create nothing', async () => {
    expectSuccess(await sb.run(['keygen', 'rsa', '--out', 'big', '--bits', '4096']));
    sb.secretPem(sb.at('big'));
    expect(createPrivateKey(readFileSync(sb.at('big'))).asymmetricKeyDetails?.modulusLength).toBe(4096);
    for (const bits of ['1024', '2047', '8192', 'abc', '']) {
      expectFailure(await sb.run(['keygen', 'rsa', '--out', 'x', '--bits', bits]), 'ERR_USAGE', 2);
    }
    expectFailure(await sb.run(['keygen', 'rsa', '--out', 'x', '--id', 'mine']), 'ERR_USAGE', 2);
    expectFailure(await sb.run(['keygen', 'aes', '--out', 'x', '--bits', '2048']), 'ERR_USAGE', 2);
    expect(existsSync(sb.at('x'))).toBe(false);
    expect(existsSync(sb.at('x.pub'))).toBe(false);
  });

  it('refuses to overwrite FILE or FILE.pub (ERR_EXISTS), creating neither and changing nothing', async () => {
    writeFileSync(sb.at('k'), 'keep me');
    let r = await sb.run(['keygen', 'rsa', '--out', 'k', '--bits', '2048']);
    expectFailure(r, 'ERR_EXISTS', 1);
    expect(readFileSync(sb.at('k'), 'utf8')).toBe('keep me');
    expect(existsSync(sb.at('k.pub'))).toBe(false);
    writeFileSync(sb.at('j.pub'), 'keep me too');
    r = await sb.run(['keygen', 'rsa', '--out', 'j', '--bits', '2048']);
    expectFailure(r, 'ERR_EXISTS', 1);
    expect(r.stdout.length).toBe(0);
    expect(existsSync(sb.at('j'))).toBe(false);
    expect(readFileSync(sb.at('j.pub'), 'utf8')).toBe('keep me too');
    expectFailure(await sb.run(['keygen', 'rsa', '--out', join('missing', 'k'), '--bits', '2048']), 'ERR_IO', 1);
  });
});

describe('bad keys and bad options', () => {
  it('unusable RSA key files are ERR_KEYFILE (exit 2) without showing their content', async () => {
    await rsaPair('r');
    plainFile(100, 12);
    writeFileSync(sb.at('junk.pem'), '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n');
    sb.secret('bm90IGEga2V5IGF0IGFsbA==');
    mkdirSync(sb.at('dir'));
    const cases: string[][] = [
      ['encrypt', '--rsa-public', 'junk.pem', 'plain', 'out'],
      ['encrypt', '--rsa-public', 'missing.pem', 'plain', 'out'],
      ['encrypt', '--rsa-public', 'dir', 'plain', 'out'],
      ['decrypt', '--rsa-private', 'r.pub', 'plain', 'out'], // a public key cannot decrypt
      ['decrypt', '--rsa-private', 'junk.pem', 'plain', 'out'],
    ];
    for (const args of cases) {
      const r = await sb.run(args);
      expectFailure(r, 'ERR_KEYFILE', 2);
      expect(r.stderr).toContain(args[2]);
    }
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('usage errors exit 2 and create nothing', async () => {
    plainFile(100, 13);
    const cases: string[][] = [
      ['encrypt', 'plain', 'out'],
      ['encrypt', '--kms', 'local', 'plain', 'out'],
      ['encrypt', '--kms', 'gcp:key', 'plain', 'out'],
      ['encrypt', '--kms', 'aws:', 'plain', 'out'],
      ['encrypt', '--passphrase=oops', 'plain', 'out'],
      ['encrypt', '--passphrase-env', 'not a name', 'plain', 'out'],
      ['encrypt', '--key', 'k.json', '--kdf', 'bcrypt', 'plain', 'out'],
      ['encrypt', '--passphrase-env', 'PW', '--kdf-cost', 'x=1', 'plain', 'out'],
      ['encrypt', '--key', 'k.json', '--kdf-cost', 'm=8', 'plain', 'out'],
      ['encrypt', '--passphrase', '-', 'out'],
      ['encrypt', '--rsa-private', 'r', 'plain', 'out'],
      ['decrypt', '--rsa-public', 'r.pub', 'plain', 'out'],
      ['decrypt', 'plain', 'out'],
      ['decrypt', '--kdf', 'scrypt', '--key', 'k.json', 'plain', 'out'],
      ['encrypt', '--kms-store', '', '--kms', 'k', 'plain', 'out'],
    ];
    for (const args of cases) {
      const r = await sb.run(args, { env: { PW: PASSPHRASE } });
      expectFailure(r, 'ERR_USAGE', 2);
      expect(r.stderr).not.toContain('oops');
    }
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('a LocalKms key that does not exist: ERR_KMS_UNAVAILABLE without a store, ERR_KMS_NOT_FOUND with one', async () => {
    plainFile(100, 14);
    const noStore = await sb.run(['encrypt', '--kms', 'nope', 'plain', 'out']);
    expectFailure(noStore, 'ERR_KMS_UNAVAILABLE', 1);
    expect(noStore.stderr).toContain('enseal kms create-key');
    expect(existsSync(sb.at('kms.json'))).toBe(false); // encrypt never creates a store
    await localKey('real');
    expectFailure(await sb.run(['encrypt', '--kms', 'nope', 'plain', 'out']), 'ERR_KMS_NOT_FOUND', 1);
    expect(existsSync(sb.at('out'))).toBe(false);
    expect(sb.leftovers()).toEqual([]);
  });
});

describe('parsing and error classification (units)', () => {
  it('collects key sources of every kind in command-line order', () => {
    const cmd = parseArgs(['encrypt', '--kms', 'aws:alias/x', '--key=k.json', '--passphrase-env', 'PW', '--rsa-public', 'r.pub', '--kms', 'dev', '--passphrase', '--kdf', 'scrypt', '--kdf-cost', 'N=1024,r=4', 'in', 'out']);
    expect(cmd).toEqual({
      kind: 'encrypt',
      recipients: [
        { kind: 'kms', spec: { kms: 'aws', keyId: 'alias/x' } },
        { kind: 'key-file', path: 'k.json' },
        { kind: 'passphrase-env', variable: 'PW' },
        { kind: 'rsa', path: 'r.pub' },
        { kind: 'kms', spec: { kms: 'local', keyId: 'dev' } },
        { kind: 'passphrase-prompt' },
      ],
      kdf: { kdf: 'scrypt', params: { N: 1024, r: 4 } },
      kmsStore: undefined,
      context: {},
      force: false,
      input: 'in',
      output: 'out',
    });
    expect(parseArgs(['decrypt', '--kms', 'local', '--kms-store', 's.json', '--rsa-private', 'r', 'in', 'out'])).toMatchObject({
      keys: [{ kind: 'kms', spec: { kms: 'local', keyId: undefined } }, { kind: 'rsa', path: 'r' }],
      kmsStore: 's.json',
    });
    expect(parseArgs(['keygen', 'rsa', '--out', 'k'])).toEqual({ kind: 'keygen', type: 'rsa', out: 'k', bits: 3072 });
    expect(parseArgs(['kms', 'list', '--json'])).toEqual({ kind: 'kms', action: 'list', store: undefined, json: true });
    expect(parseArgs(['kms', 'rotate', 'dev', '--store', 's'])).toEqual({ kind: 'kms', action: 'rotate', store: 's', key: 'dev' });
  });

  it('parses --kms specs: a bare id is local, the part after the first colon is the key id', () => {
    expect(parseKmsSpec('aws:arn:aws:kms:eu-west-1:111122223333:key/k', 'kms', 'recipient')).toEqual({ kms: 'aws', keyId: 'arn:aws:kms:eu-west-1:111122223333:key/k' });
    expect(parseKmsSpec('vault:transit/app', 'kms', 'recipient')).toEqual({ kms: 'vault', keyId: 'transit/app' });
    expect(parseKmsSpec('alibaba:alias/a', 'add-kms', 'recipient')).toEqual({ kms: 'alibaba', keyId: 'alias/a' });
    expect(parseKmsSpec('local:local', 'kms', 'recipient')).toEqual({ kms: 'local', keyId: 'local' });
    expect(parseKmsSpec('local', 'kms', 'unlock')).toEqual({ kms: 'local', keyId: undefined });
    expect(() => parseKmsSpec('local', 'kms', 'recipient')).toThrow(CliError);
    expect(() => parseKmsSpec('', 'kms', 'unlock')).toThrow(/expects/);
    expect(() => parseKmsSpec('arn:aws:kms:x', 'kms', 'unlock')).toThrow(/unknown KMS "arn"/);
  });

  it('parses --kdf/--kdf-cost and applies the library bounds', () => {
    expect(parseKdf(undefined, undefined)).toBeUndefined();
    expect(parseKdf(undefined, 'm=65536,t=3')).toEqual({ kdf: 'argon2id', params: { memoryKiB: 65536, iterations: 3 } });
    expect(parseKdf('pbkdf2', undefined)).toEqual({ kdf: 'pbkdf2-sha256', params: {} });
    for (const [kdf, cost] of [
      ['argon2id', 'm=4,p=1'], // below 8·p
      ['argon2id', 't=11'],
      ['argon2id', 'N=1024'],
      ['scrypt', 'N=1000'],
      ['pbkdf2', 'i=999'],
      ['argon2id', 'm=08'],
      ['argon2id', 'm=8,m=16'],
      ['argon2id', 'm'],
      ['__proto__', undefined],
    ] as const) {
      expect(() => parseKdf(kdf, cost), `${kdf} ${cost}`).toThrow(CliError);
    }
  });

  it('reports ERR_NO_KEY whose only causes are one KMS condition as that condition', () => {
    const disabled = new EnsealError('ERR_KMS_DISABLED', 'local KMS: key "lk-1" is disabled');
    const noKey = (errors: unknown[]): EnsealError => new EnsealError('ERR_NO_KEY', 'no key could unwrap the data key', { errors });
    expect(describeFailure(noKey([disabled]))).toMatchObject({ code: 'ERR_KMS_DISABLED', exitCode: 1 });
    expect(describeFailure(noKey([disabled, disabled]))).toMatchObject({ code: 'ERR_KMS_DISABLED' });
    expect(describeFailure(noKey([disabled, new EnsealError('ERR_AUTH', 'x')]))).toMatchObject({ code: 'ERR_NO_KEY' });
    expect(describeFailure(noKey([new EnsealError('ERR_AUTH', 'x')]))).toMatchObject({ code: 'ERR_NO_KEY' });
    expect(describeFailure(noKey([]))).toMatchObject({ code: 'ERR_NO_KEY' });
    expect(describeFailure(new CliError('ERR_CANCELLED', 'cancelled')).exitCode).toBe(130);
  });

  it('pemBytes matches node:crypto PEM for every length remainder', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(Buffer.from(pemBytes('PRIVATE KEY', der)).toString()).toBe(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    for (const n of [0, 1, 2, 3, 47, 48, 49, 50]) {
      const bytes = Buffer.from(pseudoRandom(n, n + 3));
      const body = bytes.toString('base64').replace(/(.{64})/g, '$1\n');
      const expected = `-----BEGIN X-----\n${body}${body === '' || body.endsWith('\n') ? '' : '\n'}-----END X-----\n`;
      expect(Buffer.from(pemBytes('X', bytes)).toString(), String(n)).toBe(expected);
    }
  });
});
