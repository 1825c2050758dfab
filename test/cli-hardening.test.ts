/**
 * CLI hardening, end to end (spawning `node bin/enseal.js`, the build in dist/):
 *
 * - OUT that is not a regular file: a character device made with mknod (and /dev/null itself),
 *   a FIFO, a Unix socket — written in place, never replaced; a symbolic link — refused, or
 *   followed with --force (the target written atomically, the link kept); a regular file —
 *   replaced atomically (a new inode);
 * - terminal safety: hostile key ids, context values and passphrase labels (ESC [2K, CR, BEL,
 *   C1 0x9b, U+202E) never reach stdout or stderr raw, in inspect, decrypt, rewrap and rotate;
 * - ciphertext refused on a terminal (a real pseudo-terminal from util-linux `script`) unless
 *   --force; EPIPE (`| head -c 1`) ends quietly with status 0;
 * - errors a user can act on: too short / not enseal / tampered or truncated, the causes of
 *   ERR_NO_KEY one per line, library argument errors in flag language, bad values echoed
 *   (escaped), the key-file permission warning;
 * - `--range -N`, `--kdf pbkdf2` / `pbkdf2-sha256`, subcommand help, `--legacy`, KMS strict
 *   and discovery modes, and `rotate`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { publicEncrypt, constants as cryptoConstants } from 'node:crypto';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/args.js';
import { helpText } from '../src/cli/command-help.js';
import { describeFailure, formatFailure } from '../src/cli/failure.js';
import { inFlagLanguage } from '../src/cli/flag-language.js';
import { formatKeyJson, formatKeyTable } from '../src/cli/kms-command.js';
import { keyFileModeWarning } from '../src/cli/key-permissions.js';
import { parseRange } from '../src/cli/range-args.js';
import { quoted, safeJson, terminalSafe } from '../src/cli/terminal-text.js';
import { EnsealError } from '../src/errors.js';
import { encrypt, passphrase, type KeyProvider } from '../src/index.js';
import { pseudoRandom } from './helpers.js';
import { BIN, Sandbox, expectFailure, expectSuccess, headerLength, payloadOf, recipientIds, requireBuild, type RunResult } from './cli-harness.js';

/** Every kind of terminal-interpreted character the review named, in one string. */
const EVIL = 'ev\x1b[2K\rOK\x07\u009b31m\u202eil';
/** Characters that must never be printed raw (newline excepted, between lines). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const FAST = ['--kdf-cost', 'm=8,t=1,p=1'];

let sb: Sandbox;
beforeAll(requireBuild);
beforeEach(() => {
  sb = new Sandbox();
});
afterEach(() => sb.cleanup());

function expectTerminalSafe(text: string, what: string): void {
  const m = RAW_CONTROL.exec(text);
  expect(m === null, `${what} holds raw U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')}: ${JSON.stringify(text.slice(0, 300))}`).toBe(true);
}

/** Both streams of a run are terminal-safe (stdout only when it is text, not ciphertext). */
function expectSafeRun(r: RunResult, what: string, stdoutIsText = true): void {
  expectTerminalSafe(r.stderr, `${what} stderr`);
  if (stdoutIsText) expectTerminalSafe(r.stdout.toString('utf8'), `${what} stdout`);
}

/** Writes an AES key file (mode 0600 unless told) and registers its key as a secret. */
function keyFile(name: string, id: string, seed: number, mode = 0o600): Uint8Array {
  const key = pseudoRandom(32, seed);
  sb.secretBytes(key);
  writeFileSync(sb.at(name), JSON.stringify({ type: 'aes256', id, key: Buffer.from(key).toString('base64') }), { mode });
  chmodSync(sb.at(name), mode); // the umask does not apply
  return key;
}

function plainFile(n: number, seed: number, name = 'plain'): Buffer {
  const plain = Buffer.from(pseudoRandom(n, seed));
  writeFileSync(sb.at(name), plain);
  return plain;
}

async function sealedWith(n: number, seed: number, args: string[], env?: Record<string, string>): Promise<Buffer> {
  const plain = plainFile(n, seed);
  expectSuccess(await sb.run(['encrypt', ...args, 'plain', 'sealed'], { env }));
  return plain;
}

/** Runs a shell command line (bash) in the sandbox; resolves with status and output. */
function sh(script: string, env: Record<string, string> = sb.env): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: sb.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(out), err: Buffer.concat(err).toString() });
    });
  });
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const cli = (args: readonly string[]): string => [process.execPath, BIN, ...args].map(q).join(' ');

/** Runs the CLI under a pseudo-terminal (stdin, stdout and stderr are the pty). */
function underTerminal(args: readonly string[]): Promise<{ code: number | null; out: Buffer; err: string }> {
  return sh(`script -qec ${q(cli(args))} /dev/null`);
}

