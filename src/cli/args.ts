/**
 * Command-line parsing, by hand (no dependency): `argv` in, a typed {@link Command} out, or a
 * `ERR_USAGE` {@link CliError}. Pure: it reads no file and touches no stream.
 *
 * The option syntax is `./scan.ts`'s; the key options are `./key-args.ts`'s, the passphrase
 * KDF options `./kdf-args.ts`'s, `--range` is `./range-args.ts`'s, the `kms` subcommands
 * `./kms-args.ts`'s. Values echoed in messages are escaped (`./terminal-text.ts`).
 *
 * @module
 */
import { usageError } from './cli-error.js';
import { HELP_TOPICS, type HelpCommand, type HelpTopic } from './command-help.js';
import { STDIO } from './io.js';
import { parseKdf, type KdfChoice } from './kdf-args.js';
import { ADD_OPTIONS, RECIPIENT_OPTIONS, UNLOCK_OPTIONS, keyOptionSpec, keySources, promptsOnTerminal, type KeySource } from './key-args.js';
import { parseKms, type KmsCommand } from './kms-args.js';
import { parseRange, type RangeArg } from './range-args.js';
import { expectPositionals, hasFlag, optionValue, scan, type OptionSpec, type Scanned } from './scan.js';
import { quoted } from './terminal-text.js';
import { isObjectRewrap, parseStorageCommand, type StorageCommand, type StorageTopic } from './storage-args.js';

export { parseRange, type RangeArg } from './range-args.js';
export type { HelpCommand, HelpTopic } from './command-help.js';

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

/** How the keys that unlock an object are used (`--legacy`, `--kms-discovery`). */
export interface UnlockFlags {
  /** `--legacy`: `--rsa-private` keys also read the legacy RSA stanza types. */
  legacyRsa: boolean;
  /** `--kms-discovery`: cloud `--kms` keys unwrap stanzas of any key of their KMS. */
  kmsDiscovery: boolean;
}

/** `enseal encrypt RECIPIENT… [--kdf K] [--kdf-cost C] [--kms-store P] [--context K=V]… [--force] IN OUT`. */
export interface EncryptCommand {
  kind: 'encrypt';
  /** At least one, in command-line order. */
  recipients: KeySource[];
  /** KDF and costs of passphrase recipients (`undefined`: the library's defaults). */
  kdf: KdfChoice | undefined;
  /** `--kms-store`: the LocalKms store (`undefined`: the default store). */
  kmsStore: string | undefined;
  context: Record<string, string>;
  /** `--force`: ciphertext to a terminal; follow a symbolic link OUT. */
  force: boolean;
  input: string;
  output: string;
}

/** `enseal decrypt KEY… [--legacy] [--kms-discovery] [--kms-store P] [--context K=V]… [--range R] [--force] IN OUT`. */
export interface DecryptCommand extends UnlockFlags {
  kind: 'decrypt';
  /** At least one, in command-line order. */
  keys: KeySource[];
  kmsStore: string | undefined;
  context: Record<string, string>;
  range: RangeArg | undefined;
  /** `--force`: follow a symbolic link OUT. */
  force: boolean;
  input: string;
  output: string;
}

/** `enseal rewrap KEY… [ADD…] [--remove KEYID]… [--kdf K] [--kdf-cost C] [--kms-store P] [--context K=V]… IN OUT`. */
export interface RewrapCommand extends UnlockFlags {
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
  force: boolean;
  input: string;
  output: string;
}

