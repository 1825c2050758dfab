/**
 * Opening IN and OUT. `-` is stdin / stdout; anything else is a path. What happens to a path OUT
 * depends on what is there:
 *
 * ```
 * nothing, or a regular file   AtomicFile: a temporary file in the same directory, renamed
 *                              over OUT on success (all or nothing)
 * a device, FIFO or socket     written in place, never replaced or chmod-ed (special-output.ts)
 * a symbolic link              refused (ERR_USAGE naming the target and --force); with --force
 *                              the link is followed: its final target is handled as above, in
 *                              the target's own directory, and the link stays a link
 * a directory                  ERR_IO
 * ```
 *
 * A terminal on stdout never receives ciphertext unless `--force` is given
 * ({@link refuseCiphertextOnTerminal}).
 *
 * @module
 */
import type { Stats } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { AtomicFile } from './atomic-output.js';
import { CliError, usageError } from './cli-error.js';
import { isSpecialNode, openSpecialOutput } from './special-output.js';
import { quoted } from './terminal-text.js';

/** The path that means stdin (as IN) or stdout (as OUT). */
export const STDIO = '-';

/** An opened input. */
export interface Input {
  /** The bytes. */
  stream: Readable;
  /** Size in bytes when IN is a regular file, else `undefined`. */
  size: number | undefined;
}

/** An opened output. */
export interface Output {
  /** Where the bytes go; end it before {@link Output.commit}. */
  stream: Writable;
  /** Makes the output visible (a file: fsync and rename; a device: close). */
  commit(): Promise<void>;
  /** Discards the output (a file: removes the temporary file; a device: closes it). */
  abort(): Promise<void>;
}

/** How OUT may be opened. */
export interface OutputOptions {
  /** `--force`: follow a symbolic link OUT (write its target). Default false: refuse. */
  readonly followSymlink?: boolean;
  /** Ciphertext without `--force`: refuse an OUT that is a terminal device. Default false. */
  readonly refuseTerminal?: boolean;
}

/**
 * Opens IN.
 * @param path - a file path, or `-` for stdin
 * @returns the stream and, for a regular file, its size
 * @throws system errors (`ENOENT`, `EACCES`, …)
 */
export async function openInput(path: string): Promise<Input> {
  if (path === STDIO) return { stream: process.stdin, size: undefined };
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    return { stream: fh.createReadStream(), size: st.isFile() ? st.size : undefined };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** `lstat`, or `undefined` when nothing is there. */
async function lstatOrNothing(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The final target of a symbolic link, or a CliError saying why there is none. */
async function linkTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') throw new CliError('ERR_IO', `OUT ${quoted(path)} is a symbolic link to a missing file; give the target path instead`);
    if (code === 'ELOOP') throw new CliError('ERR_IO', `OUT ${quoted(path)} is a symbolic link loop`);
    throw e;
  }
}

/**
 * Opens OUT.
 * @param path - a file path, or `-` for stdout
 * @param opts - `followSymlink` (`--force`), `refuseTerminal` (ciphertext without `--force`)
 * @returns the output; for a regular file, nothing appears at `path` before `commit()`
 * @throws CliError `ERR_USAGE` for a symbolic link without `followSymlink`, `ERR_IO` for a
 *   directory or a dangling link; system errors (e.g. the directory does not exist or is not
 *   writable)
 * @example
 * ```ts
 * const out = await openOutput('/dev/null'); // written in place, never replaced
 * ```
 */
export async function openOutput(path: string, opts: OutputOptions = {}): Promise<Output> {
  if (path === STDIO) {
    return { stream: process.stdout, commit: async () => undefined, abort: async () => undefined };
  }
  let target = path;
  let st = await lstatOrNothing(target);
  if (st?.isSymbolicLink()) {
    if (opts.followSymlink !== true) {
      const to = await readlink(path).catch(() => '?');
      throw usageError(
        `OUT ${quoted(path)} is a symbolic link (to ${quoted(to)}); enseal does not replace links: give the target path, or --force to write the target (the link stays)`,
      );
    }
    target = await linkTarget(path); // realpath: no link left in it
    st = await lstatOrNothing(target);
  }
  if (st === undefined || st.isFile()) return AtomicFile.create(target);
  if (st.isDirectory()) throw new CliError('ERR_IO', `OUT ${quoted(path)} is a directory`);
  if (isSpecialNode(st)) return openSpecialOutput(target, st, { refuseTerminal: opts.refuseTerminal === true });
  throw new CliError('ERR_IO', `OUT ${quoted(path)} is neither a file nor a device, FIFO or socket`);
}

/**
 * Refuses to write ciphertext to a terminal: it is useless there and can upset the terminal.
 * @param output - OUT as given
 * @param force - `--force`
 * @param isTTY - whether stdout is a terminal (default `process.stdout.isTTY`)
 * @throws CliError `ERR_USAGE` when OUT is `-`, stdout is a terminal and `force` is false
 * @example
 * ```ts
 * refuseCiphertextOnTerminal(cmd.output, cmd.force); // before any key is loaded
 * ```
 */
export function refuseCiphertextOnTerminal(output: string, force: boolean, isTTY: boolean | undefined = process.stdout.isTTY): void {
  if (output === STDIO && isTTY === true && !force) {
    throw usageError('refusing to write ciphertext to a terminal (OUT is "-"): redirect stdout to a file or a pipe, or give --force');
  }
}
