/**
 * The permission check of secret key files (`--key`, `--add-key`, `--rsa-private`): a key file
 * that group or others can read (or write) gets a warning on stderr naming `chmod 600` — not an
 * error, since the key may be shared on purpose, but anyone else on the machine can decrypt
 * what it protects. The mode is taken from the opened file (fstat), so it is the mode of the
 * bytes that were read.
 *
 * @module
 */
import { quoted } from './terminal-text.js';

/** Where warnings go: one complete line per call. */
export type Warn = (line: string) => void;

/** The default {@link Warn}: stderr. */
export const warnOnStderr: Warn = (line) => {
  process.stderr.write(line);
};

/** Permission bits of group and others. */
const GROUP_OTHER = 0o077;

/**
 * The warning for a key file's mode, if it deserves one.
 * @param path - the file, as given on the command line
 * @param mode - its `st_mode`
 * @returns one line (with its newline), or `undefined` when only the owner has access
 * @example
 * ```ts
 * keyFileModeWarning('k.json', 0o100644);
 * // 'enseal: warning: key file "k.json" is accessible by group or others (mode 0644); run: chmod 600 "k.json"\n'
 * ```
 */
export function keyFileModeWarning(path: string, mode: number): string | undefined {
  if ((mode & GROUP_OTHER) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return `enseal: warning: key file ${quoted(path)} is accessible by group or others (mode ${octal}); run: chmod 600 ${quoted(path)}\n`;
}
