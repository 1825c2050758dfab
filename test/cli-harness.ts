/**
 * Shared harness of the `test/cli-*.test.ts` suites: a sandbox per test (a temporary directory
 * that is also `HOME`, with `ENSEAL_KMS_STORE` inside it and every cloud-KMS variable of the
 * host removed), a runner that spawns `node bin/enseal.js` (the build in dist/), and a secret
 * scan of every command's stdout and stderr.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
/** The CLI entry point. */
export const BIN = join(ROOT, 'bin', 'enseal.js');
const BUILT_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const TEMP_INFIX = '.enseal-tmp-';
/** Variables of the host that could reach a real KMS or another store: never passed on. */
const HOST_VARIABLES = /^(?:AWS_|ALIBABA_CLOUD_|VAULT_|ENSEAL_)/;

/** What one CLI run produced. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Options of {@link Sandbox.run}. */
export interface RunOptions {
  /** Fed on stdin (stdin is closed at once otherwise). */
  input?: Uint8Array;
  /** Variables added to (or, when `undefined`, removed from) the sandbox's environment. */
  env?: Record<string, string | undefined>;
}

/** Fails the suite early when dist/ is missing. */
export function requireBuild(): void {
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`${BUILT_MAIN} is missing: run \`npm run build\` before the CLI tests (bin/enseal.js runs dist/).`);
  }
}

/** A temporary directory, environment and secret list for one test. */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'enseal-cli-'));
  /** The environment every run starts from. */
  readonly env: Record<string, string>;
  readonly #texts = new Set<string>();
  readonly #raws: Buffer[] = [];

  constructor() {
    const inherited = Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !HOST_VARIABLES.test(e[0]));
    this.env = { ...Object.fromEntries(inherited), HOME: this.dir, ENSEAL_KMS_STORE: this.at('kms.json') };
  }

  /** A path inside the sandbox. */
  at(name: string): string {
    return join(this.dir, name);
  }

  /** Temporary output files left behind (there must be none). */
  leftovers(): string[] {
    return readdirSync(this.dir).filter((n) => n.includes(TEMP_INFIX));
  }

  /** Registers text that must never be printed (a passphrase, a token, a PEM line…). */
  secret(text: string): void {
    this.#texts.add(text);
  }

  /** Registers key bytes: their base64 and their raw bytes must never be printed. */
  secretBytes(bytes: Uint8Array): void {
    this.#texts.add(Buffer.from(bytes).toString('base64'));
    this.#raws.push(Buffer.from(bytes));
  }

  /** Registers the lines of a PEM file's body and the whole body. */
  secretPem(path: string): void {
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    for (const l of lines) this.#texts.add(l);
    this.#texts.add(lines.join(''));
  }

  /** Registers the master keys of a LocalKms store (every version). */
  secretStore(path = this.env.ENSEAL_KMS_STORE as string): void {
    const store = JSON.parse(readFileSync(path, 'utf8')) as { keys: { versions: { material: string }[] }[] };
    for (const k of store.keys) for (const v of k.versions) this.secretBytes(Buffer.from(v.material, 'base64'));
  }

  /** Checks one run's output against every registered secret. */
  assertNoSecrets(r: RunResult): void {
    const stdoutText = r.stdout.toString('latin1');
    const stdoutUtf8 = r.stdout.toString('utf8');
    for (const s of this.#texts) {
      expect(stdoutText.includes(s) || stdoutUtf8.includes(s), `secret on stdout: ${s.slice(0, 12)}…`).toBe(false);
      expect(r.stderr.includes(s), `secret on stderr: ${s.slice(0, 12)}…`).toBe(false);
    }
    for (const b of this.#raws) expect(r.stdout.indexOf(b), 'raw key bytes on stdout').toBe(-1);
  }

  /** Runs `node bin/enseal.js ...args` in the sandbox and scans its output for secrets. */
  async run(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const env: Record<string, string> = { ...this.env };
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(process.execPath, [BIN, ...args], { cwd: this.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined); // the CLI may exit before reading everything
    child.stdin.end(opts.input === undefined ? undefined : Buffer.from(opts.input));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve([c, s]));
    });
    const r: RunResult = { code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
    this.assertNoSecrets(r);
    return r;
  }

  /** Removes the sandbox. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Asserts a failure: the exit status and one stderr line `enseal: CODE: message`, followed only
 * by the cause lines `enseal:   - …` (ERR_NO_KEY and the KMS codes reported in its place).
 */
export function expectFailure(r: RunResult, code: string, exitCode: number): void {
  const causes = /^ERR_(?:NO_KEY|KMS_)/.test(code) ? '(?:enseal:   - [^\\n]+\\n)*' : '';
  expect(r.stderr).toMatch(new RegExp(`^enseal: ${code}: [^\\n]+\\n${causes}$`));
  expect(r.code, r.stderr).toBe(exitCode);
}

/** Asserts success: exit 0 and nothing on stderr. */
export function expectSuccess(r: RunResult): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

/** The header length of an enseal object (bytes 8..11, big-endian). */
export function headerLength(sealed: Uint8Array): number {
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length).readUInt32BE(8);
}

/** An enseal object's payload: everything after the header. */
export function payloadOf(sealed: Uint8Array): Buffer {
  return Buffer.from(sealed).subarray(headerLength(sealed));
}

/** The key ids of an object's recipients, as `inspect` prints them. */
export async function recipientIds(sb: Sandbox, file: string): Promise<string[]> {
  const r = await sb.run(['inspect', file]);
  expectSuccess(r);
  return (JSON.parse(r.stdout.toString()) as { recipients: { keyId: string }[] }).recipients.map((x) => x.keyId);
}
