/**
 * The `enseal` command line, end to end: every test spawns `node bin/enseal.js` (which runs the
 * build in dist/) in a fresh temporary directory. A few pure helpers of src/cli (argument
 * parsing, error classification, the progress bar) are also unit-tested directly.
 *
 * Every command's stdout and stderr are checked for the key material of every key the test
 * created (see `run`): no command may ever print it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs, parseRange } from '../src/cli/args.js';
import { CliError } from '../src/cli/cli-error.js';
import { describeFailure } from '../src/cli/failure.js';
import { CLEAR_LINE, PROGRESS_MIN_SIZE, formatProgress, progressStream, shouldShowProgress } from '../src/cli/progress.js';
import { EnsealError } from '../src/errors.js';
import { pseudoRandom } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'enseal.js');
const BUILT_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const TEMP_INFIX = '.enseal-tmp-';

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

interface KeyInfo {
  path: string;
  id: string;
  base64: string;
}

let dir: string;
/** Key material (base64 text and raw bytes) that must never show up on stdout or stderr. */
let secrets: { base64: string; raw: Buffer }[];

const at = (name: string): string => join(dir, name);
const leftovers = (): string[] => readdirSync(dir).filter((n) => n.includes(TEMP_INFIX));

function rememberSecret(base64: string): void {
  secrets.push({ base64, raw: Buffer.from(base64, 'base64') });
}

function assertNoSecrets(r: RunResult): void {
  const stdoutText = r.stdout.toString('latin1');
  for (const s of secrets) {
    expect(stdoutText.includes(s.base64), 'key base64 on stdout').toBe(false);
    expect(r.stderr.includes(s.base64), 'key base64 on stderr').toBe(false);
    expect(r.stdout.indexOf(s.raw), 'raw key bytes on stdout').toBe(-1);
  }
}

/** Runs `node bin/enseal.js ...args` in the test directory, feeding `input` on stdin. */
async function run(args: readonly string[], input?: Uint8Array): Promise<RunResult> {
  const env = { ...process.env, HOME: dir, ENSEAL_KMS_STORE: join(dir, 'kms.json') }; // never the user's store
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => undefined); // the CLI may exit before reading everything
  child.stdin.end(input === undefined ? undefined : Buffer.from(input));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  const r: RunResult = { code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
  assertNoSecrets(r);
  return r;
}

/** Asserts a failure: the exit status, one stderr line `enseal: CODE: message`, then only cause lines. */
function expectFailure(r: RunResult, code: string, exitCode: 1 | 2): void {
  const causes = /^ERR_(?:NO_KEY|KMS_)/.test(code) ? '(?:enseal:   - [^\\n]+\\n)*' : '';
  expect(r.stderr).toMatch(new RegExp(`^enseal: ${code}: [^\\n]+\\n${causes}$`));
  expect(r.code, r.stderr).toBe(exitCode);
}

function expectSuccess(r: RunResult): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

/** Creates a key with `enseal keygen` and remembers its material as a secret. */
async function newKey(name: string, id?: string): Promise<KeyInfo> {
  const r = await run(['keygen', 'aes', '--out', name, ...(id === undefined ? [] : ['--id', id])]);
  expectSuccess(r);
  const file = JSON.parse(readFileSync(at(name), 'utf8'));
  rememberSecret(file.key);
  expect(r.stdout.toString()).toBe(`${file.id}\n`);
  return { path: name, id: file.id, base64: file.key };
}

/** Writes a key file by hand (e.g. same id, other material) and remembers its key. */
function writeKeyFile(name: string, id: string, key: Uint8Array): KeyInfo {
  const base64 = Buffer.from(key).toString('base64');
  rememberSecret(base64);
  writeFileSync(at(name), JSON.stringify({ type: 'aes256', id, key: base64 }), { mode: 0o600 });
  return { path: name, id, base64 };
}

async function encryptFile(plain: Uint8Array, keys: readonly KeyInfo[], extra: readonly string[] = []): Promise<Buffer> {
  writeFileSync(at('plain'), plain);
  const r = await run(['encrypt', ...keys.flatMap((k) => ['--key', k.path]), ...extra, 'plain', 'sealed']);
  expectSuccess(r);
  expect(r.stdout.length).toBe(0);
  return readFileSync(at('sealed'));
}

function headerLength(sealed: Uint8Array): number {
  return Buffer.from(sealed).readUInt32BE(8);
}

