/**
 * Command-line parsing, by hand (no dependency): `argv` in, a typed {@link Command} out, or a
 * `ERR_USAGE` {@link CliError}. Pure: it reads no file and touches no stream.
 *
 * The option syntax is `./scan.ts`'s; the key options are `./key-args.ts`'s, the passphrase
 * KDF options `./kdf-args.ts`'s, the `kms` subcommands `./kms-args.ts`'s.
 *
 * @module
 */
import { usageError } from './cli-error.js';
import { STDIO } from './io.js';
import { parseKdf, type KdfChoice } from './kdf-args.js';
import { ADD_OPTIONS, RECIPIENT_OPTIONS, UNLOCK_OPTIONS, keyOptionSpec, keySources, promptsOnTerminal, type KeySource } from './key-args.js';
import { parseKms, type KmsCommand } from './kms-args.js';
import { expectPositionals, optionValue, scan, type OptionSpec, type Scanned } from './scan.js';

/** An inclusive plaintext byte range; no `end` means "to the end". */
export interface RangeArg {
  start: number;
  end?: number;
}

/** `enseal help`, `--help`, `-h`. */
export interface HelpCommand {
  kind: 'help';
}

/** `enseal --version`. */
export interface VersionCommand {
  kind: 'version';
}

/** `enseal keygen aes --out FILE [--id ID]`. */
export interface KeygenAesCommand {
  kind: 'keygen';
  type: 'aes';
  out: string;
  id: string | undefined;
}

/** RSA modulus sizes `keygen rsa` creates. */
export type RsaBits = 2048 | 3072 | 4096;

/** `enseal keygen rsa --out FILE [--bits 2048|3072|4096]`. */
export interface KeygenRsaCommand {
  kind: 'keygen';
  type: 'rsa';
  out: string;
  bits: RsaBits;
}

/** `enseal keygen aes|rsa …`. */
export type KeygenCommand = KeygenAesCommand | KeygenRsaCommand;

/** `enseal encrypt RECIPIENT… [--kdf K] [--kdf-cost C] [--kms-store P] [--context K=V]… IN OUT`. */
export interface EncryptCommand {
  kind: 'encrypt';
  /** At least one, in command-line order. */
  recipients: KeySource[];
  /** KDF and costs of passphrase recipients (`undefined`: the library's defaults). */
  kdf: KdfChoice | undefined;
  /** `--kms-store`: the LocalKms store (`undefined`: the default store). */
  kmsStore: string | undefined;
  context: Record<string, string>;
  input: string;
  output: string;
}

/** `enseal decrypt KEY… [--kms-store P] [--context K=V]… [--range START-END] IN OUT`. */
export interface DecryptCommand {
  kind: 'decrypt';
  /** At least one, in command-line order. */
  keys: KeySource[];
  kmsStore: string | undefined;
  context: Record<string, string>;
  range: RangeArg | undefined;
  input: string;
  output: string;
}

/** `enseal rewrap KEY… [ADD…] [--remove KEYID]… [--kdf K] [--kdf-cost C] [--kms-store P] [--context K=V]… IN OUT`. */
export interface RewrapCommand {
  kind: 'rewrap';
  /** Keys that unlock the header (at least one). */
  keys: KeySource[];
  /** Recipients to add. */
  add: KeySource[];
  /** Key ids (or requested KMS key ids/aliases) whose recipients are removed. */
  remove: string[];
  kdf: KdfChoice | undefined;
  kmsStore: string | undefined;
  context: Record<string, string>;
  input: string;
  output: string;
}

/** `enseal inspect IN`. */
export interface InspectCommand {
  kind: 'inspect';
  input: string;
}

/** A parsed command line. */
export type Command =
  | HelpCommand
  | VersionCommand
  | KeygenCommand
  | EncryptCommand
  | DecryptCommand
  | RewrapCommand
  | InspectCommand
  | KmsCommand;

/** Options shared by the commands that take keys. */
const CONTEXT_SPEC: OptionSpec = { context: 'repeat', 'kms-store': 'once' };
const KDF_SPEC: OptionSpec = { kdf: 'once', 'kdf-cost': 'once' };

