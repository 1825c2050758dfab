/**
 * `enseal keygen aes --out FILE [--id ID]`: creates a new AES-256 key file with mode 0600,
 * refusing to overwrite anything, and prints the key id.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { wipe } from '../bytes.js';
import type { KeygenCommand } from './args.js';
import { CliError, usageError } from './cli-error.js';
import { KEY_LENGTH, formatKeyFile, keyIdProblem } from './keyfile.js';

/**
 * A fresh default key id: `aes-` and 16 random hex digits.
 * @returns e.g. `aes-3f2a9c0d1b7e4a66`
 */
export function defaultKeyId(): string {
  return `aes-${randomBytes(8).toString('hex')}`;
}

/**
 * Writes `bytes` to a new file: exclusive create with mode 0600, fsync, and removal of the
 * file if anything fails after it was created.
 * @throws CliError `ERR_EXISTS` when `path` already exists
 */
async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') throw new CliError('ERR_EXISTS', `${path} already exists; not overwriting it`);
    throw e;
  }
  try {
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw e;
  }
}

/**
 * Runs `keygen`.
 * @param cmd - parsed command
 * @param stdout - where the key id goes
 * @throws CliError `ERR_USAGE` (bad id), `ERR_EXISTS`; system errors for I/O failures
 */
export async function keygen(cmd: KeygenCommand, stdout: NodeJS.WritableStream): Promise<void> {
  const id = cmd.id ?? defaultKeyId();
  const problem = keyIdProblem(id);
  if (problem !== undefined) throw usageError(`--id ${problem}`);
  const key = crypto.getRandomValues(new Uint8Array(KEY_LENGTH));
  const file = formatKeyFile(id, key);
  try {
    await writeNewFile(cmd.out, file);
  } finally {
    wipe(key, file);
  }
  stdout.write(`${id}\n`);
}
