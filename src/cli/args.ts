/**
 * Command-line parsing, by hand (no dependency): `argv` in, a typed {@link Command} out, or a
 * `ERR_USAGE` {@link CliError}. Pure: it reads no file and touches no stream.
 *
 * Options are long only (`--key FILE` or `--key=FILE`), plus `-h`; `--` ends the options;
 * a lone `-` is a positional argument (stdin or stdout).
 *
 * @module
 */
import { usageError } from './cli-error.js';

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
export interface KeygenCommand {
  kind: 'keygen';
  out: string;
  id: string | undefined;
}

/** `enseal encrypt --key FILE… [--context K=V]… IN OUT`. */
export interface EncryptCommand {
  kind: 'encrypt';
  keys: string[];
  context: Record<string, string>;
  input: string;
  output: string;
}

/** `enseal decrypt --key FILE… [--context K=V]… [--range START-END] IN OUT`. */
export interface DecryptCommand {
  kind: 'decrypt';
  keys: string[];
  context: Record<string, string>;
  range: RangeArg | undefined;
  input: string;
  output: string;
}

/** `enseal inspect IN`. */
export interface InspectCommand {
  kind: 'inspect';
  input: string;
}

/** A parsed command line. */
export type Command = HelpCommand | VersionCommand | KeygenCommand | EncryptCommand | DecryptCommand | InspectCommand;

/** Whether an option may be given once or several times. */
type OptionKind = 'once' | 'repeat';

/** Options and positionals of one command, after scanning. */
interface Scanned {
  options: Map<string, string[]>;
  positionals: string[];
  help: boolean;
}

/** Splits the arguments of one command into options (checked against `spec`) and positionals. */
function scan(command: string, args: readonly string[], spec: Readonly<Record<string, OptionKind>>): Scanned {
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  let onlyPositionals = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw usageError(`unknown option ${arg} for ${command}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw usageError(`unknown option --${name} for ${command}`);
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined) throw usageError(`option --${name} needs a value`);
      value = next;
      i++;
    }
    const values = options.get(name) ?? [];
    if (kind === 'once' && values.length > 0) throw usageError(`option --${name} given more than once`);
    values.push(value);
    options.set(name, values);
  }
  return { options, positionals, help };
}

function expectPositionals(command: string, positionals: readonly string[], names: readonly string[]): void {
  if (positionals.length !== names.length) {
    throw usageError(`${command} expects ${names.join(' ')}, got ${positionals.length} argument(s)`);
  }
}

function keyFiles(scanned: Scanned, command: string): string[] {
  const keys = scanned.options.get('key') ?? [];
  if (keys.length === 0) throw usageError(`${command} needs at least one --key FILE`);
  for (const k of keys) {
    if (k === '' || k === '-') throw usageError('--key expects a key file path (not stdin)');
  }
  return keys;
}

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

function parseKeygen(args: readonly string[]): Command {
  const s = scan('keygen', args, { out: 'once', id: 'once' });
  if (s.help) return { kind: 'help' };
  if (s.positionals.length !== 1 || s.positionals[0] !== 'aes') {
    throw usageError('keygen expects the key type "aes" (enseal keygen aes --out FILE)');
  }
  const out = s.options.get('out')?.[0];
  if (out === undefined || out === '') throw usageError('keygen needs --out FILE');
  if (out === '-') throw usageError('keygen writes keys only to a new file, not to stdout');
  const id = s.options.get('id')?.[0];
  if (id === '') throw usageError('--id must not be empty');
  return { kind: 'keygen', out, id };
}

function parseEncrypt(args: readonly string[]): Command {
  const s = scan('encrypt', args, { key: 'repeat', context: 'repeat' });
  if (s.help) return { kind: 'help' };
  expectPositionals('encrypt', s.positionals, ['IN', 'OUT']);
  const keys = keyFiles(s, 'encrypt');
  const context = parseContext(s.options.get('context') ?? []);
  return { kind: 'encrypt', keys, context, input: s.positionals[0] as string, output: s.positionals[1] as string };
}

function parseDecrypt(args: readonly string[]): Command {
  const s = scan('decrypt', args, { key: 'repeat', context: 'repeat', range: 'once' });
  if (s.help) return { kind: 'help' };
  expectPositionals('decrypt', s.positionals, ['IN', 'OUT']);
  const keys = keyFiles(s, 'decrypt');
  const context = parseContext(s.options.get('context') ?? []);
  const rangeText = s.options.get('range')?.[0];
  const range = rangeText === undefined ? undefined : parseRange(rangeText);
  const input = s.positionals[0] as string;
  if (range !== undefined && input === '-') throw usageError('--range needs IN to be a file, not stdin');
  return { kind: 'decrypt', keys, context, range, input, output: s.positionals[1] as string };
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
    case 'inspect':
      return parseInspect(rest);
    default:
      throw usageError(`unknown command "${command}"`);
  }
}
