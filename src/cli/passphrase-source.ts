/**
 * Passphrase providers from `--passphrase-env VAR` (the passphrase is the variable's value) and
 * `--passphrase` (typed on the terminal, without echo). The KDF and costs of `--kdf` and
 * `--kdf-cost` apply when the provider writes a recipient; on decryption the object's stanza
 * names them.
 *
 * @module
 */
import { passphrase, type PassphraseOptions, type PassphraseProvider } from '../keys/passphrase.js';
import { usageError } from './cli-error.js';
import type { KdfChoice } from './kdf-args.js';
import type { Environment } from './kms-env.js';
import { promptPassphrase, type PassphrasePrompt, type PromptIo } from './prompt.js';

function provider(secret: string, kdf: KdfChoice | undefined): PassphraseProvider {
  const opts = (kdf === undefined ? { passphrase: secret } : { passphrase: secret, kdf: kdf.kdf, params: kdf.params }) as PassphraseOptions;
  return passphrase(opts);
}

/**
 * A passphrase provider whose passphrase is an environment variable's value.
 * @param variable - the variable's name
 * @param kdf - KDF and costs for writing, if chosen
 * @param env - the environment (default `process.env`)
 * @returns the provider; `dispose()` it when done
 * @throws CliError `ERR_USAGE` when the variable is unset or empty
 * @example
 * ```ts
 * const pw = passphraseFromEnv('BACKUP_PASSPHRASE', undefined);
 * ```
 */
export function passphraseFromEnv(variable: string, kdf: KdfChoice | undefined, env: Environment = process.env): PassphraseProvider {
  const secret = env[variable];
  if (secret === undefined || secret === '') throw usageError(`--passphrase-env: the environment variable ${variable} is unset or empty`);
  return provider(secret, kdf);
}

/**
 * A passphrase provider whose passphrase is typed on the terminal.
 * @param io - the terminal
 * @param ask - the prompt's label, and whether to ask twice (when writing a recipient)
 * @param kdf - KDF and costs for writing, if chosen
 * @returns the provider; `dispose()` it when done
 * @throws CliError `ERR_USAGE` (no terminal, empty, mismatch), `ERR_CANCELLED`
 * @example
 * ```ts
 * const pw = await passphraseFromPrompt(processTerminal(), { label: 'Passphrase', confirm: true }, undefined);
 * ```
 */
export async function passphraseFromPrompt(io: PromptIo, ask: PassphrasePrompt, kdf: KdfChoice | undefined): Promise<PassphraseProvider> {
  return provider(await promptPassphrase(io, ask), kdf);
}
