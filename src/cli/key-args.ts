/**
 * The key options of `encrypt`, `decrypt` and `rewrap`, parsed into an ordered list of
 * {@link KeySource}s (command-line order, which is also the order of the recipients in the
 * header). Pure: nothing here reads a file, the environment or the terminal.
 *
 * ```
 * --key FILE             AES-256 key file
 * --kms [local:]KEYID    LocalKms key (id or alias) in the local store
 * --kms local            (decrypt, rewrap unlock) any key of the local store
 * --kms aws:KEYID        AWS KMS key (id, ARN or alias/NAME)
 * --kms alibaba:KEYID    Alibaba Cloud KMS key (id or alias)
 * --kms vault:NAME       Vault Transit key
 * --rsa-public FILE      RSA public key (recipients)      --rsa-private FILE  RSA private key (keys)
 * --passphrase-env VAR   passphrase from an environment variable
 * --passphrase           passphrase typed on the terminal
 * ```
 * `rewrap` takes the recipient options with an `add-` prefix for the recipients it adds.
 *
 * @module
 */
import { usageError } from './cli-error.js';
import { quoted } from './terminal-text.js';
import type { OptionSpec, Scanned } from './scan.js';

/** The KMSs `--kms` can name. */
export type KmsName = 'local' | 'aws' | 'alibaba' | 'vault';

/** Every {@link KmsName}, as written before the colon. */
export const KMS_NAMES: readonly KmsName[] = ['local', 'aws', 'alibaba', 'vault'];

/** A parsed `--kms` value. `keyId` is `undefined` only for `--kms local` (any local key). */
export interface KmsSpec {
  readonly kms: KmsName;
  readonly keyId: string | undefined;
}

/** Where one recipient or key comes from. */
export type KeySource =
  | { readonly kind: 'key-file'; readonly path: string }
  | { readonly kind: 'kms'; readonly spec: KmsSpec }
  | { readonly kind: 'rsa'; readonly path: string }
  | { readonly kind: 'passphrase-env'; readonly variable: string }
  | { readonly kind: 'passphrase-prompt' };

/** What a list of sources is for: wrapping the data key, or unwrapping it. */
export type KeyRole = 'recipient' | 'unlock';

/** The option names of one group of key options. */
export interface KeyOptionNames {
  readonly role: KeyRole;
  readonly key: string;
  readonly kms: string;
  readonly rsa: string;
  readonly passphraseEnv: string;
  readonly passphrase: string;
}

/** `encrypt`'s recipients. */
export const RECIPIENT_OPTIONS: KeyOptionNames = { role: 'recipient', key: 'key', kms: 'kms', rsa: 'rsa-public', passphraseEnv: 'passphrase-env', passphrase: 'passphrase' };
/** `decrypt`'s keys, and the keys that unlock a `rewrap`. */
export const UNLOCK_OPTIONS: KeyOptionNames = { role: 'unlock', key: 'key', kms: 'kms', rsa: 'rsa-private', passphraseEnv: 'passphrase-env', passphrase: 'passphrase' };
/** The recipients a `rewrap` adds. */
export const ADD_OPTIONS: KeyOptionNames = {
  role: 'recipient',
  key: 'add-key',
  kms: 'add-kms',
  rsa: 'add-rsa-public',
  passphraseEnv: 'add-passphrase-env',
  passphrase: 'add-passphrase',
};

/**
 * The scanner spec of a group of key options.
 * @param names - the group
 * @returns every option of the group with its kind
 */
export function keyOptionSpec(names: KeyOptionNames): OptionSpec {
  return { [names.key]: 'repeat', [names.kms]: 'repeat', [names.rsa]: 'repeat', [names.passphraseEnv]: 'repeat', [names.passphrase]: 'flag' };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a `--kms` value: `KMS:KEYID`, or a bare `KEYID` for the local store (a LocalKms id or
 * alias never holds a colon). `local` alone means any key of the local store.
 * @param text - the option value
 * @param option - the option name, for messages
 * @param role - `unlock` allows `local` alone
 * @returns the spec
 * @throws CliError `ERR_USAGE` for an unknown KMS or an empty key id
 * @example
 * ```ts
 * parseKmsSpec('aws:alias/backups', 'kms', 'recipient'); // { kms: 'aws', keyId: 'alias/backups' }
 * parseKmsSpec('backups', 'kms', 'recipient');           // { kms: 'local', keyId: 'backups' }
 * ```
 */
export function parseKmsSpec(text: string, option: string, role: KeyRole): KmsSpec {
  if (text === 'local') {
    if (role === 'recipient') throw usageError(`--${option} local needs a key id to encrypt: --${option} local:KEYID`);
    return { kms: 'local', keyId: undefined };
  }
  const colon = text.indexOf(':');
  if (colon === -1) {
    if (text === '') throw usageError(`--${option} expects [local:]KEYID, aws:KEYID, alibaba:KEYID or vault:NAME`);
    return { kms: 'local', keyId: text };
  }
  const name = text.slice(0, colon);
  const keyId = text.slice(colon + 1);
  if (!(KMS_NAMES as readonly string[]).includes(name)) {
    throw usageError(`--${option}: unknown KMS ${quoted(name, 40)} (expected ${KMS_NAMES.join(', ')})`);
  }
  if (keyId === '') throw usageError(`--${option} ${name}: needs a key id after "${name}:"`);
  return { kms: name as KmsName, keyId };
}

function checkPath(path: string, option: string): string {
  if (path === '' || path === '-') throw usageError(`--${option} expects a key file path (not stdin)`);
  return path;
}

/**
 * Checks an environment variable name given to `--passphrase-env`.
 * @param name - the option value
 * @param option - the option name, for messages
 * @returns the name
 * @throws CliError `ERR_USAGE` unless it is `[A-Za-z_][A-Za-z0-9_]*`
 */
export function checkEnvName(name: string, option: string): string {
  // Not echoed: a user may have typed the passphrase itself here by mistake.
  if (!ENV_NAME.test(name)) throw usageError(`--${option} expects the NAME of an environment variable ([A-Za-z_][A-Za-z0-9_]*)`);
  return name;
}

/**
 * Collects one group's key sources in command-line order.
 * @param s - scanned arguments
 * @param names - the group's option names
 * @returns the sources (possibly empty)
 * @throws CliError `ERR_USAGE` for a malformed value
 */
export function keySources(s: Scanned, names: KeyOptionNames): KeySource[] {
  const out: KeySource[] = [];
  for (const { name, value } of s.ordered) {
    if (name === names.key) out.push({ kind: 'key-file', path: checkPath(value, name) });
    else if (name === names.kms) out.push({ kind: 'kms', spec: parseKmsSpec(value, name, names.role) });
    else if (name === names.rsa) out.push({ kind: 'rsa', path: checkPath(value, name) });
    else if (name === names.passphraseEnv) out.push({ kind: 'passphrase-env', variable: checkEnvName(value, name) });
    else if (name === names.passphrase) out.push({ kind: 'passphrase-prompt' });
  }
  return out;
}

/**
 * Whether any source is read from the terminal.
 * @param sources - key sources
 * @returns true when one is `--passphrase` (or `--add-passphrase`)
 */
export function promptsOnTerminal(sources: readonly KeySource[]): boolean {
  return sources.some((k) => k.kind === 'passphrase-prompt');
}