beforeAll(() => {
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`${BUILT_MAIN} is missing: run \`npm run build\` before the CLI tests (bin/enseal.js runs dist/).`);
  }
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'enseal-cli-'));
  secrets = [];
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help and version', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the usage on stdout and exits 0', async (flag) => {
    const r = await run([flag]);
    expectSuccess(r);
    const text = r.stdout.toString();
    for (const cmd of ['keygen aes', 'keygen rsa', 'encrypt', 'decrypt', 'rewrap', 'inspect', 'kms create-key', 'kms list', '--range START-END']) expect(text).toContain(cmd);
    for (const option of ['--kms', '--rsa-public', '--rsa-private', '--passphrase-env', '--passphrase', '--kdf-cost', '--add-key', '--remove', '--kms-store']) expect(text).toContain(option);
    for (const variable of ['AWS_REGION', 'AWS_SESSION_TOKEN', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'VAULT_TOKEN', 'VAULT_NAMESPACE', 'ENSEAL_KMS_STORE', 'ENSEAL_VAULT_TRANSIT_MOUNT', 'ENSEAL_AWS_KMS_ENDPOINT', 'ENSEAL_ALIBABA_KMS_ENDPOINT']) {
      expect(text).toContain(variable);
    }
    expect(text).toMatch(/ENSEAL_KMS_ALLOW_INSECURE_HTTP=1 allows plain http: to a\s+loopback address[^]*for tests/);
    expect(text).toMatch(/stdout may already hold/);
    expect(text).toMatch(/Exit status/);
  });

  it('a command with --help prints the usage', async () => {
    const r = await run(['decrypt', '--help']);
    expectSuccess(r);
    expect(r.stdout.toString()).toContain('Usage:');
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expectSuccess(r);
    expect(r.stdout.toString()).toBe(`${PACKAGE_VERSION}\n`);
  });
});