/**
 * Parses `--context K=V` values (split at the first `=`; the key must be non-empty and unique).
 * @param pairs - the option values
 * @returns the context map (own properties only, so `__proto__` is an ordinary key)
 * @throws CliError `ERR_USAGE`
 */
export function parseContext(pairs: readonly string[]): Record<string, string> {
  const entries = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--context expects KEY=VALUE with a non-empty KEY, got "${pair}"`);
    const key = pair.slice(0, eq);
    if (entries.has(key)) throw usageError(`--context key "${key}" given more than once`);
    entries.set(key, pair.slice(eq + 1));
  }
  return Object.fromEntries(entries);
}

/**
 * Parses `--range START-END` (inclusive, as HTTP `Range: bytes=START-END`) or `START-`.
 * @param text - the option value
 * @returns the range
 * @throws CliError `ERR_USAGE` for anything else (including a suffix range `-N` or END < START)
 */
export function parseRange(text: string): RangeArg {
  const m = /^(\d+)-(\d*)$/.exec(text);
  if (m === null) throw usageError(`--range expects START-END or START-, got "${text}"`);
  const start = Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (!Number.isSafeInteger(start) || (end !== undefined && !Number.isSafeInteger(end))) {
    throw usageError(`--range bound too large in "${text}"`);
  }
  if (end !== undefined && end < start) throw usageError(`--range end is before its start in "${text}"`);
  return end === undefined ? { start } : { start, end };
}

const RSA_BITS: readonly RsaBits[] = [2048, 3072, 4096];

function parseKeygen(args: readonly string[]): Command {
  const s = scan('keygen', args, { out: 'once', id: 'once', bits: 'once' });
  if (s.help) return { kind: 'help' };
  const type = s.positionals[0];
  if (s.positionals.length !== 1 || (type !== 'aes' && type !== 'rsa')) {
    throw usageError('keygen expects the key type "aes" or "rsa" (enseal keygen aes|rsa --out FILE)');
  }
  const out = optionValue(s, 'out');
  if (out === undefined || out === '') throw usageError('keygen needs --out FILE');
  if (out === '-') throw usageError('keygen writes keys only to a new file, not to stdout');
  const id = optionValue(s, 'id');
  const bitsText = optionValue(s, 'bits');
  if (type === 'aes') {
    if (bitsText !== undefined) throw usageError('--bits applies only to keygen rsa');
    if (id === '') throw usageError('--id must not be empty');
    return { kind: 'keygen', type, out, id };
  }
  if (id !== undefined) throw usageError('--id applies only to keygen aes (an RSA key id is derived from its public key)');
  const bits = bitsText === undefined ? 3072 : RSA_BITS.find((b) => String(b) === bitsText);
  if (bits === undefined) throw usageError(`--bits expects 2048, 3072 or 4096, got "${String(bitsText).slice(0, 20)}"`);
  return { kind: 'keygen', type, out, bits };
}

/** `--kms-store PATH`, if given. */
function kmsStore(s: Scanned): string | undefined {
  const path = optionValue(s, 'kms-store');
  if (path === '' || path === '-') throw usageError('--kms-store expects a file path');
  return path;
}

/** `--kdf`/`--kdf-cost`, allowed only when a passphrase recipient is written. */
function kdfFor(s: Scanned, recipients: readonly KeySource[], names: string): KdfChoice | undefined {
  const kdf = parseKdf(optionValue(s, 'kdf'), optionValue(s, 'kdf-cost'));
  if (kdf !== undefined && !recipients.some((r) => r.kind === 'passphrase-env' || r.kind === 'passphrase-prompt')) {
    throw usageError(`--kdf and --kdf-cost apply to passphrase recipients (${names})`);
  }
  return kdf;
}

/** Refuses to read both IN and a typed passphrase from stdin. */
function checkTerminal(sources: readonly KeySource[], input: string): void {
  if (input === STDIO && promptsOnTerminal(sources)) {
    throw usageError('a passphrase typed on the terminal is read from stdin, so IN cannot be "-" (use --passphrase-env VAR)');
  }
}

function parseEncrypt(args: readonly string[]): Command {
  const s = scan('encrypt', args, { ...keyOptionSpec(RECIPIENT_OPTIONS), ...CONTEXT_SPEC, ...KDF_SPEC });
  if (s.help) return { kind: 'help' };
  expectPositionals('encrypt', s.positionals, ['IN', 'OUT']);
  const recipients = keySources(s, RECIPIENT_OPTIONS);
  if (recipients.length === 0) throw usageError('encrypt needs at least one recipient: --key, --kms, --rsa-public, --passphrase-env or --passphrase');
  const [input, output] = s.positionals as [string, string];
  checkTerminal(recipients, input);
  const kdf = kdfFor(s, recipients, '--passphrase-env, --passphrase');
  return { kind: 'encrypt', recipients, kdf, kmsStore: kmsStore(s), context: parseContext(s.options.get('context') ?? []), input, output };
}

function parseDecrypt(args: readonly string[]): Command {
  const s = scan('decrypt', args, { ...keyOptionSpec(UNLOCK_OPTIONS), ...CONTEXT_SPEC, range: 'once' });
  if (s.help) return { kind: 'help' };
  expectPositionals('decrypt', s.positionals, ['IN', 'OUT']);
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('decrypt needs at least one key: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const context = parseContext(s.options.get('context') ?? []);
  const rangeText = optionValue(s, 'range');
  const range = rangeText === undefined ? undefined : parseRange(rangeText);
  const [input, output] = s.positionals as [string, string];
  if (range !== undefined && input === STDIO) throw usageError('--range needs IN to be a file, not stdin');
  checkTerminal(keys, input);
  return { kind: 'decrypt', keys, kmsStore: kmsStore(s), context, range, input, output };
}

function parseRewrap(args: readonly string[]): Command {
  const spec: OptionSpec = { ...keyOptionSpec(UNLOCK_OPTIONS), ...keyOptionSpec(ADD_OPTIONS), ...CONTEXT_SPEC, ...KDF_SPEC, remove: 'repeat' };
  const s = scan('rewrap', args, spec);
  if (s.help) return { kind: 'help' };
  expectPositionals('rewrap', s.positionals, ['IN', 'OUT']);
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('rewrap needs at least one key to unlock IN: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const add = keySources(s, ADD_OPTIONS);
  const remove = [...(s.options.get('remove') ?? [])];
  if (remove.includes('')) throw usageError('--remove expects a non-empty key id');
  if (add.length === 0 && remove.length === 0) {
    throw usageError('rewrap needs a change: --add-key, --add-kms, --add-rsa-public, --add-passphrase-env, --add-passphrase or --remove');
  }
  const [input, output] = s.positionals as [string, string];
  checkTerminal([...keys, ...add], input);
  const kdf = kdfFor(s, add, '--add-passphrase-env, --add-passphrase');
  return { kind: 'rewrap', keys, add, remove, kdf, kmsStore: kmsStore(s), context: parseContext(s.options.get('context') ?? []), input, output };
}

function parseInspect(args: readonly string[]): Command {
  const s = scan('inspect', args, {});
  if (s.help) return { kind: 'help' };
  expectPositionals('inspect', s.positionals, ['IN']);
  return { kind: 'inspect', input: s.positionals[0] as string };
}

/**
 * Parses the arguments after the program name.
 * @param argv - e.g. `process.argv.slice(2)`
 * @returns the command to run
 * @throws CliError `ERR_USAGE` for any invalid command line
 * @example
 * ```ts
 * parseArgs(['decrypt', '--key', 'k.json', '--range', '0-99', 'in.enseal', '-']);
 * ```
 */
export function parseArgs(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      throw usageError('missing command');
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case '--version':
      if (rest.length > 0) throw usageError('--version takes no arguments');
      return { kind: 'version' };
    case 'keygen':
      return parseKeygen(rest);
    case 'encrypt':
      return parseEncrypt(rest);
    case 'decrypt':
      return parseDecrypt(rest);
    case 'rewrap':
      return parseRewrap(rest);
    case 'inspect':
      return parseInspect(rest);
    case 'kms':
      return parseKms(rest);
    default:
      throw usageError(`unknown command "${command}"`);
  }
}
