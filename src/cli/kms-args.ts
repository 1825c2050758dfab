/**
 * Parsing of `enseal kms …`, the subcommands that manage the LocalKms key store:
 *
 * ```
 * enseal kms create-key [--alias ALIAS] [--store PATH]
 * enseal kms list [--json] [--store PATH]
 * enseal kms rotate|disable|enable KEY [--store PATH]
 * ```
 * Pure: no I/O.
 *
 * @module
 */
import { usageError } from './cli-error.js';
import type { HelpCommand } from './command-help.js';
import { quoted } from './terminal-text.js';
import { expectPositionals, hasFlag, optionValue, scan, type Scanned } from './scan.js';

/** `enseal kms create-key [--alias ALIAS] [--store PATH]`. */
export interface KmsCreateKeyCommand {
  kind: 'kms';
  action: 'create-key';
  /** `undefined`: the default store. */
  store: string | undefined;
  alias: string | undefined;
}

/** `enseal kms list [--json] [--store PATH]`. */
export interface KmsListCommand {
  kind: 'kms';
  action: 'list';
  store: string | undefined;
  json: boolean;
}

/** `enseal kms rotate|disable|enable KEY [--store PATH]`. */
export interface KmsKeyCommand {
  kind: 'kms';
  action: 'rotate' | 'disable' | 'enable';
  store: string | undefined;
  /** Key id or alias. */
  key: string;
}

/** A parsed `kms` subcommand. */
export type KmsCommand = KmsCreateKeyCommand | KmsListCommand | KmsKeyCommand;

/** A parsed `kms` command line, or a request for its help. */
export type KmsParse = KmsCommand | HelpCommand;

function store(s: Scanned): string | undefined {
  const path = optionValue(s, 'store');
  if (path === '' || path === '-') throw usageError('--store expects a file path');
  return path;
}

/**
 * Parses the arguments after `kms`.
 * @param args - e.g. `['rotate', 'backups']`
 * @returns the subcommand
 * @throws CliError `ERR_USAGE` for an unknown subcommand or a malformed argument
 * @example
 * ```ts
 * parseKms(['create-key', '--alias', 'backups']); // { kind: 'kms', action: 'create-key', store: undefined, alias: 'backups' }
 * ```
 */
export function parseKms(args: readonly string[]): KmsParse {
  const [action, ...rest] = args;
  switch (action) {
    case 'create-key': {
      const s = scan('kms create-key', rest, { alias: 'once', store: 'once' });
      if (s.help) return { kind: 'help', topic: 'kms' };
      expectPositionals('kms create-key', s.positionals, []);
      return { kind: 'kms', action, store: store(s), alias: optionValue(s, 'alias') };
    }
    case 'list': {
      const s = scan('kms list', rest, { json: 'flag', store: 'once' });
      if (s.help) return { kind: 'help', topic: 'kms' };
      expectPositionals('kms list', s.positionals, []);
      return { kind: 'kms', action, store: store(s), json: hasFlag(s, 'json') };
    }
    case 'rotate':
    case 'disable':
    case 'enable': {
      const s = scan(`kms ${action}`, rest, { store: 'once' });
      if (s.help) return { kind: 'help', topic: 'kms' };
      expectPositionals(`kms ${action}`, s.positionals, ['KEY']);
      const key = s.positionals[0] as string;
      if (key === '') throw usageError(`kms ${action} expects a key id or alias`);
      return { kind: 'kms', action, store: store(s), key };
    }
    case undefined:
      throw usageError('kms expects a subcommand: create-key, list, rotate, disable or enable');
    case '-h':
    case '--help':
      return { kind: 'help', topic: 'kms' };
    default:
      throw usageError(`unknown kms subcommand ${quoted(action, 40)} (expected create-key, list, rotate, disable or enable)`);
  }
}
