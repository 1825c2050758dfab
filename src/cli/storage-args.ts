/**
 * The command lines of the storage commands (see ./storage-url.ts for locations):
 *
 * ```
 * enseal put RECIPIENT... [--part-size SIZE] [--concurrency N] [--resume [--state FILE]]
 *            [--sse SSE [--sse-c-key-file FILE]] [--context K=V]... FILE|- LOCATION
 * enseal get KEY... [--range R] [--sse SSE-C --sse-c-key-file FILE] [--context K=V]... [--force] LOCATION FILE|-
 * enseal head [--sse SSE-C --sse-c-key-file FILE] LOCATION
 * enseal ls LOCATION
 * enseal rm LOCATION...
 * enseal rewrap KEY... [ADDED...] [--remove KEYID]... [--sse ...] LOCATION   (s3://, oss://, file:)
 * ```
 * Every one also takes `--allow-insecure-http` (plain http: to a loopback endpoint only).
 * Pure: nothing here reads a file, the environment or the network.
 *
 * @module
 */
import { usageError } from './cli-error.js';
import { parseKdf, type KdfChoice } from './kdf-args.js';
import { ADD_OPTIONS, RECIPIENT_OPTIONS, UNLOCK_OPTIONS, keyOptionSpec, keySources, promptsOnTerminal, type KeySource } from './key-args.js';
import { parseRange, type RangeArg } from './range-args.js';
import { expectPositionals, hasFlag, optionValue, scan, type OptionSpec, type Scanned } from './scan.js';
import { parseSse, type SseArg } from './storage-sse.js';
import { hasStorageScheme, parseLocation, type StorageLocation } from './storage-url.js';
import { quoted } from './terminal-text.js';

/** Options every storage command has. */
export interface StorageFlags {
  /** `--allow-insecure-http`: plain http: to a loopback endpoint. */
  readonly allowInsecureHttp: boolean;
}

/** `enseal put`. */
export interface PutCommand extends StorageFlags {
  readonly kind: 'put';
  readonly recipients: KeySource[];
  readonly kdf: KdfChoice | undefined;
  readonly kmsStore: string | undefined;
  readonly context: Record<string, string>;
  readonly sse: SseArg | undefined;
  /** `--part-size` in bytes (`undefined`: the library's 8 MiB, raised to the store's minimum). */
  readonly partSize: number | undefined;
  readonly concurrency: number | undefined;
  /** `--resume`: keep the upload's state, resume a saved one. */
  readonly resume: boolean;
  /** `--state FILE` (with `--resume`; default under ~/.enseal/uploads/). */
  readonly state: string | undefined;
  readonly input: string;
  readonly location: StorageLocation;
}

/** `enseal get`. */
export interface GetCommand extends StorageFlags {
  readonly kind: 'get';
  readonly keys: KeySource[];
  readonly legacyRsa: boolean;
  readonly kmsDiscovery: boolean;
  readonly kmsStore: string | undefined;
  readonly context: Record<string, string>;
  readonly sse: SseArg | undefined;
  readonly range: RangeArg | undefined;
  readonly force: boolean;
  readonly location: StorageLocation;
  readonly output: string;
}

/** `enseal head`. */
export interface HeadCommand extends StorageFlags {
  readonly kind: 'head';
  readonly sse: SseArg | undefined;
  readonly location: StorageLocation;
}

/** `enseal ls`. */
export interface LsCommand extends StorageFlags {
  readonly kind: 'ls';
  readonly location: StorageLocation;
}

/** `enseal rm`. */
export interface RmCommand extends StorageFlags {
  readonly kind: 'rm';
  readonly locations: StorageLocation[];
}

/** `enseal rewrap … LOCATION`: key rotation of a stored object, in place. */
export interface RewrapObjectCommand extends StorageFlags {
  readonly kind: 'rewrap-object';
  readonly keys: KeySource[];
  readonly add: KeySource[];
  readonly remove: string[];
  readonly legacyRsa: boolean;
  readonly kmsDiscovery: boolean;
  readonly kdf: KdfChoice | undefined;
  readonly kmsStore: string | undefined;
  readonly context: Record<string, string>;
  readonly sse: SseArg | undefined;
  readonly location: StorageLocation;
}