describe('usage errors exit 2 and create nothing', () => {
  const cases: [string, string[]][] = [
    ['no command', []],
    ['unknown command', ['frobnicate']],
    ['encrypt without --key', ['encrypt', 'in', 'out']],
    ['encrypt without OUT', ['encrypt', '--key', 'k.json', 'in']],
    ['encrypt with an extra argument', ['encrypt', '--key', 'k.json', 'in', 'out', 'more']],
    ['option without its value', ['encrypt', 'in', 'out', '--key']],
    ['unknown long option', ['encrypt', '--bogus', 'x', '--key', 'k.json', 'in', 'out']],
    ['unknown short option', ['encrypt', '-k', 'k.json', 'in', 'out']],
    ['--key from stdin', ['encrypt', '--key', '-', 'in', 'out']],
    ['--context without =', ['encrypt', '--key', 'k.json', '--context', 'novalue', 'in', 'out']],
    ['--context with an empty key', ['encrypt', '--key', 'k.json', '--context', '=v', 'in', 'out']],
    ['--context key twice', ['encrypt', '--key', 'k.json', '--context', 'a=1', '--context', 'a=2', 'in', 'out']],
    ['--range on encrypt', ['encrypt', '--key', 'k.json', '--range', '0-1', 'in', 'out']],
    ['--range with IN on stdin', ['decrypt', '--key', 'k.json', '--range', '0-10', '-', 'out']],
    ['--range end before start', ['decrypt', '--key', 'k.json', '--range', '10-5', 'in', 'out']],
    ['--range empty suffix', ['decrypt', '--key', 'k.json', '--range', '-0', 'in', 'out']],
    ['--range lone dash', ['decrypt', '--key', 'k.json', '--range', '-', 'in', 'out']],
    ['--range not numeric', ['decrypt', '--key', 'k.json', '--range', 'a-b', 'in', 'out']],
    ['--range three parts', ['decrypt', '--key', 'k.json', '--range', '1-2-3', 'in', 'out']],
    ['--range too large', ['decrypt', '--key', 'k.json', '--range', '99999999999999999999-', 'in', 'out']],
    ['--range twice', ['decrypt', '--key', 'k.json', '--range', '0-1', '--range', '2-3', 'in', 'out']],
    ['keygen without --out', ['keygen', 'aes']],
    ['keygen of another type', ['keygen', 'dsa', '--out', 'k.json']],
    ['keygen to stdout', ['keygen', 'aes', '--out', '-']],
    ['keygen with an empty id', ['keygen', 'aes', '--out', 'k.json', '--id', '']],
    ['keygen with --out twice', ['keygen', 'aes', '--out', 'a.json', '--out', 'b.json']],
    ['keygen with an over-long id', ['keygen', 'aes', '--out', 'k.json', '--id', 'x'.repeat(2049)]],
    ['inspect without IN', ['inspect']],
    ['inspect with two inputs', ['inspect', 'a', 'b']],
    ['--version with an argument', ['--version', 'now']],
  ];
  it.each(cases)('%s', async (_name, args) => {
    const r = await run(args);
    expectFailure(r, 'ERR_USAGE', 2);
    expect(r.stdout.length).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a context value beyond the format limit is a usage error and leaves no OUT', async () => {
    const k = await newKey('k.json');
    writeFileSync(at('plain'), 'x');
    const r = await run(['encrypt', '--key', k.path, '--context', `v=${'x'.repeat(4097)}`, 'plain', 'sealed']);
    expectFailure(r, 'ERR_USAGE', 2);
    expect(existsSync(at('sealed'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});

describe('keygen', () => {
  it('writes a 0600 key file with a random id and 32 random key bytes, and prints the id', async () => {
    const a = await newKey('a.json');
    const b = await newKey('b.json');
    expect(a.id).toMatch(/^aes-[0-9a-f]{16}$/);
    expect(b.id).not.toBe(a.id);
    const file = JSON.parse(readFileSync(at('a.json'), 'utf8'));
    expect(Object.keys(file)).toEqual(['type', 'id', 'key']);
    expect(file.type).toBe('aes256');
    expect(file.key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(file.key, 'base64')).toHaveLength(32);
    expect(b.base64).not.toBe(a.base64);
    expect(statSync(at('a.json')).mode & 0o777).toBe(0o600);
  });

  it('uses --id', async () => {
    const k = await newKey('k.json', 'backup-2026 ✓');
    expect(k.id).toBe('backup-2026 ✓');
  });

  it('refuses to overwrite an existing file (ERR_EXISTS, exit 1) and leaves it unchanged', async () => {
    const k = await newKey('k.json');
    const before = readFileSync(at('k.json'));
    const r = await run(['keygen', 'aes', '--out', 'k.json']);
    expectFailure(r, 'ERR_EXISTS', 1);
    expect(r.stdout.length).toBe(0);
    expect(readFileSync(at('k.json'))).toEqual(before);
    writeFileSync(at('notes.txt'), 'keep me');
    expectFailure(await run(['keygen', 'aes', '--out', 'notes.txt']), 'ERR_EXISTS', 1);
    expect(readFileSync(at('notes.txt'), 'utf8')).toBe('keep me');
    expect(k.id).toMatch(/^aes-/);
  });

  it('reports an unwritable location as ERR_IO (exit 1)', async () => {
    const r = await run(['keygen', 'aes', '--out', join('missing-dir', 'k.json')]);
    expectFailure(r, 'ERR_IO', 1);
    expect(existsSync(at('missing-dir'))).toBe(false);
  });
});

describe('encrypt and decrypt round trips', () => {
  it.each([0, 1, 16383, 16384, 16385, 100_000])('%i bytes via files', async (n) => {
    const k = await newKey('k.json');
    const plain = pseudoRandom(n, n + 1);
    const sealed = await encryptFile(plain, [k]);
    expect(sealed.subarray(0, 6).toString()).toBe('enseal');
    expect(sealed.length).toBeGreaterThan(n + 72);
    expect(sealed.indexOf(Buffer.from(k.base64, 'base64'))).toBe(-1);
    expect(sealed.indexOf(Buffer.from(k.base64))).toBe(-1);
    const r = await run(['decrypt', '--key', k.path, 'sealed', 'out']);
    expectSuccess(r);
    expect(r.stdout.length).toBe(0);
    expect(readFileSync(at('out'))).toEqual(Buffer.from(plain));
    expect(statSync(at('out')).mode & 0o777).toBe(0o600);
    expect(leftovers()).toEqual([]);
  });

  it('about 3 MiB via pipes (stdin to stdout), both ways', async () => {
    const k = await newKey('k.json');
    const plain = pseudoRandom(3 * 1024 * 1024 + 123, 7);
    const enc = await run(['encrypt', '--key', k.path, '-', '-'], plain);
    expectSuccess(enc);
    expect(enc.stdout.length).toBeGreaterThan(plain.length);
    const dec = await run(['decrypt', '--key', k.path, '-', '-'], enc.stdout);
    expectSuccess(dec);
    expect(dec.stdout.equals(Buffer.from(plain))).toBe(true);
    expect(readdirSync(dir)).toEqual(['k.json']);
  });

  it('mixes files and pipes: file to stdout, stdin to file', async () => {
    const k = await newKey('k.json');
    const plain = pseudoRandom(50_000, 3);
    await encryptFile(plain, [k]);
    const toStdout = await run(['decrypt', '--key', k.path, 'sealed', '-']);
    expectSuccess(toStdout);
    expect(toStdout.stdout.equals(Buffer.from(plain))).toBe(true);
    const fromStdin = await run(['decrypt', '--key', k.path, '-', 'out'], readFileSync(at('sealed')));
    expectSuccess(fromStdin);
    expect(readFileSync(at('out')).equals(Buffer.from(plain))).toBe(true);
  });

  it('replaces an existing OUT on success and leaves it untouched on failure', async () => {
    const k = await newKey('k.json');
    const other = await newKey('other.json');
    const plain = pseudoRandom(40_000, 9);
    await encryptFile(plain, [k]);
    writeFileSync(at('out'), 'previous content');
    expectFailure(await run(['decrypt', '--key', other.path, 'sealed', 'out']), 'ERR_NO_KEY', 1);
    expect(readFileSync(at('out'), 'utf8')).toBe('previous content');
    expectSuccess(await run(['decrypt', '--key', k.path, 'sealed', 'out']));
    expect(readFileSync(at('out')).equals(Buffer.from(plain))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('encrypting the same file onto itself works (the temporary file is renamed over it)', async () => {
    const k = await newKey('k.json');
    const plain = pseudoRandom(70_000, 4);
    writeFileSync(at('data'), plain);
    expectSuccess(await run(['encrypt', '--key', k.path, 'data', 'data']));
    expectSuccess(await run(['decrypt', '--key', k.path, 'data', 'data']));
    expect(readFileSync(at('data')).equals(Buffer.from(plain))).toBe(true);
  });

  it('a missing IN is ERR_IO (exit 1) and creates no OUT', async () => {
    const k = await newKey('k.json');
    const r = await run(['encrypt', '--key', k.path, 'no-such-file', 'out']);
    expectFailure(r, 'ERR_IO', 1);
    expect(existsSync(at('out'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('an OUT in a missing directory is ERR_IO (exit 1)', async () => {
    const k = await newKey('k.json');
    writeFileSync(at('plain'), 'hello');
    expectFailure(await run(['encrypt', '--key', k.path, 'plain', join('nope', 'out')]), 'ERR_IO', 1);
    expect(existsSync(at('nope'))).toBe(false);
  });
});

describe('recipients', () => {
  it('every --key of encrypt can decrypt alone; inspect lists them in order', async () => {
    const keys = [await newKey('a.json', 'alice'), await newKey('b.json', 'bob'), await newKey('c.json')];
    const plain = pseudoRandom(33_000, 5);
    await encryptFile(plain, keys);
    for (const k of keys) {
      const r = await run(['decrypt', '--key', k.path, 'sealed', '-']);
      expectSuccess(r);
      expect(r.stdout.equals(Buffer.from(plain))).toBe(true);
    }
    const info = JSON.parse((await run(['inspect', 'sealed'])).stdout.toString());
    expect(info.recipients.map((r: { keyId: string }) => r.keyId)).toEqual(['alice', 'bob', keys[2]!.id]);
  });

  it('64 recipients work; 65 are a usage error (exit 2) and leave no OUT', async () => {
    const keys = Array.from({ length: 65 }, (_, i) => writeKeyFile(`k${i}.json`, `key-${i}`, pseudoRandom(32, 1000 + i)));
    const plain = pseudoRandom(1000, 30);
    writeFileSync(at('plain'), plain);
    const tooMany = await run(['encrypt', ...keys.flatMap((k) => ['--key', k.path]), 'plain', 'sealed']);
    expectFailure(tooMany, 'ERR_USAGE', 2);
    expect(existsSync(at('sealed'))).toBe(false);
    expect(leftovers()).toEqual([]);
    await encryptFile(plain, keys.slice(0, 64));
    const r = await run(['decrypt', '--key', keys[63]!.path, 'sealed', '-']);
    expectSuccess(r);
    expect(r.stdout.equals(Buffer.from(plain))).toBe(true);
  });

  it('decrypt tries every --key: a non-matching key before the right one is fine', async () => {
    const k = await newKey('k.json');
    const stranger = await newKey('stranger.json');
    const plain = pseudoRandom(20_000, 6);
    await encryptFile(plain, [k]);
    const r = await run(['decrypt', '--key', stranger.path, '--key', k.path, 'sealed', '-']);
    expectSuccess(r);
    expect(r.stdout.equals(Buffer.from(plain))).toBe(true);
  });
});

describe('wrong key', () => {
  it('a key with another id: ERR_NO_KEY, exit 1, no OUT, no temporary file', async () => {
    const k = await newKey('k.json');
    const other = await newKey('other.json');
    await encryptFile(pseudoRandom(100_000, 8), [k]);
    const r = await run(['decrypt', '--key', other.path, 'sealed', 'out']);
    expectFailure(r, 'ERR_NO_KEY', 1);
    expect(existsSync(at('out'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('the same id with other key material: ERR_NO_KEY naming the failed unwrap, no OUT', async () => {
    const k = await newKey('k.json', 'shared-id');
    const impostor = writeKeyFile('impostor.json', 'shared-id', pseudoRandom(32, 99));
    await encryptFile(pseudoRandom(100_000, 8), [k]);
    const r = await run(['decrypt', '--key', impostor.path, 'sealed', 'out']);
    expectFailure(r, 'ERR_NO_KEY', 1);
    expect(r.stderr).toContain('ERR_AUTH');
    expect(r.stderr).toContain('shared-id');
    expect(existsSync(at('out'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });
});

describe('encryption context', () => {
  it('round-trips, and decrypt checks the expected pairs (mismatch: ERR_CONTEXT, exit 1)', async () => {
    const k = await newKey('k.json');
    const plain = pseudoRandom(30_000, 10);
    await encryptFile(plain, [k], ['--context', 'bucket=b1', '--context', 'path=a=b', '--context', 'empty=']);
    const info = JSON.parse((await run(['inspect', 'sealed'])).stdout.toString());
    expect(info.context).toEqual({ bucket: 'b1', path: 'a=b', empty: '' });

    for (const ctx of [[], ['--context', 'bucket=b1'], ['--context', 'path=a=b', '--context', 'bucket=b1']]) {
      const ok = await run(['decrypt', '--key', k.path, ...ctx, 'sealed', '-']);
      expectSuccess(ok);
      expect(ok.stdout.equals(Buffer.from(plain))).toBe(true);
    }
    for (const ctx of [['--context', 'bucket=b2'], ['--context', 'bucket=b1', '--context', 'owner=x'], ['--context', 'path=a']]) {
      const bad = await run(['decrypt', '--key', k.path, ...ctx, 'sealed', 'out']);
      expectFailure(bad, 'ERR_CONTEXT', 1);
      expect(existsSync(at('out'))).toBe(false);
      expect(leftovers()).toEqual([]);
    }
  });

  it('treats __proto__ as an ordinary context key', async () => {
    const k = await newKey('k.json');
    await encryptFile(pseudoRandom(100, 11), [k], ['--context', '__proto__=x']);
    const info = JSON.parse((await run(['inspect', 'sealed'])).stdout.toString());
    expect(Object.keys(info.context)).toEqual(['__proto__']);
    expectSuccess(await run(['decrypt', '--key', k.path, '--context', '__proto__=x', 'sealed', 'out']));
    expectFailure(await run(['decrypt', '--key', k.path, '--context', '__proto__=y', 'sealed', 'out2']), 'ERR_CONTEXT', 1);
  });

  it('applies the expected context to --range too', async () => {
    const k = await newKey('k.json');
    await encryptFile(pseudoRandom(1000, 12), [k], ['--context', 'a=1']);
    expectFailure(await run(['decrypt', '--key', k.path, '--context', 'a=2', '--range', '0-9', 'sealed', '-']), 'ERR_CONTEXT', 1);
  });
});

describe('--range', () => {
  const ranges: [string, number, number | undefined][] = [
    ['0-0', 0, 0],
    ['0-99', 0, 99],
    ['16380-16390', 16380, 16390],
    ['16384-32767', 16384, 32767],
    ['40000-40000', 40000, 40000],
    ['50000-', 50000, undefined],
    ['0-', 0, undefined],
    ['99999-', 99999, undefined],
    ['99990-1000000', 99990, undefined],
  ];

  it('writes exactly the requested plaintext bytes (inclusive end; START- to the end)', async () => {
    const k = await newKey('k.json');
    const plain = Buffer.from(pseudoRandom(100_000, 13));
    await encryptFile(plain, [k]);
    for (const [text, start, end] of ranges) {
      const r = await run(['decrypt', '--key', k.path, '--range', text, 'sealed', '-']);
      expectSuccess(r);
      expect(r.stdout.equals(plain.subarray(start, end === undefined ? undefined : end + 1)), text).toBe(true);
    }
    expectSuccess(await run(['decrypt', '--key', k.path, '--range', '16380-16390', 'sealed', 'part']));
    expect(readFileSync(at('part')).equals(plain.subarray(16380, 16391))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('streams ranges longer than its 1 MiB read window correctly', async () => {
    const k = await newKey('k.json');
    const plain = Buffer.from(pseudoRandom(3 * 1024 * 1024 + 77, 14));
    await encryptFile(plain, [k]);
    const cases: [string, number, number][] = [
      ['1000-3145000', 1000, 3145001],
      ['1048575-1048577', 1048575, 1048578],
      ['0-', 0, plain.length],
      ['2097152-', 2097152, plain.length],
    ];
    for (const [text, start, endExclusive] of cases) {
      const r = await run(['decrypt', '--key', k.path, '--range', text, 'sealed', 'part']);
      expectSuccess(r);
      expect(readFileSync(at('part')).equals(plain.subarray(start, endExclusive)), text).toBe(true);
    }
  });

  it('handles plaintexts that end exactly on a chunk and window boundary', async () => {
    const k = await newKey('k.json');
    const plain = Buffer.from(pseudoRandom(2 * 1024 * 1024, 31));
    await encryptFile(plain, [k]);
    const cases: [string, number][] = [['0-', 0], ['1048576-', 1048576], ['1048575-1048576', 1048575], ['2097151-', 2097151]];
    for (const [text, start] of cases) {
      const end = text.endsWith('-') ? plain.length : Number(text.split('-')[1]) + 1;
      const r = await run(['decrypt', '--key', k.path, '--range', text, 'sealed', '-']);
      expectSuccess(r);
      expect(r.stdout.equals(plain.subarray(start, end)), text).toBe(true);
    }
    expectFailure(await run(['decrypt', '--key', k.path, '--range', '2097152-', 'sealed', '-']), 'ERR_RANGE', 1);
  });

  it('a start at or past the end is ERR_RANGE (exit 1) with no OUT', async () => {
    const k = await newKey('k.json');
    await encryptFile(pseudoRandom(100_000, 15), [k]);
    for (const text of ['100000-', '100001-200000', '5000000-5000001']) {
      const r = await run(['decrypt', '--key', k.path, '--range', text, 'sealed', 'out']);
      expectFailure(r, 'ERR_RANGE', 1);
      expect(existsSync(at('out'))).toBe(false);
      expect(leftovers()).toEqual([]);
    }
  });

  it('any range of an empty plaintext is ERR_RANGE', async () => {
    const k = await newKey('k.json');
    await encryptFile(new Uint8Array(0), [k]);
    expectFailure(await run(['decrypt', '--key', k.path, '--range', '0-', 'sealed', '-']), 'ERR_RANGE', 1);
  });

  it('with a wrong key is ERR_NO_KEY', async () => {
    const k = await newKey('k.json');
    const other = await newKey('other.json');
    await encryptFile(pseudoRandom(1000, 16), [k]);
    const r = await run(['decrypt', '--key', other.path, '--range', '0-9', 'sealed', 'out']);
    expectFailure(r, 'ERR_NO_KEY', 1);
    expect(existsSync(at('out'))).toBe(false);
  });

  it('needs IN to be a regular file', async () => {
    const k = await newKey('k.json');
    mkdirSync(at('adir'));
    expectFailure(await run(['decrypt', '--key', k.path, '--range', '0-9', 'adir', 'out']), 'ERR_USAGE', 2);
  });
});

describe('damaged ciphertext', () => {
  async function sealedWithFlip(flipAt: (sealed: Buffer) => number): Promise<{ key: KeyInfo; plain: Buffer }> {
    const key = await newKey('k.json');
    const plain = Buffer.from(pseudoRandom(200_000, 17));
    const sealed = await encryptFile(plain, [key]);
    const i = flipAt(sealed);
    sealed[i] = (sealed[i] as number) ^ 0x01;
    writeFileSync(at('sealed'), sealed);
    return { key, plain };
  }
  const middleOfPayload = (s: Buffer): number => headerLength(s) + Math.floor((s.length - headerLength(s)) / 2);

  it('a flipped byte in the middle of the payload: ERR_AUTH, exit 1, no OUT, no temporary file', async () => {
    const { key } = await sealedWithFlip(middleOfPayload);
    const r = await run(['decrypt', '--key', key.path, 'sealed', 'out']);
    expectFailure(r, 'ERR_AUTH', 1);
    expect(existsSync(at('out'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('to stdout: exit 1, and what was written is only an authenticated prefix of the plaintext', async () => {
    const { key, plain } = await sealedWithFlip(middleOfPayload);
    const r = await run(['decrypt', '--key', key.path, 'sealed', '-']);
    expectFailure(r, 'ERR_AUTH', 1);
    expect(r.stdout.length).toBeLessThan(plain.length / 2 + 16384);
    expect(r.stdout.length % 16384).toBe(0);
    expect(r.stdout.equals(plain.subarray(0, r.stdout.length))).toBe(true);
  });

  it('a flipped byte in a chunk a --range needs: ERR_AUTH', async () => {
    const { key } = await sealedWithFlip(middleOfPayload);
    expectFailure(await run(['decrypt', '--key', key.path, '--range', '90000-110000', 'sealed', 'out']), 'ERR_AUTH', 1);
    expect(existsSync(at('out'))).toBe(false);
  });

  it('a flipped byte in the header MAC: ERR_AUTH', async () => {
    const { key } = await sealedWithFlip((s) => headerLength(s) - 1);
    expectFailure(await run(['decrypt', '--key', key.path, 'sealed', 'out']), 'ERR_AUTH', 1);
  });

  it('truncated at a chunk boundary: ERR_TRUNCATED (stream and --range), no OUT', async () => {
    const k = await newKey('k.json');
    const sealed = await encryptFile(pseudoRandom(100_000, 18), [k]);
    writeFileSync(at('cut'), sealed.subarray(0, headerLength(sealed) + 56 + 2 * 16400));
    expectFailure(await run(['decrypt', '--key', k.path, 'cut', 'out']), 'ERR_TRUNCATED', 1);
    expectFailure(await run(['decrypt', '--key', k.path, '--range', '0-9', 'cut', 'out']), 'ERR_TRUNCATED', 1);
    expectFailure(await run(['decrypt', '--key', k.path, '-', '-'], sealed.subarray(0, headerLength(sealed) + 56 + 16400)), 'ERR_TRUNCATED', 1);
    expect(existsSync(at('out'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('truncated inside the header, or empty: ERR_TRUNCATED', async () => {
    const k = await newKey('k.json');
    const sealed = await encryptFile(pseudoRandom(1000, 19), [k]);
    expectFailure(await run(['decrypt', '--key', k.path, '-', 'out'], sealed.subarray(0, 20)), 'ERR_TRUNCATED', 1);
    expectFailure(await run(['decrypt', '--key', k.path, '-', 'out'], new Uint8Array(0)), 'ERR_TRUNCATED', 1);
    expect(existsSync(at('out'))).toBe(false);
  });

  it('not an enseal object: ERR_HEADER', async () => {
    const k = await newKey('k.json');
    writeFileSync(at('junk'), 'this is not an enseal object at all');
    expectFailure(await run(['decrypt', '--key', k.path, 'junk', 'out']), 'ERR_HEADER', 1);
    expectFailure(await run(['inspect', 'junk']), 'ERR_HEADER', 1);
  });
});

describe('key files', () => {
  const valid = Buffer.from(pseudoRandom(32, 21)).toString('base64');
  const b64 = (n: number): string => Buffer.from(pseudoRandom(n, 22)).toString('base64');
  const json = (o: unknown): string => JSON.stringify(o);
  const cases: [string, string | Buffer][] = [
    ['invalid JSON quoting the key', `{"type":"aes256","id":"k","key":"${valid}"`],
    ['a JSON array', json([valid])],
    ['a JSON string', json(valid)],
    ['JSON null', 'null'],
    ['the wrong type', json({ type: 'aes128', id: 'k', key: valid })],
    ['no type', json({ id: 'k', key: valid })],
    ['no id', json({ type: 'aes256', key: valid })],
    ['an empty id', json({ type: 'aes256', id: '', key: valid })],
    ['a numeric id', json({ type: 'aes256', id: 7, key: valid })],
    ['an id with a lone surrogate', `{"type":"aes256","id":"k\\ud800","key":"${valid}"}`],
    ['an id over 2048 bytes', json({ type: 'aes256', id: 'é'.repeat(1025), key: valid })],
    ['no key', json({ type: 'aes256', id: 'k' })],
    ['a numeric key', json({ type: 'aes256', id: 'k', key: 12345 })],
    ['a key that is not base64', json({ type: 'aes256', id: 'k', key: `${valid.slice(0, 40)}!!!=` })],
    ['a key without padding', json({ type: 'aes256', id: 'k', key: valid.replace(/=+$/, '') })],
    ['a key in base64url', json({ type: 'aes256', id: 'k', key: valid.replace(/\+/g, '-').replace(/\//g, '_') })],
    ['a key with whitespace', json({ type: 'aes256', id: 'k', key: `${valid.slice(0, 20)} ${valid.slice(20)}` })],
    ['a 31-byte key', json({ type: 'aes256', id: 'k', key: b64(31) })],
    ['a 33-byte key', json({ type: 'aes256', id: 'k', key: b64(33) })],
    ['a 16-byte key', json({ type: 'aes256', id: 'k', key: b64(16) })],
    ['an extra field', json({ type: 'aes256', id: 'k', key: valid, created: '2026-01-01' })],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from(`{"type":"aes256","id":"`), Buffer.from([0xff, 0xfe]), Buffer.from(`","key":"${valid}"}`)])],
    ['an oversized file', json({ type: 'aes256', id: 'k', key: valid }) + ' '.repeat(70_000)],
  ];

  it.each(cases)('%s: ERR_KEYFILE, exit 2, key never printed, no OUT', async (_name, content) => {
    for (const s of [valid, b64(31), b64(33), b64(16)]) rememberSecret(s);
    writeFileSync(at('bad.json'), content);
    writeFileSync(at('plain'), 'hello');
    const r = await run(['encrypt', '--key', 'bad.json', 'plain', 'out']);
    expectFailure(r, 'ERR_KEYFILE', 2);
    expect(r.stderr).toContain('bad.json');
    expect(existsSync(at('out'))).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('a missing or unreadable key file: ERR_KEYFILE, exit 2', async () => {
    writeFileSync(at('plain'), 'hello');
    expectFailure(await run(['encrypt', '--key', 'missing.json', 'plain', 'out']), 'ERR_KEYFILE', 2);
    mkdirSync(at('a-directory'));
    expectFailure(await run(['decrypt', '--key', 'a-directory', 'plain', 'out']), 'ERR_KEYFILE', 2);
    expect(existsSync(at('out'))).toBe(false);
  });

  it('a hand-written valid key file works', async () => {
    const k = writeKeyFile('hand.json', 'hand-made', pseudoRandom(32, 23));
    const plain = pseudoRandom(5000, 24);
    await encryptFile(plain, [k]);
    const r = await run(['decrypt', '--key', k.path, 'sealed', '-']);
    expectSuccess(r);
    expect(r.stdout.equals(Buffer.from(plain))).toBe(true);
  });
});

describe('inspect', () => {
  it('prints the header as JSON: recipients by key id, context, sizes, and no key material', async () => {
    const a = await newKey('a.json', 'alpha');
    const b = await newKey('b.json');
    const plain = pseudoRandom(100_000, 25);
    const sealed = await encryptFile(plain, [a, b], ['--context', 'bucket=photos']);
    const r = await run(['inspect', 'sealed']);
    expectSuccess(r);
    const text = r.stdout.toString();
    const info = JSON.parse(text);
    expect(text).toBe(`${JSON.stringify(info, null, 2)}\n`);
    expect(info.format).toBe('enseal');
    expect(info.authenticated).toBe(false);
    expect(info.context).toEqual({ bucket: 'photos' });
    expect(info.recipients).toEqual([
      { type: 'aes256-gcm', keyId: 'alpha', params: {}, wrappedKeyLength: 60 },
      { type: 'aes256-gcm', keyId: b.id, params: {}, wrappedKeyLength: 60 },
    ]);
    expect(info.headerLength).toBe(headerLength(sealed));
    expect(info.payload).toEqual({ ciphertextLength: sealed.length - headerLength(sealed), plaintextLength: plain.length, chunks: 7 });
  });

  it('reads stdin to the end and reports the same sizes', async () => {
    const k = await newKey('k.json');
    await encryptFile(pseudoRandom(300_000, 26), [k]);
    const fromFile = await run(['inspect', 'sealed']);
    const fromStdin = await run(['inspect', '-'], readFileSync(at('sealed')));
    expectSuccess(fromStdin);
    expect(JSON.parse(fromStdin.stdout.toString()).payload.plaintextLength).toBe(300_000);
    expect(fromStdin.stdout.equals(fromFile.stdout)).toBe(true);
  });

  it('a truncated header: ERR_TRUNCATED', async () => {
    const k = await newKey('k.json');
    const sealed = await encryptFile(pseudoRandom(10, 27), [k]);
    writeFileSync(at('cut'), sealed.subarray(0, headerLength(sealed) - 1));
    expectFailure(await run(['inspect', 'cut']), 'ERR_TRUNCATED', 1);
  });
});

describe('progress bar', () => {
  it('is shown only for a terminal and a regular file larger than 16 MiB', () => {
    expect(shouldShowProgress(true, PROGRESS_MIN_SIZE + 1)).toBe(true);
    expect(shouldShowProgress(true, 10 * PROGRESS_MIN_SIZE)).toBe(true);
    expect(shouldShowProgress(true, PROGRESS_MIN_SIZE)).toBe(false);
    expect(shouldShowProgress(true, 0)).toBe(false);
    expect(shouldShowProgress(true, undefined)).toBe(false);
    expect(shouldShowProgress(false, 10 * PROGRESS_MIN_SIZE)).toBe(false);
    expect(shouldShowProgress(undefined, 10 * PROGRESS_MIN_SIZE)).toBe(false);
  });

  it('formats percentage and MB/s', () => {
    expect(formatProgress(50_000_000, 100_000_000, 1000)).toBe('enseal:  50.0%    50.0 MB/s');
    expect(formatProgress(0, 100, 0)).toBe('enseal:   0.0%     0.0 MB/s');
    expect(formatProgress(100, 100, 2000)).toContain('100.0%');
  });

  it('passes data through, redraws at most every 100 ms, and clears the line at the end', async () => {
    let t = 0;
    const drawn: string[] = [];
    const meter = progressStream(64 * 1000, (s) => drawn.push(s), () => t);
    const sink = new PassThrough();
    const out: Buffer[] = [];
    sink.on('data', (b: Buffer) => out.push(b));
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 64; i++) {
        t += 20; // 64 chunks over 1.28 s
        yield Buffer.alloc(1000, i);
      }
    }
    await pipeline(Readable.from(chunks()), meter, sink);
    expect(Buffer.concat(out).length).toBe(64 * 1000);
    expect(Buffer.concat(out)[63 * 1000]).toBe(63);
    const draws = drawn.filter((s) => s !== CLEAR_LINE);
    expect(draws.length).toBeGreaterThanOrEqual(10);
    expect(draws.length).toBeLessThanOrEqual(13);
    expect(draws[0]).toMatch(/^\renseal: +\d+\.\d% +\d+\.\d MB\/s\x1b\[K$/);
    expect(drawn.at(-1)).toBe(CLEAR_LINE);
  });

  it('is never drawn when stderr is not a terminal, even for a large file', async () => {
    const k = await newKey('k.json');
    writeFileSync(at('big'), Buffer.alloc(PROGRESS_MIN_SIZE + 1024 * 1024, 1));
    const r = await run(['encrypt', '--key', k.path, 'big', 'big.enseal']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(statSync(at('big.enseal')).size).toBeGreaterThan(PROGRESS_MIN_SIZE);
  });
});

describe('interruption', () => {
  it('SIGINT removes the temporary file and creates no OUT', async () => {
    const k = await newKey('k.json');
    const child = spawn(process.execPath, [BIN, 'encrypt', '--key', k.path, '-', 'out'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    child.stdin.write(Buffer.from(pseudoRandom(200_000, 28))); // stdin stays open: the CLI waits for more
    const deadline = Date.now() + 20_000;
    while (leftovers().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(leftovers()).toHaveLength(1);
    expect(statSync(at(leftovers()[0]!)).mode & 0o777).toBe(0o600);
    child.kill('SIGINT');
    const [, signal] = await exited;
    expect(signal).toBe('SIGINT');
    expect(leftovers()).toEqual([]);
    expect(existsSync(at('out'))).toBe(false);
    expect(stderr).toBe('');
  });
});

describe('argument parsing and error classification (units)', () => {
  it('parses long options in both forms, repeated keys, and -- before positionals', () => {
    expect(parseArgs(['decrypt', '--key=a.json', '--key', 'b.json', '--context', 'x=1=2', '--range', '5-', '--', '-in', '-'])).toEqual({
      kind: 'decrypt',
      keys: [
        { kind: 'key-file', path: 'a.json' },
        { kind: 'key-file', path: 'b.json' },
      ],
      legacyRsa: false,
      kmsDiscovery: false,
      kmsStore: undefined,
      context: { x: '1=2' },
      range: { start: 5 },
      force: false,
      input: '-in',
      output: '-',
    });
    expect(parseArgs(['keygen', 'aes', '--out', 'k.json'])).toEqual({ kind: 'keygen', type: 'aes', out: 'k.json', id: undefined });
    expect(parseRange('7-7')).toEqual({ start: 7, end: 7 });
    expect(() => parseArgs(['encrypt', '--key', 'k', '--context', 'a', 'i', 'o'])).toThrow(CliError);
  });

  it('maps errors to codes and exit statuses', () => {
    expect(describeFailure(new EnsealError('ERR_AUTH', 'chunk 3 failed authentication', { chunk: 3 }))).toEqual({
      code: 'ERR_AUTH',
      message: 'chunk 3 failed authentication: IN is damaged (tampered or truncated)',
      details: [],
      exitCode: 1,
    });
    expect(describeFailure(new CliError('ERR_KEYFILE', 'bad')).exitCode).toBe(2);
    expect(describeFailure(new CliError('ERR_USAGE', 'bad')).exitCode).toBe(2);
    expect(describeFailure(new CliError('ERR_EXISTS', 'there')).exitCode).toBe(1);
    const enoent = Object.assign(new Error('ENOENT: no such file or directory, open \'x\''), { code: 'ENOENT', syscall: 'open' });
    expect(describeFailure(enoent)).toMatchObject({ code: 'ERR_IO', exitCode: 1 });
    expect(describeFailure(new RangeError('too long'))).toMatchObject({ code: 'ERR_USAGE', exitCode: 2 });
    expect(describeFailure(new Error('boom\nsecond line'))).toEqual({ code: 'ERR_INTERNAL', message: 'boom second line', details: [], exitCode: 1 });
  });
});