describe('OUT that is not a regular file', () => {
  it('a character device (mknod c 1 3 in a temp dir) is written in place: still the same device, nothing else created', async () => {
    keyFile('k.json', 'k', 1);
    await sealedWith(50_000, 2, ['--key', 'k.json']);
    execFileSync('mknod', [sb.at('null-copy'), 'c', '1', '3']);
    const before = lstatSync(sb.at('null-copy'));
    const entries = readdirSync(sb.dir).sort();
    expectSuccess(await sb.run(['decrypt', '--key', 'k.json', 'sealed', 'null-copy']));
    expectSuccess(await sb.run(['encrypt', '--key', 'k.json', 'plain', 'null-copy']));
    const after = lstatSync(sb.at('null-copy'));
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev, after.mode]).toEqual([before.ino, before.rdev, before.mode]);
    expect(readdirSync(sb.dir).sort()).toEqual(entries);
  });

  it('/dev/null itself is never replaced (and never chmod-ed)', async () => {
    keyFile('k.json', 'k', 3);
    await sealedWith(40_000, 4, ['--key', 'k.json']);
    const before = lstatSync('/dev/null');
    expectSuccess(await sb.run(['decrypt', '--key', 'k.json', 'sealed', '/dev/null']));
    expectSuccess(await sb.run(['rewrap', '--key', 'k.json', '--add-key', 'k.json', 'sealed', '/dev/null']));
    const after = lstatSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev, after.mode, after.uid]).toEqual([before.ino, before.rdev, before.mode, before.uid]);
    expect(readdirSync('/dev').some((n) => n.includes('.enseal-tmp-'))).toBe(false);
  });

  it('a FIFO: its reader receives the bytes, and it is still a FIFO afterwards', async () => {
    keyFile('k.json', 'k', 5);
    const plain = await sealedWith(300_000, 6, ['--key', 'k.json']);
    execFileSync('mkfifo', [sb.at('pipe')]);
    const reader = spawn('cat', [sb.at('pipe')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const got: Buffer[] = [];
    reader.stdout.on('data', (b: Buffer) => got.push(b));
    const readerDone = new Promise<number | null>((resolve) => reader.on('close', resolve));
    const r = await sb.run(['decrypt', '--key', 'k.json', 'sealed', 'pipe']);
    expectSuccess(r);
    expect(await readerDone).toBe(0);
    expect(Buffer.concat(got).equals(plain)).toBe(true);
    expect(lstatSync(sb.at('pipe')).isFIFO()).toBe(true);
    expect(sb.leftovers()).toEqual([]);
  });

  it('a Unix socket: the CLI connects and writes the bytes; the socket stays', async () => {
    keyFile('k.json', 'k', 7);
    const plain = await sealedWith(100_000, 8, ['--key', 'k.json']);
    const got: Buffer[] = [];
    let ended!: () => void;
    const done = new Promise<void>((resolve) => (ended = resolve));
    const server = createServer((s: Socket) => {
      s.on('data', (b: Buffer) => got.push(b));
      s.on('end', () => ended());
    });
    await new Promise<void>((resolve) => server.listen(sb.at('sock'), resolve));
    try {
      expectSuccess(await sb.run(['decrypt', '--key', 'k.json', 'sealed', 'sock']));
      await done;
      expect(Buffer.concat(got).equals(plain)).toBe(true);
      expect(lstatSync(sb.at('sock')).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a symbolic link is refused without --force (naming the target and --force); link and target unchanged', async () => {
    keyFile('k.json', 'k', 9);
    await sealedWith(20_000, 10, ['--key', 'k.json']);
    writeFileSync(sb.at('target.bin'), 'old target');
    symlinkSync('target.bin', sb.at('link'));
    const r = await sb.run(['decrypt', '--key', 'k.json', 'sealed', 'link']);
    expectFailure(r, 'ERR_USAGE', 2);
    expect(r.stderr).toContain('--force');
    expect(r.stderr).toContain('"target.bin"');
    expect(lstatSync(sb.at('link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(sb.at('target.bin'), 'utf8')).toBe('old target');
    expect(sb.leftovers()).toEqual([]);
  });

  it('with --force a link is followed: the target (in another directory) is replaced atomically, the link stays a link', async () => {
    keyFile('k.json', 'k', 11);
    const plain = await sealedWith(70_000, 12, ['--key', 'k.json']);
    mkdirSync(sb.at('real'));
    writeFileSync(sb.at('real/target.bin'), 'old target');
    linkSync(sb.at('real/target.bin'), sb.at('old-copy')); // a second name keeps the old inode visible
    symlinkSync(join('real', 'target.bin'), sb.at('link'));
    const inode = statSync(sb.at('real/target.bin')).ino;
    expectSuccess(await sb.run(['decrypt', '--force', '--key', 'k.json', 'sealed', 'link']));
    expect(lstatSync(sb.at('link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(sb.at('link'))).toBe(join('real', 'target.bin'));
    expect(readFileSync(sb.at('real/target.bin')).equals(plain)).toBe(true);
    expect(statSync(sb.at('real/target.bin')).ino).not.toBe(inode); // renamed into place, not written over
    expect(readFileSync(sb.at('old-copy'), 'utf8')).toBe('old target');
    expect(readdirSync(sb.at('real'))).toEqual(['target.bin']);
    expect(sb.leftovers()).toEqual([]);
  });

  it('with --force a link to a device writes the device in place; a dangling link is ERR_IO', async () => {
    keyFile('k.json', 'k', 13);
    await sealedWith(10_000, 14, ['--key', 'k.json']);
    execFileSync('mknod', [sb.at('dev'), 'c', '1', '3']);
    symlinkSync('dev', sb.at('to-dev'));
    expectSuccess(await sb.run(['encrypt', '--force', '--key', 'k.json', 'plain', 'to-dev']));
    expect(lstatSync(sb.at('dev')).isCharacterDevice()).toBe(true);
    expect(lstatSync(sb.at('to-dev')).isSymbolicLink()).toBe(true);
    symlinkSync('nowhere', sb.at('dangling'));
    const r = await sb.run(['decrypt', '--force', '--key', 'k.json', 'sealed', 'dangling']);
    expectFailure(r, 'ERR_IO', 1);
    expect(existsSync(sb.at('nowhere'))).toBe(false);
  });

  it('a regular file is replaced atomically (new inode, mode 0600); a directory is ERR_IO', async () => {
    keyFile('k.json', 'k', 15);
    const plain = await sealedWith(30_000, 16, ['--key', 'k.json']);
    writeFileSync(sb.at('out'), 'previous', { mode: 0o644 });
    linkSync(sb.at('out'), sb.at('out-old'));
    const inode = statSync(sb.at('out')).ino;
    expectSuccess(await sb.run(['decrypt', '--key', 'k.json', 'sealed', 'out']));
    expect(readFileSync(sb.at('out')).equals(plain)).toBe(true);
    expect(statSync(sb.at('out')).ino).not.toBe(inode);
    expect(statSync(sb.at('out')).mode & 0o777).toBe(0o600);
    expect(readFileSync(sb.at('out-old'), 'utf8')).toBe('previous');
    mkdirSync(sb.at('adir'));
    const r = await sb.run(['decrypt', '--key', 'k.json', 'sealed', 'adir']);
    expectFailure(r, 'ERR_IO', 1);
    expect(r.stderr).toContain('directory');
    expect(sb.leftovers()).toEqual([]);
  });
});

describe('terminal safety: hostile strings are escaped in every message', () => {
  /** An object whose AES recipient has a hostile key id and whose context is hostile too. */
  async function hostileObject(): Promise<Buffer> {
    keyFile('evil.json', EVIL, 21);
    return sealedWith(40_000, 22, ['--key', 'evil.json', '--context', `${EVIL}=${EVIL}`, '--context', 'plain=ok']);
  }

  it('inspect prints JSON with \\uXXXX escapes that parse back to the hostile strings', async () => {
    await hostileObject();
    const r = await sb.run(['inspect', 'sealed']);
    expectSuccess(r);
    expectSafeRun(r, 'inspect');
    const info = JSON.parse(r.stdout.toString());
    expect(info.recipients[0].keyId).toBe(EVIL);
    expect(info.context[EVIL]).toBe(EVIL);
    expect(r.stdout.toString()).toContain('\\u009b');
    expect(r.stdout.toString()).toContain('\\u202e');
    expect(r.stdout.toString()).toContain('\\u001b[2K');
  });

  it('inspect of an object with a hostile passphrase label (built with the library)', async () => {
    const pw = passphrase({ passphrase: 'pw', label: EVIL, kdf: 'argon2id', params: { memoryKiB: 8, iterations: 1, parallelism: 1 } });
    writeFileSync(sb.at('sealed'), await encrypt(new Uint8Array(10), { recipients: [pw], context: { note: EVIL } }));
    pw.dispose();
    const r = await sb.run(['inspect', 'sealed']);
    expectSuccess(r);
    expectSafeRun(r, 'inspect');
    expect(JSON.parse(r.stdout.toString()).recipients[0].keyId).toBe(EVIL);
    const wrong = await sb.run(['decrypt', '--passphrase-env', 'PW', 'sealed', 'out'], { env: { PW: 'wrong' } });
    expectFailure(wrong, 'ERR_NO_KEY', 1);
    expectSafeRun(wrong, 'decrypt with a wrong passphrase');
  });

  it('decrypt: ERR_NO_KEY names the hostile recipient escaped, with its causes one per line', async () => {
    await hostileObject();
    keyFile('impostor.json', EVIL, 23); // same id, other key: an ERR_AUTH cause naming the id
    keyFile('other.json', `other${EVIL}`, 24);
    const r = await sb.run(['decrypt', '--key', 'impostor.json', '--key', 'other.json', 'sealed', 'out']);
    expectFailure(r, 'ERR_NO_KEY', 1);
    expectSafeRun(r, 'decrypt');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toContain('aes256-gcm');
    expect(lines[0]).toContain('\\x1b[2K\\rOK\\x07\\x9b31m\\u202eil');
    expect(lines.slice(1).every((l) => l.startsWith('enseal:   - '))).toBe(true);
    expect(lines.slice(1).some((l) => l.includes('ERR_AUTH'))).toBe(true);
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('decrypt: an expected hostile context key that does not match, and hostile flag values, are escaped', async () => {
    await hostileObject();
    const mismatch = await sb.run(['decrypt', '--key', 'evil.json', '--context', `${EVIL}=other`, 'sealed', 'out']);
    expectFailure(mismatch, 'ERR_CONTEXT', 1);
    expectSafeRun(mismatch, 'ERR_CONTEXT');
    for (const args of [
      ['decrypt', '--key', 'evil.json', '--range', EVIL, 'sealed', 'out'],
      ['encrypt', '--key', 'evil.json', '--context', EVIL, 'plain', 'out'],
      ['encrypt', '--passphrase-env', 'PW', '--kdf', EVIL, 'plain', 'out'],
      ['encrypt', '--kms', `${EVIL}:x`, 'plain', 'out'],
      [EVIL],
    ]) {
      const r = await sb.run(args, { env: { PW: 'x' } });
      expectFailure(r, 'ERR_USAGE', 2);
      expectSafeRun(r, args.join(' '));
      expect(r.stderr).toContain('\\x1b[2K'); // echoed, escaped
    }
  });

  it('a hostile key file name is escaped in ERR_KEYFILE', async () => {
    writeFileSync(sb.at(`bad${EVIL}`), 'not json');
    const r = await sb.run(['encrypt', '--key', `bad${EVIL}`, 'plain', 'out']);
    expectFailure(r, 'ERR_KEYFILE', 2);
    expectSafeRun(r, 'ERR_KEYFILE');
  });

  it('rewrap: --remove lists the hostile key ids escaped; a wrong key is escaped too', async () => {
    await hostileObject();
    keyFile('b.json', 'b', 25);
    const remove = await sb.run(['rewrap', '--key', 'evil.json', '--remove', `nobody${EVIL}`, 'sealed', 'out']);
    expectFailure(remove, 'ERR_USAGE', 2);
    expectSafeRun(remove, 'rewrap --remove');
    expect(remove.stderr).toContain('\\u202e');
    const wrong = await sb.run(['rewrap', '--key', 'b.json', '--add-key', 'b.json', 'sealed', 'out']);
    expectFailure(wrong, 'ERR_NO_KEY', 1);
    expectSafeRun(wrong, 'rewrap wrong key');
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('rotate: a wrong key is escaped; a successful rotate carries the hostile context over', async () => {
    await hostileObject();
    keyFile('b.json', 'b', 26);
    const wrong = await sb.run(['rotate', '--key', 'b.json', '--add-key', 'b.json', 'sealed', 'out']);
    expectFailure(wrong, 'ERR_NO_KEY', 1);
    expectSafeRun(wrong, 'rotate wrong key');
    const ok = await sb.run(['rotate', '--key', 'evil.json', '--add-key', 'b.json', 'sealed', 'rotated']);
    expectSuccess(ok);
    const info = await sb.run(['inspect', 'rotated']);
    expectSafeRun(info, 'inspect rotated');
    expect(JSON.parse(info.stdout.toString()).context).toEqual({ [EVIL]: EVIL, plain: 'ok' });
  });

  it('kms list: a hand-edited store is refused with an escaped message; the table and JSON escape every field', async () => {
    expectSuccess(await sb.run(['kms', 'create-key', '--alias', 'fine']));
    sb.secretStore();
    const store = JSON.parse(readFileSync(sb.env.ENSEAL_KMS_STORE as string, 'utf8'));
    store.keys[0].created = `2026${EVIL}`;
    writeFileSync(sb.env.ENSEAL_KMS_STORE as string, JSON.stringify(store), { mode: 0o600 });
    for (const args of [['kms', 'list'], ['kms', 'list', '--json']]) {
      const r = await sb.run(args);
      expectFailure(r, 'ERR_KMS_UNAVAILABLE', 1);
      expectSafeRun(r, args.join(' '));
    }
    const info = { id: EVIL, alias: EVIL, created: EVIL, enabled: true, primaryVersion: 1, versions: [{ version: 1, created: EVIL }] };
    expectTerminalSafe(formatKeyTable([info]), 'kms list table');
    const json = formatKeyJson([info]);
    expectTerminalSafe(json, 'kms list --json');
    expect(JSON.parse(json)[0]).toMatchObject({ id: EVIL, alias: EVIL, created: EVIL });
  });
});

describe('ciphertext on a terminal (a pseudo-terminal from script)', () => {
  it('encrypt, rewrap and rotate to "-" (or /dev/tty) refuse a terminal; --force writes; decrypt to a terminal is allowed', async () => {
    keyFile('k.json', 'k', 31);
    writeFileSync(sb.at('plain'), 'hello terminal\n');
    expectSuccess(await sb.run(['encrypt', '--key', 'k.json', 'plain', 'sealed']));
    for (const args of [
      ['encrypt', '--key', 'k.json', 'plain', '-'],
      ['rewrap', '--key', 'k.json', '--add-key', 'k.json', 'sealed', '-'],
      ['rotate', '--key', 'k.json', '--add-key', 'k.json', 'sealed', '-'],
    ]) {
      const refused = await underTerminal(args);
      expect(refused.code, refused.out.toString('latin1')).toBe(2);
      expect(refused.out.toString('latin1')).toContain('refusing to write ciphertext to a terminal');
      expect(refused.out.toString('latin1')).toContain('--force');
      expect(refused.out.includes(Buffer.from('enseal\x01'))).toBe(false);
      const forced = await underTerminal([args[0]!, '--force', ...args.slice(1)]);
      expect(forced.code, forced.out.toString('latin1')).toBe(0);
      expect(forced.out.toString('latin1')).toContain('enseal');
    }
    const device = await underTerminal(['encrypt', '--key', 'k.json', 'plain', '/dev/tty']);
    expect(device.code, device.out.toString('latin1')).toBe(2);
    expect(device.out.toString('latin1')).toContain('refusing to write ciphertext to the terminal "/dev/tty"');
    const forcedDevice = await underTerminal(['encrypt', '--force', '--key', 'k.json', 'plain', '/dev/tty']);
    expect(forcedDevice.code).toBe(0);
    expect(forcedDevice.out.toString('latin1')).toContain('enseal');
    const shown = await underTerminal(['decrypt', '--key', 'k.json', 'sealed', '-']);
    expect(shown.code).toBe(0);
    expect(shown.out.toString()).toContain('hello terminal');
  });
});

describe('a reader that goes away (EPIPE)', () => {
  it('decrypt … - | head -c 1 exits 0 without a word on stderr; the byte is the first plaintext byte', async () => {
    keyFile('k.json', 'k', 41);
    const plain = await sealedWith(4 * 1024 * 1024, 42, ['--key', 'k.json']);
    for (const args of [
      ['decrypt', '--key', 'k.json', 'sealed', '-'],
      ['decrypt', '--key', 'k.json', '--range', '0-', 'sealed', '-'],
      ['encrypt', '--key', 'k.json', 'plain', '-'],
      ['rotate', '--key', 'k.json', '--add-key', 'k.json', 'sealed', '-'],
    ]) {
      const r = await sh(`set -o pipefail; ${cli(args)} 2>err.txt | head -c 1 > first.bin`);
      expect(r.code, readFileSync(sb.at('err.txt'), 'utf8')).toBe(0);
      expect(readFileSync(sb.at('err.txt'), 'utf8')).toBe('');
      const first = readFileSync(sb.at('first.bin'));
      expect(first.length).toBe(1);
      if (args[0] === 'decrypt') expect(first[0]).toBe(plain[0]);
      else expect(first.toString()).toBe('e'); // "enseal"
    }
  });
});

describe('errors a user can act on', () => {
  it('too short, not an enseal object, truncated mid-chunk, truncated at a chunk boundary', async () => {
    keyFile('k.json', 'k', 51);
    await sealedWith(100_000, 52, ['--key', 'k.json']);
    const sealed = readFileSync(sb.at('sealed'));
    writeFileSync(sb.at('empty'), '');
    writeFileSync(sb.at('short'), sealed.subarray(0, 5));
    writeFileSync(sb.at('junk'), 'PK\x03\x04 this is a zip, not an enseal object');
    writeFileSync(sb.at('cut-mid'), sealed.subarray(0, headerLength(sealed) + 56 + 16400 + 5000));
    writeFileSync(sb.at('cut-edge'), sealed.subarray(0, headerLength(sealed) + 56 + 2 * 16400));
    for (const [file, code, text] of [
      ['empty', 'ERR_TRUNCATED', 'too short to be an enseal object'],
      ['short', 'ERR_TRUNCATED', 'too short to be an enseal object'],
      ['junk', 'ERR_HEADER', 'not an enseal object'],
      ['cut-mid', 'ERR_AUTH', 'tampered or truncated'],
      ['cut-edge', 'ERR_TRUNCATED', 'tampered or truncated'],
    ] as const) {
      const r = await sb.run(['decrypt', '--key', 'k.json', file, 'out']);
      expectFailure(r, code, 1);
      expect(r.stderr, file).toContain(text);
    }
    const inspected = await sb.run(['inspect', 'junk']);
    expectFailure(inspected, 'ERR_HEADER', 1);
    expect(inspected.stderr).toContain('not an enseal object');
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('library argument errors speak in flags: too many recipients, an over-long or reserved --context', async () => {
    const keys = Array.from({ length: 65 }, (_, i) => {
      keyFile(`k${i}.json`, `key-${i}`, 100 + i);
      return ['--key', `k${i}.json`];
    }).flat();
    plainFile(10, 53);
    const many = await sb.run(['encrypt', ...keys, 'plain', 'out']);
    expectFailure(many, 'ERR_USAGE', 2);
    expect(many.stderr).toContain('--key');
    expect(many.stderr).not.toContain('"recipients"');
    const long = await sb.run(['encrypt', '--key', 'k0.json', '--context', `v=${'x'.repeat(5000)}`, 'plain', 'out']);
    expectFailure(long, 'ERR_USAGE', 2);
    expect(long.stderr).toContain('--context');
    expect(long.stderr).not.toMatch(/encryption context value/);
    expect(existsSync(sb.at('out'))).toBe(false);
  });

  it('a key file readable by group or others gets a warning naming chmod 600 (not an error); 0600 gets none', async () => {
    keyFile('open.json', 'open', 54, 0o644);
    keyFile('closed.json', 'closed', 55, 0o600);
    plainFile(1000, 56);
    const warned = await sb.run(['encrypt', '--key', 'open.json', 'plain', 'sealed']);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toBe('enseal: warning: key file "open.json" is accessible by group or others (mode 0644); run: chmod 600 "open.json"\n');
    expect(existsSync(sb.at('sealed'))).toBe(true);
    expectSuccess(await sb.run(['encrypt', '--key', 'closed.json', 'plain', 'sealed2']));
    const rsa = await sb.run(['keygen', 'rsa', '--out', 'r.pem', '--bits', '2048']);
    expectSuccess(rsa);
    sb.secretPem(sb.at('r.pem'));
    chmodSync(sb.at('r.pem'), 0o640);
    expectSuccess(await sb.run(['encrypt', '--rsa-public', 'r.pem.pub', 'plain', 'rsa.enseal'])); // a public key: no warning
    const dec = await sb.run(['decrypt', '--rsa-private', 'r.pem', 'rsa.enseal', '-']);
    expect(dec.code).toBe(0);
    expect(dec.stderr).toMatch(/^enseal: warning: key file "r\.pem" is accessible by group or others \(mode 0640\); run: chmod 600 "r\.pem"\n$/);
  });
});

describe('--range -N, --kdf names, subcommand help', () => {
  it('--range -N writes the last N bytes (all of a shorter plaintext); START- and START-END still work', async () => {
    keyFile('k.json', 'k', 61);
    const plain = await sealedWith(100_000, 62, ['--key', 'k.json']);
    for (const n of [1, 10, 16384, 16385, 99_999, 100_000, 250_000]) {
      const r = await sb.run(['decrypt', '--key', 'k.json', '--range', `-${n}`, 'sealed', '-']);
      expectSuccess(r);
      expect(r.stdout.equals(plain.subarray(Math.max(0, plain.length - n))), `-${n}`).toBe(true);
    }
    for (const [text, start, end] of [['99990-', 99_990, undefined], ['5-9', 5, 10]] as const) {
      const r = await sb.run(['decrypt', '--key', 'k.json', '--range', text, 'sealed', '-']);
      expectSuccess(r);
      expect(r.stdout.equals(plain.subarray(start, end))).toBe(true);
    }
    expectSuccess(await sb.run(['decrypt', '--key', 'k.json', '--range', '-20000', 'sealed', 'tail.bin']));
    expect(readFileSync(sb.at('tail.bin')).equals(plain.subarray(80_000))).toBe(true);
    for (const bad of ['-0', '--5', '-', '5-3', 'x', '-1-2']) {
      const r = await sb.run(['decrypt', '--key', 'k.json', '--range', bad, 'sealed', 'out']);
      expectFailure(r, 'ERR_USAGE', 2);
      expect(r.stderr).toContain('--range');
    }
  });

  it('--range -N of an empty plaintext is ERR_RANGE', async () => {
    keyFile('k.json', 'k', 63);
    await sealedWith(0, 64, ['--key', 'k.json']);
    expectFailure(await sb.run(['decrypt', '--key', 'k.json', '--range', '-5', 'sealed', '-']), 'ERR_RANGE', 1);
  });

  it('--kdf pbkdf2 and --kdf pbkdf2-sha256 are both accepted', async () => {
    sb.secret('range passphrase');
    const env = { PW: 'range passphrase' };
    for (const name of ['pbkdf2', 'pbkdf2-sha256']) {
      const plain = await sealedWith(2000, 65, ['--passphrase-env', 'PW', '--kdf', name, '--kdf-cost', 'i=10000'], env);
      const info = JSON.parse((await sb.run(['inspect', 'sealed'])).stdout.toString());
      expect(info.recipients[0].params).toMatchObject({ kdf: 'pbkdf2-sha256', i: '10000' });
      const r = await sb.run(['decrypt', '--passphrase-env', 'PW', 'sealed', '-'], { env });
      expectSuccess(r);
      expect(r.stdout.equals(plain)).toBe(true);
    }
  });

  it.each([
    ['encrypt', ['encrypt', '--help'], 'enseal encrypt'],
    ['decrypt', ['decrypt', '-h'], 'enseal decrypt'],
    ['decrypt with other arguments', ['decrypt', '--key', 'k', '--help', 'in', 'out'], 'enseal decrypt'],
    ['rewrap', ['rewrap', '--help'], 'enseal rewrap'],
    ['rotate', ['rotate', '-h'], 'enseal rotate'],
    ['inspect', ['inspect', '--help'], 'enseal inspect'],
    ['keygen', ['keygen', 'rsa', '--help'], 'enseal keygen'],
    ['kms', ['kms', 'list', '--help'], 'enseal kms'],
    ['help rotate', ['help', 'rotate'], 'enseal rotate'],
  ])('%s --help prints that command\'s help only and exits 0', async (_name, args, synopsis) => {
    const r = await sb.run(args);
    expectSuccess(r);
    const text = r.stdout.toString();
    expect(text.startsWith(`Usage:\n  ${synopsis}`)).toBe(true);
    const others = ['enseal encrypt', 'enseal decrypt', 'enseal rewrap', 'enseal rotate', 'enseal inspect', 'enseal keygen', 'enseal kms'].filter((s) => !synopsis.startsWith(s));
    for (const other of others) expect(text.split('\n').filter((l) => l.startsWith(`  ${other}`))).toEqual([]);
    expect(text.length).toBeLessThan(helpText(undefined).length);
  });

  it('the full help explains rotate vs rewrap, the new flags and the output rules', async () => {
    const r = await sb.run(['--help']);
    expectSuccess(r);
    const text = r.stdout.toString();
    for (const s of ['enseal rotate', '--force', '--legacy', '--kms-discovery', '-N', 'pbkdf2-sha256', 'symbolic link', 'FIFO', 'ENSEAL_VAULT_DERIVED']) expect(text).toContain(s);
    expect(text).toMatch(/rotate retires the\s+data key; rewrap only changes who can unwrap it/);
  });
});

describe('--legacy', () => {
  it('an rsa-oaep-sha1 stanza is refused without --legacy (the cause names it) and read with it', async () => {
    const made = await sb.run(['keygen', 'rsa', '--out', 'r.pem', '--bits', '2048']);
    expectSuccess(made);
    sb.secretPem(sb.at('r.pem'));
    const keyId = made.stdout.toString().trim();
    const pub = readFileSync(sb.at('r.pem.pub'), 'utf8');
    const legacyRecipient: KeyProvider = {
      description: 'test rsa-oaep-sha1 writer',
      async wrap(dataKey) {
        const wrapped = publicEncrypt({ key: pub, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, dataKey);
        return { type: 'rsa-oaep-sha1', keyId, params: {}, wrapped: new Uint8Array(wrapped) };
      },
      async unwrap() {
        return null;
      },
    };
    const plain = pseudoRandom(20_000, 71);
    writeFileSync(sb.at('legacy.enseal'), await encrypt(plain, { recipients: [legacyRecipient] }));
    const refused = await sb.run(['decrypt', '--rsa-private', 'r.pem', 'legacy.enseal', 'out']);
    expectFailure(refused, 'ERR_NO_KEY', 1);
    expect(refused.stderr).toContain('ERR_UNSUPPORTED');
    expect(refused.stderr).toContain('--legacy');
    const read = await sb.run(['decrypt', '--legacy', '--rsa-private', 'r.pem', 'legacy.enseal', '-']);
    expectSuccess(read);
    expect(read.stdout.equals(Buffer.from(plain))).toBe(true);
    expectFailure(await sb.run(['decrypt', '--legacy', '--key', 'k.json', 'legacy.enseal', 'out']), 'ERR_USAGE', 2);
  });
});

describe('--kms local is discovery, a named local key is strict', () => {
  it('an object made under one local key does not open with another named key, but opens with --kms local', async () => {
    const a = await sb.run(['kms', 'create-key', '--alias', 'alpha']);
    expectSuccess(a);
    expectSuccess(await sb.run(['kms', 'create-key', '--alias', 'beta']));
    sb.secretStore();
    const plain = await sealedWith(5000, 72, ['--kms', 'alpha']);
    const strict = await sb.run(['decrypt', '--kms', 'beta', 'sealed', 'out']);
    expectFailure(strict, 'ERR_NO_KEY', 1);
    const any = await sb.run(['decrypt', '--kms', 'local', 'sealed', '-']);
    expectSuccess(any);
    expect(any.stdout.equals(plain)).toBe(true);
    expectFailure(await sb.run(['decrypt', '--kms', 'beta', '--kms-discovery', 'sealed', 'out']), 'ERR_USAGE', 2);
  });
});

describe('rotate', () => {
  it('re-encrypts under a fresh data key for the added recipients only, carrying the context over', async () => {
    keyFile('old.json', 'old', 81);
    keyFile('new.json', 'new', 82);
    keyFile('also.json', 'also', 83);
    const plain = await sealedWith(150_000, 84, ['--key', 'old.json', '--context', 'bucket=b1', '--context', 'path=a/b']);
    const before = readFileSync(sb.at('sealed'));
    const r = await sb.run(['rotate', '--key', 'old.json', '--add-key', 'new.json', '--add-key', 'also.json', '--context', 'bucket=b1', 'sealed', 'rotated']);
    expectSuccess(r);
    expect(r.stdout.length).toBe(0);
    expect(readFileSync(sb.at('sealed')).equals(before)).toBe(true); // IN untouched
    const rotated = readFileSync(sb.at('rotated'));
    expect(payloadOf(rotated).equals(payloadOf(before))).toBe(false); // a new data key and salt
    expect(rotated.length - headerLength(rotated)).toBe(before.length - headerLength(before));
    expect(await recipientIds(sb, 'rotated')).toEqual(['new', 'also']);
    const info = JSON.parse((await sb.run(['inspect', 'rotated'])).stdout.toString());
    expect(info.context).toEqual({ bucket: 'b1', path: 'a/b' });
    for (const k of ['new.json', 'also.json']) {
      const d = await sb.run(['decrypt', '--key', k, '--context', 'path=a/b', 'rotated', '-']);
      expectSuccess(d);
      expect(d.stdout.equals(plain)).toBe(true);
    }
    expectFailure(await sb.run(['decrypt', '--key', 'old.json', 'rotated', 'x']), 'ERR_NO_KEY', 1);
    expect(statSync(sb.at('rotated')).mode & 0o777).toBe(0o600);
    expect(sb.leftovers()).toEqual([]);
  });

  it('streams stdin to stdout, and rotates onto itself (OUT = IN)', async () => {
    keyFile('a.json', 'a', 85);
    keyFile('b.json', 'b', 86);
    sb.secret('rotate pw');
    const env = { PW: 'rotate pw' };
    const plain = await sealedWith(2 * 1024 * 1024 + 3, 87, ['--key', 'a.json']);
    const piped = await sb.run(['rotate', '--key', 'a.json', '--add-passphrase-env', 'PW', ...FAST, '-', '-'], { input: readFileSync(sb.at('sealed')), env });
    expectSuccess(piped);
    writeFileSync(sb.at('piped.enseal'), piped.stdout);
    const d = await sb.run(['decrypt', '--passphrase-env', 'PW', 'piped.enseal', '-'], { env });
    expectSuccess(d);
    expect(d.stdout.equals(plain)).toBe(true);
    expectSuccess(await sb.run(['rotate', '--key', 'a.json', '--add-key', 'b.json', 'sealed', 'sealed']));
    const again = await sb.run(['decrypt', '--key', 'b.json', 'sealed', '-']);
    expectSuccess(again);
    expect(again.stdout.equals(plain)).toBe(true);
  });

  it('failures leave no OUT: wrong key, tampered payload, truncated, context mismatch; usage errors exit 2', async () => {
    keyFile('a.json', 'a', 88);
    keyFile('b.json', 'b', 89);
    await sealedWith(100_000, 90, ['--key', 'a.json', '--context', 'x=1']);
    const sealed = readFileSync(sb.at('sealed'));
    const flipped = Buffer.from(sealed);
    flipped[headerLength(sealed) + 60_000]! ^= 1;
    writeFileSync(sb.at('flipped'), flipped);
    writeFileSync(sb.at('cut'), sealed.subarray(0, sealed.length - 100));
    expectFailure(await sb.run(['rotate', '--key', 'b.json', '--add-key', 'b.json', 'sealed', 'out']), 'ERR_NO_KEY', 1);
    const tampered = await sb.run(['rotate', '--key', 'a.json', '--add-key', 'b.json', 'flipped', 'out']);
    expectFailure(tampered, 'ERR_AUTH', 1);
    expect(tampered.stderr).toContain('tampered or truncated');
    expectFailure(await sb.run(['rotate', '--key', 'a.json', '--add-key', 'b.json', 'cut', 'out']), 'ERR_AUTH', 1);
    expectFailure(await sb.run(['rotate', '--key', 'a.json', '--add-key', 'b.json', '--context', 'x=2', 'sealed', 'out']), 'ERR_CONTEXT', 1);
    expect(existsSync(sb.at('out'))).toBe(false);
    expect(sb.leftovers()).toEqual([]);
    for (const args of [
      ['rotate', '--key', 'a.json', 'sealed', 'out'], // no new recipient
      ['rotate', '--add-key', 'b.json', 'sealed', 'out'], // no key
      ['rotate', '--key', 'a.json', '--add-key', 'b.json', '--remove', 'a', 'sealed', 'out'], // rewrap's flag
      ['rotate', '--key', 'a.json', '--add-key', 'b.json', 'sealed'],
      ['rotate', '--key', 'a.json', '--add-key', 'b.json', '--kdf', 'scrypt', 'sealed', 'out'],
    ]) {
      const r = await sb.run(args);
      expectFailure(r, 'ERR_USAGE', 2);
      expect(r.stderr).toContain("(see 'enseal rotate --help')");
    }
    expect(existsSync(sb.at('out'))).toBe(false);
  });
});

describe('units: parsing, escaping, failure formatting', () => {
  it('parses rotate, --force, --legacy, --kms-discovery and help topics', () => {
    expect(parseArgs(['rotate', '--rsa-private', 'r', '--legacy', '--add-kms', 'aws:k', '--force', 'in', 'out'])).toEqual({
      kind: 'rotate',
      keys: [{ kind: 'rsa', path: 'r' }],
      add: [{ kind: 'kms', spec: { kms: 'aws', keyId: 'k' } }],
      legacyRsa: true,
      kmsDiscovery: false,
      kdf: undefined,
      kmsStore: undefined,
      context: {},
      force: true,
      input: 'in',
      output: 'out',
    });
    expect(parseArgs(['decrypt', '--kms', 'vault:app', '--kms-discovery', 'in', 'out'])).toMatchObject({ kmsDiscovery: true, legacyRsa: false });
    expect(parseArgs(['decrypt', '--help'])).toEqual({ kind: 'help', topic: 'decrypt' });
    expect(parseArgs(['kms', 'rotate', '--help'])).toEqual({ kind: 'help', topic: 'kms' });
    expect(parseArgs(['help'])).toEqual({ kind: 'help' });
    expect(() => parseArgs(['help', 'nothing'])).toThrow(/help expects/);
    expect(() => parseArgs(['decrypt', '--kms-discovery', '--kms', 'local', 'in', 'out'])).toThrow(/--kms-discovery/);
  });

  it('parseRange: the three HTTP forms', () => {
    expect(parseRange('-1')).toEqual({ suffix: 1 });
    expect(parseRange('0-')).toEqual({ start: 0 });
    expect(parseRange('3-3')).toEqual({ start: 3, end: 3 });
    for (const bad of ['-0', '', '-', '1--2', ' 1-2', '1-2 ', '-99999999999999999999']) expect(() => parseRange(bad), bad).toThrow(/--range/);
  });

  it('terminalSafe escapes without doubling backslashes; quoted and safeJson escape everything', () => {
    expect(terminalSafe('a\\x1b b\x1b[2K\r\u009b\u202e')).toBe('a\\x1b b\\x1b[2K\\r\\x9b\\u202e');
    expect(terminalSafe('x'.repeat(5000)).length).toBe(4001);
    expect(quoted('a\\b\x07')).toBe('"a\\\\b\\x07"');
    const json = safeJson({ [EVIL]: EVIL });
    expectTerminalSafe(json, 'safeJson');
    expect(JSON.parse(json)).toEqual({ [EVIL]: EVIL });
  });

  it('ERR_NO_KEY: one detail line per cause (at most 16, then a count), each escaped', () => {
    const causes = Array.from({ length: 20 }, (_, i) => new EnsealError('ERR_AUTH', `key ${i} ${EVIL}`));
    const f = describeFailure(new EnsealError('ERR_NO_KEY', `no key; recipients: aes256-gcm "${EVIL}"`, { errors: causes }));
    expect(f.code).toBe('ERR_NO_KEY');
    expect(f.details).toHaveLength(17);
    expect(f.details[16]).toBe('- ... and 4 more');
    const text = formatFailure(f);
    expectTerminalSafe(text.replace(/\n/g, ''), 'formatFailure');
    expect(text.split('\n')[1]).toBe('enseal:   - ERR_AUTH: key 0 ev\\x1b[2K\\rOK\\x07\\x9b31m\\u202eil');
  });

  it('flag language for library argument errors', () => {
    expect(inFlagLanguage('"recipients" expected at most 64 providers, got 65')).toMatch(/^too many recipients: at most 64 .*--key.*got 65$/);
    expect(inFlagLanguage('encryption context value expected 0..4096 bytes, got 5000')).toBe('a --context VALUE must be 0..4096 bytes of UTF-8, got 5000');
    expect(inFlagLanguage('encryption context key "enseal:bound" is reserved for KMS binding')).toContain('--context key "enseal:bound"');
    expect(inFlagLanguage('something else')).toBe('something else');
  });

  it('keyFileModeWarning only for group/other bits', () => {
    expect(keyFileModeWarning('k', 0o100600)).toBeUndefined();
    expect(keyFileModeWarning('k', 0o100400)).toBeUndefined();
    expect(keyFileModeWarning('k', 0o100604)).toContain('mode 0604');
    expect(keyFileModeWarning(`k${EVIL}`, 0o100660)).not.toMatch(RAW_CONTROL);
  });
});
