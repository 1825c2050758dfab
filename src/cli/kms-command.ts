/**
 * `enseal kms …`: manages the LocalKms key store (`--store PATH`, default
 * `defaultLocalKmsPath()`). `create-key` creates the store on first use and prints the new id;
 * `list` prints one line per key (or JSON with `--json`); `rotate`, `disable` and `enable` print
 * the key's new line. Nothing printed is key material: the store's descriptions hold none.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import type { LocalKeyInfo } from '../kms/local.js';
import { LOCAL_ALIAS_RE } from '../kms/local-store.js';
import { usageError } from './cli-error.js';
import type { KmsCommand } from './kms-args.js';
import { openLocalStore } from './local-kms.js';
import { quoted, safeJson } from './terminal-text.js';

const COLUMNS = ['ID', 'ALIAS', 'ENABLED', 'VERSIONS', 'CREATED'] as const;
const WIDTHS = [35, 24, 7, 8, 0];

/** The table cells of one key. */
function cells(k: LocalKeyInfo): string[] {
  // The store is a file: what it says is escaped before it reaches a terminal.
  return [escapeControl(k.id), escapeControl(k.alias ?? '-'), k.enabled ? 'yes' : 'no', String(k.versions.length), escapeControl(k.created)];
}

function row(values: readonly string[]): string {
  return `${values.map((v, i) => v.padEnd(WIDTHS[i] ?? 0)).join('  ').trimEnd()}\n`;
}

/**
 * The `kms list` table.
 * @param keys - the store's keys
 * @returns a header line and one line per key
 */
export function formatKeyTable(keys: readonly LocalKeyInfo[]): string {
  return row(COLUMNS) + keys.map((k) => row(cells(k))).join('');
}

/**
 * The `kms list --json` document: an array of `{ id, alias, enabled, primaryVersion, versions,
 * created }` (`alias` is `null` when the key has none).
 * @param keys - the store's keys
 * @returns pretty-printed JSON with a final newline
 */
export function formatKeyJson(keys: readonly LocalKeyInfo[]): string {
  const list = keys.map((k) => ({
    id: k.id,
    alias: k.alias ?? null,
    enabled: k.enabled,
    primaryVersion: k.primaryVersion,
    versions: k.versions.map((v) => ({ version: v.version, created: v.created })),
    created: k.created,
  }));
  return `${safeJson(list)}\n`;
}

/**
 * Runs a `kms` subcommand.
 * @param cmd - parsed command
 * @param stdout - where results go
 * @throws CliError `ERR_USAGE` (malformed alias); EnsealError `ERR_KMS_UNAVAILABLE` (no store,
 *   unreadable or locked), `ERR_KMS_DENIED` (unknown key, alias taken, store readable by others)
 */
export async function kmsCommand(cmd: KmsCommand, stdout: NodeJS.WritableStream): Promise<void> {
  if (cmd.action === 'create-key' && cmd.alias !== undefined && !LOCAL_ALIAS_RE.test(cmd.alias)) {
    throw usageError(`--alias expects 1..128 of [A-Za-z0-9._/-], starting with a letter or digit, not "lk-…", got ${quoted(cmd.alias, 60)}`);
  }
  const store = await openLocalStore(cmd.store, cmd.action === 'create-key');
  switch (cmd.action) {
    case 'create-key': {
      const key = await store.createKey(cmd.alias === undefined ? {} : { alias: cmd.alias });
      stdout.write(`${key.id}\n`);
      return;
    }
    case 'list': {
      const keys = await store.listKeys();
      stdout.write(cmd.json ? formatKeyJson(keys) : formatKeyTable(keys));
      return;
    }
    case 'rotate':
      stdout.write(row(cells(await store.rotateKey(cmd.key))));
      return;
    case 'disable':
      stdout.write(row(cells(await store.disableKey(cmd.key))));
      return;
    case 'enable':
      stdout.write(row(cells(await store.enableKey(cmd.key))));
      return;
  }
}
