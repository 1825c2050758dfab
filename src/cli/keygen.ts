/**
 * `enseal keygen aes --out FILE [--id ID]`: creates a new AES-256 key file with mode 0600,
 * refusing to overwrite anything, and prints the key id. (`keygen rsa` is `./keygen-rsa.ts`.)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { wipe } from '../bytes.js';
import type { KeygenAesCommand } from './args.js';
import { usageError } from './cli-error.js';
import { KEY_LENGTH, formatKeyFile, keyIdProblem } from './keyfile.js';
import { writeNewFile } from './new-file.js';

/**
 * A fresh default key id: `aes-` and 16 random hex digits.
 * @returns e.g. `aes-3f2a9c0d1b7e4a66`
 */
export function defaultKeyId(): string {
  return `aes-${randomBytes(8).toString('hex')}`;
}

/**
 * Runs `keygen aes`.
 * @param cmd - parsed command
 * @param stdout - where the key id goes
 * @throws CliError `ERR_USAGE` (bad id), `ERR_EXISTS`; system errors for I/O failures
 */
export async function keygen(cmd: KeygenAesCommand, stdout: NodeJS.WritableStream): Promise<void> {
  const id = cmd.id ?? defaultKeyId();
  const problem = keyIdProblem(id);
  if (problem !== undefined) throw usageError(`--id ${problem}`);
  const key = crypto.getRandomValues(new Uint8Array(KEY_LENGTH));
  const file = formatKeyFile(id, key);
  try {
    await writeNewFile(cmd.out, file, 0o600);
  } finally {
    wipe(key, file);
  }
  stdout.write(`${id}\n`);
}