/** `enseal rotate KEY… ADD… [--kdf K] [--kdf-cost C] [--kms-store P] [--context K=V]… IN OUT`. */
export interface RotateCommand extends UnlockFlags {
  kind: 'rotate';
  /** Keys that decrypt IN (at least one). */
  keys: KeySource[];
  /** The recipients of OUT (at least one); IN's recipients are not carried over. */
  add: KeySource[];
  kdf: KdfChoice | undefined;
  kmsStore: string | undefined;
  /** Expected context of IN (IN's whole context is carried over to OUT). */
  context: Record<string, string>;
  force: boolean;
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
  | RotateCommand
  | InspectCommand
  | KmsCommand
  | StorageCommand;

/** Options shared by the commands that take keys. */
const CONTEXT_SPEC: OptionSpec = { context: 'repeat', 'kms-store': 'once' };
const KDF_SPEC: OptionSpec = { kdf: 'once', 'kdf-cost': 'once' };
const FORCE_SPEC: OptionSpec = { force: 'flag' };
const UNLOCK_SPEC: OptionSpec = { legacy: 'flag', 'kms-discovery': 'flag' };

/**
 * Parses `--context K=V` values (split at the first `=`; the key must be non-empty and unique).
 * @param pairs - the option values
 * @returns the context map (own properties only, so `__proto__` is an ordinary key)
 * @throws CliError `ERR_USAGE` (echoing the value, escaped)
 */
export function parseContext(pairs: readonly string[]): Record<string, string> {
  const entries = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--context expects KEY=VALUE with a non-empty KEY, got ${quoted(pair, 60)}`);
    const key = pair.slice(0, eq);
    if (entries.has(key)) throw usageError(`--context key ${quoted(key, 60)} given more than once`);
    entries.set(key, pair.slice(eq + 1));
  }
  return Object.fromEntries(entries);
}

const RSA_BITS: readonly RsaBits[] = [2048, 3072, 4096];

function parseKeygen(args: readonly string[]): Command {
  const s = scan('keygen', args, { out: 'once', id: 'once', bits: 'once' });
  if (s.help) return { kind: 'help', topic: 'keygen' };
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
  if (bits === undefined) throw usageError(`--bits expects 2048, 3072 or 4096, got ${quoted(String(bitsText), 20)}`);
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

/** `--legacy` and `--kms-discovery`, each allowed only with a key it applies to. */
function unlockFlags(s: Scanned, keys: readonly KeySource[]): UnlockFlags {
  const legacyRsa = hasFlag(s, 'legacy');
  const kmsDiscovery = hasFlag(s, 'kms-discovery');
  if (legacyRsa && !keys.some((k) => k.kind === 'rsa')) throw usageError('--legacy applies to --rsa-private keys (none given)');
  if (kmsDiscovery && !keys.some((k) => k.kind === 'kms' && k.spec.kms !== 'local')) {
    throw usageError('--kms-discovery applies to --kms aws:..., alibaba:... or vault:... keys (none given; --kms local already means any local key)');
  }
  return { legacyRsa, kmsDiscovery };
}

/** Refuses to read both IN and a typed passphrase from stdin. */
function checkTerminal(sources: readonly KeySource[], input: string): void {
  if (input === STDIO && promptsOnTerminal(sources)) {
    throw usageError('a passphrase typed on the terminal is read from stdin, so IN cannot be "-" (use --passphrase-env VAR)');
  }
}

function parseEncrypt(args: readonly string[]): Command {
  const s = scan('encrypt', args, { ...keyOptionSpec(RECIPIENT_OPTIONS), ...CONTEXT_SPEC, ...KDF_SPEC, ...FORCE_SPEC });
  if (s.help) return { kind: 'help', topic: 'encrypt' };
  expectPositionals('encrypt', s.positionals, ['IN', 'OUT']);
  const recipients = keySources(s, RECIPIENT_OPTIONS);
  if (recipients.length === 0) throw usageError('encrypt needs at least one recipient: --key, --kms, --rsa-public, --passphrase-env or --passphrase');
  const [input, output] = s.positionals as [string, string];
  checkTerminal(recipients, input);
  const kdf = kdfFor(s, recipients, '--passphrase-env, --passphrase');
  const context = parseContext(s.options.get('context') ?? []);
  return { kind: 'encrypt', recipients, kdf, kmsStore: kmsStore(s), context, force: hasFlag(s, 'force'), input, output };
}

function parseDecrypt(args: readonly string[]): Command {
  const s = scan('decrypt', args, { ...keyOptionSpec(UNLOCK_OPTIONS), ...UNLOCK_SPEC, ...CONTEXT_SPEC, ...FORCE_SPEC, range: 'once' });
  if (s.help) return { kind: 'help', topic: 'decrypt' };
  expectPositionals('decrypt', s.positionals, ['IN', 'OUT']);
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('decrypt needs at least one key: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const flags = unlockFlags(s, keys);
  const context = parseContext(s.options.get('context') ?? []);
  const rangeText = optionValue(s, 'range');
  const range = rangeText === undefined ? undefined : parseRange(rangeText);
  const [input, output] = s.positionals as [string, string];
  if (range !== undefined && input === STDIO) throw usageError('--range needs IN to be a file, not stdin');
  checkTerminal(keys, input);
  return { kind: 'decrypt', keys, ...flags, kmsStore: kmsStore(s), context, range, force: hasFlag(s, 'force'), input, output };
}

function parseRewrap(args: readonly string[]): Command {
  const spec: OptionSpec = { ...keyOptionSpec(UNLOCK_OPTIONS), ...keyOptionSpec(ADD_OPTIONS), ...UNLOCK_SPEC, ...CONTEXT_SPEC, ...KDF_SPEC, ...FORCE_SPEC, remove: 'repeat' };
  const s = scan('rewrap', args, spec);
  if (s.help) return { kind: 'help', topic: 'rewrap' };
  expectPositionals('rewrap', s.positionals, ['IN', 'OUT']);
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('rewrap needs at least one key to unlock IN: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const flags = unlockFlags(s, keys);
  const add = keySources(s, ADD_OPTIONS);
  const remove = [...(s.options.get('remove') ?? [])];
  if (remove.includes('')) throw usageError('--remove expects a non-empty key id');
  if (add.length === 0 && remove.length === 0) {
    throw usageError('rewrap needs a change: --add-key, --add-kms, --add-rsa-public, --add-passphrase-env, --add-passphrase or --remove');
  }
  const [input, output] = s.positionals as [string, string];
  checkTerminal([...keys, ...add], input);
  const kdf = kdfFor(s, add, '--add-passphrase-env, --add-passphrase');
  const context = parseContext(s.options.get('context') ?? []);
  return { kind: 'rewrap', keys, add, remove, ...flags, kdf, kmsStore: kmsStore(s), context, force: hasFlag(s, 'force'), input, output };
}

function parseRotate(args: readonly string[]): Command {
  const spec: OptionSpec = { ...keyOptionSpec(UNLOCK_OPTIONS), ...keyOptionSpec(ADD_OPTIONS), ...UNLOCK_SPEC, ...CONTEXT_SPEC, ...KDF_SPEC, ...FORCE_SPEC };
  const s = scan('rotate', args, spec);
  if (s.help) return { kind: 'help', topic: 'rotate' };
  expectPositionals('rotate', s.positionals, ['IN', 'OUT']);
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('rotate needs at least one key to decrypt IN: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const flags = unlockFlags(s, keys);
  const add = keySources(s, ADD_OPTIONS);
  if (add.length === 0) {
    throw usageError('rotate needs the recipients of OUT: --add-key, --add-kms, --add-rsa-public, --add-passphrase-env or --add-passphrase (IN\'s recipients are not carried over)');
  }
  const [input, output] = s.positionals as [string, string];
  checkTerminal([...keys, ...add], input);
  const kdf = kdfFor(s, add, '--add-passphrase-env, --add-passphrase');
  const context = parseContext(s.options.get('context') ?? []);
  return { kind: 'rotate', keys, add, ...flags, kdf, kmsStore: kmsStore(s), context, force: hasFlag(s, 'force'), input, output };
}

function parseInspect(args: readonly string[]): Command {
  const s = scan('inspect', args, {});
  if (s.help) return { kind: 'help', topic: 'inspect' };
  expectPositionals('inspect', s.positionals, ['IN']);
  return { kind: 'inspect', input: s.positionals[0] as string };
}

/** A storage command (./storage-args.ts); `--help` gives the command's help. */
function parseStorage(command: StorageTopic | 'rewrap', rest: readonly string[]): Command {
  const cmd = parseStorageCommand(command, rest);
  return cmd === 'help' ? { kind: 'help', topic: command } : cmd;
}

/** `enseal help [TOPIC]`. */
function parseHelp(args: readonly string[]): HelpCommand {
  if (args.length === 0) return { kind: 'help' };
  const [topic] = args;
  if (args.length > 1 || !(HELP_TOPICS as readonly string[]).includes(topic as string)) {
    throw usageError(`help expects one of ${HELP_TOPICS.join(', ')}, got ${quoted(args.join(' '), 40)}`);
  }
  return { kind: 'help', topic: topic as HelpTopic };
}

/**
 * Parses the arguments after the program name.
 * @param argv - e.g. `process.argv.slice(2)`
 * @returns the command to run
 * @throws CliError `ERR_USAGE` for any invalid command line
 * @example
 * ```ts
 * parseArgs(['decrypt', '--key', 'k.json', '--range', '0-99', 'in.enseal', '-']);
 * parseArgs(['decrypt', '--help']); // { kind: 'help', topic: 'decrypt' }
 * ```
 */
export function parseArgs(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      throw usageError('missing command');
    case 'help':
      return parseHelp(rest);
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
      return isObjectRewrap(rest) ? parseStorage('rewrap', rest) : parseRewrap(rest);
    case 'put':
    case 'get':
    case 'head':
    case 'ls':
    case 'rm':
      return parseStorage(command, rest);
    case 'rotate':
      return parseRotate(rest);
    case 'inspect':
      return parseInspect(rest);
    case 'kms':
      return parseKms(rest);
    default:
      throw usageError(`unknown command ${quoted(command, 40)} (expected keygen, encrypt, decrypt, rewrap, rotate, inspect, kms, put, get, head, ls or rm)`);
  }
}
