/**
 * `enseal rewrap`: recipients added and removed with every provider kind, the payload bytes
 * carried over unchanged (compared with IN's), removed keys failing with ERR_NO_KEY, IN and OUT
 * on pipes, and the failures that must leave no OUT.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/args.js';
import { removes } from '../src/cli/rewrap.js';
import { pseudoRandom } from './helpers.js';
import { Sandbox, expectFailure, expectSuccess, headerLength, payloadOf, recipientIds, requireBuild } from './cli-harness.js';

const FAST = ['--kdf-cost', 'm=8,t=1,p=1'];
const PASSPHRASE = 'rewrap passphrase ✓';

let sb: Sandbox;
beforeAll(requireBuild);
beforeEach(() => {
  sb = new Sandbox();
  sb.secret(PASSPHRASE);
});
afterEach(() => sb.cleanup());

async function aesKeyFile(name: string, id?: string): Promise<string> {
  const r = await sb.run(['keygen', 'aes', '--out', name, ...(id === undefined ? [] : ['--id', id])]);
  expectSuccess(r);
  sb.secretBytes(Buffer.from(JSON.parse(readFileSync(sb.at(name), 'utf8')).key, 'base64'));
  return r.stdout.toString().trim();
}

async function sealed(n: number, recipients: string[], env?: Record<string, string>): Promise<{ plain: Buffer; object: Buffer }> {
  const plain = Buffer.from(pseudoRandom(n, n + 7));
  writeFileSync(sb.at('plain'), plain);
  expectSuccess(await sb.run(['encrypt', ...recipients, 'plain', 'in.enseal'], { env }));
  return { plain, object: readFileSync(sb.at('in.enseal')) };
}

async function decrypts(file: string, key: string[], plain: Buffer, env?: Record<string, string>): Promise<void> {
  const r = await sb.run(['decrypt', ...key, file, '-'], { env });
  expectSuccess(r);
  expect(r.stdout.equals(plain)).toBe(true);
}

describe('rewrap', () => {
  it('adds and removes AES recipients; the payload bytes are identical and the removed key gets ERR_NO_KEY', async () => {
    await aesKeyFile('old.json', 'old');
    await aesKeyFile('new.json', 'new');
    const { plain, object } = await sealed(100_000, ['--key', 'old.json']);
    const r = await sb.run(['rewrap', '--key', 'old.json', '--add-key', 'new.json', '--remove', 'old', 'in.enseal', 'out.enseal']);
    expectSuccess(r);
    expect(r.stdout.length).toBe(0);
    const out = readFileSync(sb.at('out.enseal'));
    expect(payloadOf(out).equals(payloadOf(object))).toBe(true);
    expect(out.length - headerLength(out)).toBe(object.length - headerLength(object));
    expect(readFileSync(sb.at('in.enseal')).equals(object)).toBe(true); // IN untouched
    expect(await recipientIds(sb, 'out.enseal')).toEqual(['new']);
    await decrypts('out.enseal', ['--key', 'new.json'], plain);
    const removed = await sb.run(['decrypt', '--key', 'old.json', 'out.enseal', 'x']);
    expectFailure(removed, 'ERR_NO_KEY', 1);
    expect(existsSync(sb.at('x'))).toBe(false);
    expect(sb.leftovers()).toEqual([]);
  });

  it('adds RSA, LocalKms and passphrase recipients, then removes by KMS alias and RSA key id', async () => {
    await aesKeyFile('a.json', 'a');
    const rsa = await sb.run(['keygen', 'rsa', '--out', 'r', '--bits', '2048']);
    expectSuccess(rsa);
    sb.secretPem(sb.at('r'));
    const rsaId = rsa.stdout.toString().trim();
    const created = await sb.run(['kms', 'create-key', '--alias', 'vault1']);
    expectSuccess(created);
    sb.secretStore();
    const kmsId = created.stdout.toString().trim();
    const env = { PW: PASSPHRASE };
    const { plain, object } = await sealed(40_000, ['--key', 'a.json'], env);

    const add = ['--add-rsa-public', 'r.pub', '--add-kms', 'vault1', '--add-passphrase-env', 'PW', ...FAST];
    expectSuccess(await sb.run(['rewrap', '--key', 'a.json', ...add, 'in.enseal', 'more.enseal'], { env }));
    const more = readFileSync(sb.at('more.enseal'));
    expect(payloadOf(more).equals(payloadOf(object))).toBe(true);
    expect(await recipientIds(sb, 'more.enseal')).toEqual(['a', rsaId, kmsId, '']);
    for (const key of [['--key', 'a.json'], ['--rsa-private', 'r'], ['--kms', 'local'], ['--passphrase-env', 'PW']]) {
      await decrypts('more.enseal', key, plain, env);
    }

    // Unlock with the passphrase; remove the KMS recipient by the alias it was added under, and RSA by id.
    expectSuccess(await sb.run(['rewrap', '--passphrase-env', 'PW', '--remove', 'vault1', '--remove', rsaId, 'more.enseal', 'less.enseal'], { env }));
    expect(await recipientIds(sb, 'less.enseal')).toEqual(['a', '']);
    expect(payloadOf(readFileSync(sb.at('less.enseal'))).equals(payloadOf(object))).toBe(true);
    expectFailure(await sb.run(['decrypt', '--rsa-private', 'r', 'less.enseal', 'x']), 'ERR_NO_KEY', 1);
    expectFailure(await sb.run(['decrypt', '--kms', 'vault1', 'less.enseal', 'x']), 'ERR_NO_KEY', 1);
    await decrypts('less.enseal', ['--passphrase-env', 'PW'], plain, env);
  });

  it('reads IN from stdin and writes OUT to stdout, streaming a 3 MiB payload unchanged', async () => {
    await aesKeyFile('a.json', 'a');
    await aesKeyFile('b.json', 'b');
    const { plain, object } = await sealed(3 * 1024 * 1024 + 5, ['--key', 'a.json']);
    const r = await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', '-', '-'], { input: object });
    expectSuccess(r);
    expect(payloadOf(r.stdout).equals(payloadOf(object))).toBe(true);
    writeFileSync(sb.at('piped.enseal'), r.stdout);
    await decrypts('piped.enseal', ['--key', 'b.json'], plain);
    const toFile = await sb.run(['rewrap', '--key', 'b.json', '--remove', 'a', '-', 'file.enseal'], { input: r.stdout });
    expectSuccess(toFile);
    expect(payloadOf(readFileSync(sb.at('file.enseal'))).equals(payloadOf(object))).toBe(true);
    expect(await recipientIds(sb, 'file.enseal')).toEqual(['b']);
  });

  it('rewrites a file in place (OUT = IN)', async () => {
    await aesKeyFile('a.json', 'a');
    await aesKeyFile('b.json', 'b');
    const { plain, object } = await sealed(50_000, ['--key', 'a.json']);
    expectSuccess(await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', '--remove', 'a', 'in.enseal', 'in.enseal']));
    expect(payloadOf(readFileSync(sb.at('in.enseal'))).equals(payloadOf(object))).toBe(true);
    await decrypts('in.enseal', ['--key', 'b.json'], plain);
  });

  it('failures leave no OUT: wrong key, unknown --remove, no recipient left, bad header, truncated header', async () => {
    await aesKeyFile('a.json', 'a');
    await aesKeyFile('b.json', 'b');
    const { object } = await sealed(20_000, ['--key', 'a.json']);
    const wrong = await sb.run(['rewrap', '--key', 'b.json', '--add-key', 'b.json', 'in.enseal', 'out']);
    expectFailure(wrong, 'ERR_NO_KEY', 1);
    const unknown = await sb.run(['rewrap', '--key', 'a.json', '--remove', 'nobody', 'in.enseal', 'out']);
    expectFailure(unknown, 'ERR_USAGE', 2);
    expect(unknown.stderr).toContain('"a"');
    expectFailure(await sb.run(['rewrap', '--key', 'a.json', '--remove', 'a', 'in.enseal', 'out']), 'ERR_USAGE', 2);
    const flipped = Buffer.from(object);
    flipped[headerLength(object) - 1]! ^= 1; // header MAC
    writeFileSync(sb.at('flipped'), flipped);
    expectFailure(await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', 'flipped', 'out']), 'ERR_AUTH', 1);
    expectFailure(await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', '-', 'out'], { input: object.subarray(0, 30) }), 'ERR_TRUNCATED', 1);
    expectFailure(await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', '-', 'out'], { input: object.subarray(0, 5) }), 'ERR_TRUNCATED', 1);
    expectFailure(await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', '-', 'out'], { input: Buffer.from('not an enseal object') }), 'ERR_HEADER', 1);
    expectFailure(await sb.run(['rewrap', '--key', 'a.json', '--add-key', 'b.json', '--context', 'x=1', 'in.enseal', 'out']), 'ERR_CONTEXT', 1);
    expect(existsSync(sb.at('out'))).toBe(false);
    expect(sb.leftovers()).toEqual([]);
  });

  it('usage errors exit 2', async () => {
    await aesKeyFile('a.json', 'a');
    await sealed(100, ['--key', 'a.json']);
    const cases: string[][] = [
      ['rewrap', '--key', 'a.json', 'in.enseal', 'out'], // no change
      ['rewrap', '--add-key', 'a.json', 'in.enseal', 'out'], // no unlock key
      ['rewrap', '--key', 'a.json', '--remove', '', 'in.enseal', 'out'],
      ['rewrap', '--key', 'a.json', '--add-key', 'a.json', 'in.enseal'],
      ['rewrap', '--key', 'a.json', '--add-kms', 'local', 'in.enseal', 'out'],
      ['rewrap', '--key', 'a.json', '--add-key', 'a.json', '--kdf', 'scrypt', 'in.enseal', 'out'],
      ['rewrap', '--key', 'a.json', '--add-passphrase', '-', 'out'],
      ['rewrap', '--key', 'a.json', '--add-rsa-private', 'r', 'in.enseal', 'out'],
    ];
    for (const args of cases) expectFailure(await sb.run(args), 'ERR_USAGE', 2);
    expect(existsSync(sb.at('out'))).toBe(false);
  });
});

describe('rewrap (units)', () => {
  it('parses unlock keys, added recipients and removals separately', () => {
    expect(parseArgs(['rewrap', '--kms', 'local', '--add-kms', 'aws:k', '--add-passphrase', '--remove', 'x', '--kdf', 'scrypt', 'in', 'out'])).toEqual({
      kind: 'rewrap',
      keys: [{ kind: 'kms', spec: { kms: 'local', keyId: undefined } }],
      add: [{ kind: 'kms', spec: { kms: 'aws', keyId: 'k' } }, { kind: 'passphrase-prompt' }],
      remove: ['x'],
      legacyRsa: false,
      kmsDiscovery: false,
      kdf: { kdf: 'scrypt', params: {} },
      kmsStore: undefined,
      context: {},
      force: false,
      input: 'in',
      output: 'out',
    });
  });

  it('--remove matches a key id, or the requested key of a KMS recipient only', () => {
    expect(removes({ type: 'aes256-gcm', keyId: 'k', params: {} }, 'k')).toBe(true);
    expect(removes({ type: 'kms-local', keyId: 'lk-1', params: { requested: 'dev' } }, 'dev')).toBe(true);
    expect(removes({ type: 'kms-local', keyId: 'lk-1', params: { requested: 'dev' } }, 'lk-1')).toBe(true);
    expect(removes({ type: 'passphrase', keyId: '', params: { requested: 'dev' } }, 'dev')).toBe(false);
    expect(removes({ type: 'kms-aws', keyId: 'arn', params: {} }, 'requested')).toBe(false);
  });
});