/** A parsed storage command. */
export type StorageCommand = PutCommand | GetCommand | HeadCommand | LsCommand | RmCommand | RewrapObjectCommand;

/** The storage commands with their own help. */
export type StorageTopic = 'put' | 'get' | 'head' | 'ls' | 'rm';

/** Every {@link StorageTopic}. */
export const STORAGE_TOPICS: readonly StorageTopic[] = ['put', 'get', 'head', 'ls', 'rm'];

const COMMON: OptionSpec = { 'allow-insecure-http': 'flag' };
const SSE: OptionSpec = { sse: 'once', 'sse-c-key-file': 'once' };
const CONTEXT: OptionSpec = { context: 'repeat', 'kms-store': 'once' };
const UNLOCK: OptionSpec = { legacy: 'flag', 'kms-discovery': 'flag' };
const KDF: OptionSpec = { kdf: 'once', 'kdf-cost': 'once' };

const SIZE = /^(\d+)(B|K|KiB|M|MiB|G|GiB)?$/;
const UNIT: Readonly<Record<string, number>> = { B: 1, K: 1024, KiB: 1024, M: 1024 ** 2, MiB: 1024 ** 2, G: 1024 ** 3, GiB: 1024 ** 3 };

/**
 * Parses `--part-size`: bytes, or with a binary suffix (`K`/`KiB`, `M`/`MiB`, `G`/`GiB`).
 * @param text - the option value
 * @returns bytes, 1 to 5 GiB
 * @throws CliError `ERR_USAGE` otherwise
 * @example
 * ```ts
 * parsePartSize('16MiB'); // 16777216
 * ```
 */
export function parsePartSize(text: string): number {
  const m = SIZE.exec(text);
  const n = m === null ? NaN : Number(m[1]) * (UNIT[m[2] ?? 'B'] as number);
  if (!Number.isSafeInteger(n) || n < 1 || n > 5 * 1024 ** 3) throw usageError(`--part-size expects a size from 1 byte to 5GiB (e.g. 16MiB), got ${quoted(text, 40)}`);
  return n;
}

/**
 * Parses `--concurrency`: parts in flight at once, 1 to 64.
 * @param text - the option value
 * @returns the number
 * @throws CliError `ERR_USAGE` otherwise
 */
export function parseConcurrency(text: string): number {
  const n = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 64)) throw usageError(`--concurrency expects an integer from 1 to 64, got ${quoted(text, 20)}`);
  return n;
}

