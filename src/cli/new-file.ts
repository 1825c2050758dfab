/**
 * Creating key files: exclusive create (never overwrite), a given mode, fsync, and removal of
 * the file if anything fails after it was created.
 *
 * @module
 */
import { lstat, open, rm } from 'node:fs/promises';
import { CliError } from './cli-error.js';
import { quoted } from './terminal-text.js';

/**
 * Writes `bytes` to a new file.
 * @param path - where
 * @param bytes - the content (not wiped here: the caller owns it)
 * @param mode - permission bits (0600 for secrets)
 * @throws CliError `ERR_EXISTS` when `path` already exists; system errors for I/O
 * @example
 * ```ts
 * await writeNewFile('k.json', bytes, 0o600);
 * ```
 */
export async function writeNewFile(path: string, bytes: Uint8Array, mode: number): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'wx', mode);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') throw new CliError('ERR_EXISTS', `${quoted(path, 400)} already exists; not overwriting it`);
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
 * Fails early when a file is already there (the exclusive create still decides, later).
 * @param path - where a new file will be created
 * @throws CliError `ERR_EXISTS` when something exists at `path` (even a dangling symlink)
 */
export async function refuseExisting(path: string): Promise<void> {
  const exists = await lstat(path).then(
    () => true,
    () => false,
  );
  if (exists) throw new CliError('ERR_EXISTS', `${quoted(path, 400)} already exists; not overwriting it`);
}
