/**
 * The option scanner under every command's parser: splits one command's arguments into options
 * (checked against the command's spec) and positionals. Pure: no I/O.
 *
 * Options are long only (`--key FILE` or `--key=FILE`; flags such as `--json` take no value),
 * plus `-h`; `--` ends the options; a lone `-` is a positional argument (stdin or stdout).
 * Error messages name the option, never its value (a value may be a secret typed by mistake).
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { usageError } from './cli-error.js';

/** How an option may appear: once with a value, any number of times with a value, or once as a flag. */
export type OptionKind = 'once' | 'repeat' | 'flag';

/** The options a command accepts, by name (without the leading `--`). */
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** One option occurrence, in command-line order. */
export interface ScannedOption {
  /** Name without the leading `--`. */
  readonly name: string;
  /** The value; `''` for a flag. */
  readonly value: string;
}

/** Options and positionals of one command, after scanning. */
export interface Scanned {
  /** Every option occurrence in command-line order (flags included). */
  readonly ordered: readonly ScannedOption[];
  /** Values by option name, in order (a flag has one empty value). */
  readonly options: ReadonlyMap<string, readonly string[]>;
  /** Arguments that are not options. */
  readonly positionals: readonly string[];
  /** Whether `-h` or `--help` was given. */
  readonly help: boolean;
}

/**
 * Scans the arguments of one command.
 * @param command - the command's name, for messages
 * @param args - its arguments
 * @param spec - the options it accepts
 * @returns the options and positionals
 * @throws CliError `ERR_USAGE` for an unknown option, a missing value, a value given to a flag,
 *   or a `once`/`flag` option given twice
 * @example
 * ```ts
 * scan('kms list', ['--json'], { json: 'flag', store: 'once' }).options.has('json'); // true
 * ```
 */
export function scan(command: string, args: readonly string[], spec: OptionSpec): Scanned {
  const ordered: ScannedOption[] = [];
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
    if (!arg.startsWith('--')) throw usageError(`unknown option ${arg.slice(0, 2)}… for ${command}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (kind === undefined) throw usageError(`unknown option --${escapeControl(name, 60)} for ${command}`);
    let value: string;
    if (kind === 'flag') {
      if (eq !== -1) throw usageError(`option --${escapeControl(name, 60)} takes no value`);
      value = '';
    } else if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined) throw usageError(`option --${name} needs a value`);
      value = next;
      i++;
    }
    const values = options.get(name) ?? [];
    if (kind !== 'repeat' && values.length > 0) throw usageError(`option --${name} given more than once`);
    values.push(value);
    options.set(name, values);
    ordered.push({ name, value });
  }
  return { ordered, options, positionals, help };
}

/**
 * The value of a `once` option.
 * @param s - scanned arguments
 * @param name - option name
 * @returns its value, or `undefined` when absent
 */
export function optionValue(s: Scanned, name: string): string | undefined {
  return s.options.get(name)?.[0];
}

/**
 * Whether a flag was given.
 * @param s - scanned arguments
 * @param name - flag name
 * @returns true when present
 */
export function hasFlag(s: Scanned, name: string): boolean {
  return s.options.has(name);
}

/**
 * Checks the number of positionals.
 * @param command - the command's name, for messages
 * @param positionals - the positionals
 * @param names - their expected names, e.g. `['IN', 'OUT']`
 * @throws CliError `ERR_USAGE` for another count
 */
export function expectPositionals(command: string, positionals: readonly string[], names: readonly string[]): void {
  if (positionals.length !== names.length) {
    throw usageError(`${command} expects ${names.join(' ')}, got ${positionals.length} argument(s)`);
  }
}