/** `--context K=V` pairs (split at the first "="; the key non-empty and unique). */
function contextOf(s: Scanned): Record<string, string> {
  const entries = new Map<string, string>();
  for (const pair of s.options.get('context') ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--context expects KEY=VALUE with a non-empty KEY, got ${quoted(pair, 60)}`);
    if (entries.has(pair.slice(0, eq))) throw usageError(`--context key ${quoted(pair.slice(0, eq), 60)} given more than once`);
    entries.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return Object.fromEntries(entries);
}

function kmsStoreOf(s: Scanned): string | undefined {
  const path = optionValue(s, 'kms-store');
  if (path === '' || path === '-') throw usageError('--kms-store expects a file path');
  return path;
}

function flagsOf(s: Scanned): StorageFlags {
  return { allowInsecureHttp: hasFlag(s, 'allow-insecure-http') };
}

function sseOf(s: Scanned, loc: StorageLocation): SseArg | undefined {
  return parseSse(optionValue(s, 'sse'), optionValue(s, 'sse-c-key-file'), loc.scheme);
}

/** `--sse` on a read names only the SSE-C key (the store knows its other encryptions). */
function readSseOf(s: Scanned, loc: StorageLocation, command: string): SseArg | undefined {
  const sse = sseOf(s, loc);
  if (sse !== undefined && sse.algorithm !== 'SSE-C') throw usageError(`${command} takes --sse only as SSE-C with --sse-c-key-file (the store decrypts its other encryptions itself)`);
  return sse;
}

function unlockOf(s: Scanned, keys: readonly KeySource[]): { legacyRsa: boolean; kmsDiscovery: boolean } {
  const legacyRsa = hasFlag(s, 'legacy');
  const kmsDiscovery = hasFlag(s, 'kms-discovery');
  if (legacyRsa && !keys.some((k) => k.kind === 'rsa')) throw usageError('--legacy applies to --rsa-private keys (none given)');
  if (kmsDiscovery && !keys.some((k) => k.kind === 'kms' && k.spec.kms !== 'local')) throw usageError('--kms-discovery applies to --kms aws:..., alibaba:... or vault:... keys (none given)');
  return { legacyRsa, kmsDiscovery };
}

function kdfOf(s: Scanned, recipients: readonly KeySource[]): KdfChoice | undefined {
  const kdf = parseKdf(optionValue(s, 'kdf'), optionValue(s, 'kdf-cost'));
  if (kdf !== undefined && !recipients.some((r) => r.kind === 'passphrase-env' || r.kind === 'passphrase-prompt')) throw usageError('--kdf and --kdf-cost apply to passphrase recipients');
  return kdf;
}

function parsePut(args: readonly string[]): PutCommand | 'help' {
  const s = scan('put', args, { ...keyOptionSpec(RECIPIENT_OPTIONS), ...CONTEXT, ...KDF, ...SSE, ...COMMON, 'part-size': 'once', concurrency: 'once', resume: 'flag', state: 'once' });
  if (s.help) return 'help';
  expectPositionals('put', s.positionals, ['FILE', 'LOCATION']);
  const [input, target] = s.positionals as [string, string];
  const location = parseLocation(target, 'object');
  const recipients = keySources(s, RECIPIENT_OPTIONS);
  if (recipients.length === 0) throw usageError('put needs at least one recipient: --key, --kms, --rsa-public, --passphrase-env or --passphrase');
  if (input === '-' && promptsOnTerminal(recipients)) throw usageError('a passphrase typed on the terminal is read from stdin, so FILE cannot be "-" (use --passphrase-env VAR)');
  const resume = hasFlag(s, 'resume');
  const state = optionValue(s, 'state');
  if (state !== undefined && !resume) throw usageError('--state applies only with --resume');
  if (state === '' || state === '-') throw usageError('--state expects a file path');
  const partText = optionValue(s, 'part-size');
  const concurrencyText = optionValue(s, 'concurrency');
  return {
    kind: 'put',
    recipients,
    kdf: kdfOf(s, recipients),
    kmsStore: kmsStoreOf(s),
    context: contextOf(s),
    sse: sseOf(s, location),
    partSize: partText === undefined ? undefined : parsePartSize(partText),
    concurrency: concurrencyText === undefined ? undefined : parseConcurrency(concurrencyText),
    resume,
    state,
    input,
    location,
    ...flagsOf(s),
  };
}

function parseGet(args: readonly string[]): GetCommand | 'help' {
  const s = scan('get', args, { ...keyOptionSpec(UNLOCK_OPTIONS), ...UNLOCK, ...CONTEXT, ...SSE, ...COMMON, range: 'once', force: 'flag' });
  if (s.help) return 'help';
  expectPositionals('get', s.positionals, ['LOCATION', 'FILE']);
  const [source, output] = s.positionals as [string, string];
  const location = parseLocation(source, 'object');
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('get needs at least one key: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const rangeText = optionValue(s, 'range');
  return {
    kind: 'get',
    keys,
    ...unlockOf(s, keys),
    kmsStore: kmsStoreOf(s),
    context: contextOf(s),
    sse: readSseOf(s, location, 'get'),
    range: rangeText === undefined ? undefined : parseRange(rangeText),
    force: hasFlag(s, 'force'),
    location,
    output,
    ...flagsOf(s),
  };
}

function parseHead(args: readonly string[]): HeadCommand | 'help' {
  const s = scan('head', args, { ...SSE, ...COMMON });
  if (s.help) return 'help';
  expectPositionals('head', s.positionals, ['LOCATION']);
  const location = parseLocation(s.positionals[0] as string, 'object');
  return { kind: 'head', sse: readSseOf(s, location, 'head'), location, ...flagsOf(s) };
}

function parseLs(args: readonly string[]): LsCommand | 'help' {
  const s = scan('ls', args, COMMON);
  if (s.help) return 'help';
  expectPositionals('ls', s.positionals, ['LOCATION']);
  return { kind: 'ls', location: parseLocation(s.positionals[0] as string, 'prefix'), ...flagsOf(s) };
}

function parseRm(args: readonly string[]): RmCommand | 'help' {
  const s = scan('rm', args, COMMON);
  if (s.help) return 'help';
  if (s.positionals.length === 0) throw usageError('rm expects LOCATION...');
  if (s.positionals.length > 1000) throw usageError('rm takes at most 1000 locations');
  return { kind: 'rm', locations: s.positionals.map((p) => parseLocation(p, 'object')), ...flagsOf(s) };
}

const REWRAP_OBJECT_SPEC: OptionSpec = { ...keyOptionSpec(UNLOCK_OPTIONS), ...keyOptionSpec(ADD_OPTIONS), ...UNLOCK, ...CONTEXT, ...KDF, ...SSE, ...COMMON, remove: 'repeat' };

/**
 * Whether a `rewrap` command line names a stored object: exactly one positional, written with
 * an explicit scheme (`s3://`, `oss://`, `file:`). Anything else is the file form (IN OUT).
 * @param args - the arguments after `rewrap`
 * @returns true for the stored-object form
 */
export function isObjectRewrap(args: readonly string[]): boolean {
  try {
    const s = scan('rewrap', args, REWRAP_OBJECT_SPEC);
    return !s.help && s.positionals.length === 1 && hasStorageScheme(s.positionals[0] as string);
  } catch {
    return false; // an option only the file form has (e.g. --force): the file form reports it
  }
}

function parseRewrapObject(args: readonly string[]): RewrapObjectCommand {
  const s = scan('rewrap', args, REWRAP_OBJECT_SPEC);
  const location = parseLocation(s.positionals[0] as string, 'object');
  const keys = keySources(s, UNLOCK_OPTIONS);
  if (keys.length === 0) throw usageError('rewrap needs at least one key to unlock the object: --key, --kms, --rsa-private, --passphrase-env or --passphrase');
  const add = keySources(s, ADD_OPTIONS);
  const remove = [...(s.options.get('remove') ?? [])];
  if (remove.includes('')) throw usageError('--remove expects a non-empty key id');
  if (add.length === 0 && remove.length === 0) throw usageError('rewrap needs a change: --add-key, --add-kms, --add-rsa-public, --add-passphrase-env, --add-passphrase or --remove');
  return {
    kind: 'rewrap-object',
    keys,
    add,
    remove,
    ...unlockOf(s, keys),
    kdf: kdfOf(s, add),
    kmsStore: kmsStoreOf(s),
    context: contextOf(s),
    sse: readSseOf(s, location, 'rewrap'),
    location,
    ...flagsOf(s),
  };
}

/**
 * Parses a storage command's arguments.
 * @param command - `put`, `get`, `head`, `ls`, `rm`, or `rewrap` (stored-object form, see
 *   {@link isObjectRewrap})
 * @param args - the arguments after the command
 * @returns the command, or `'help'` for `--help`
 * @throws CliError `ERR_USAGE` for an invalid command line
 * @example
 * ```ts
 * parseStorageCommand('get', ['--key', 'k.json', '--range', '-100', 's3://b/log.txt', '-']);
 * ```
 */
export function parseStorageCommand(command: StorageTopic | 'rewrap', args: readonly string[]): StorageCommand | 'help' {
  switch (command) {
    case 'put':
      return parsePut(args);
    case 'get':
      return parseGet(args);
    case 'head':
      return parseHead(args);
    case 'ls':
      return parseLs(args);
    case 'rm':
      return parseRm(args);
    case 'rewrap':
      return parseRewrapObject(args);
  }
}
