/**
 * The `--help` text and the `--version` string.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** What `enseal --help` prints (also the reference for exit statuses and error codes). */
export const USAGE = `Usage:
  enseal keygen aes --out FILE [--id ID]
  enseal encrypt --key FILE [--key FILE]... [--context K=V]... IN OUT
  enseal decrypt --key FILE [--key FILE]... [--context K=V]... [--range START-END] IN OUT
  enseal inspect IN
  enseal help | --help | -h
  enseal --version

Commands:
  keygen aes  Create a new AES-256 key file (JSON, mode 0600, never overwrites an existing
              file) and print its id. Default id: "aes-" and 16 random hex digits.
  encrypt     Encrypt IN to OUT for every --key (each of them can decrypt alone).
              --context pairs are stored in the header in clear and bound to the ciphertext.
  decrypt     Decrypt and authenticate IN with any of the --key files. Each --context pair
              must be present in the header with the same value (else ERR_CONTEXT).
              --range START-END writes only plaintext bytes START..END (inclusive, as in
              HTTP; "START-" means to the end), reading only the chunks it needs; IN must be
              a file. A START at or past the end fails with ERR_RANGE.
  inspect     Print the header of IN as JSON: context, recipients' key ids, sizes. Needs no
              key and authenticates nothing.

Input and output:
  IN "-" reads stdin; OUT "-" writes stdout.
  A file OUT is written to a temporary file (mode 0600) in the same directory and renamed
  into place only on success: on failure (or Ctrl-C) no OUT file is created and an existing
  one is left as it was. A new OUT therefore has mode 0600.
  With OUT "-", output goes to stdout as it is produced. If decryption fails part-way,
  stdout may already hold the chunks that authenticated before the failure: only the exit
  status tells whether the output is complete.
  A progress bar is drawn on stderr when stderr is a terminal and IN is a file larger than
  16 MiB.

Key files:
  {"type":"aes256","id":"ID","key":"<standard base64 of 32 bytes>"}
  No other fields are accepted.

Exit status:
  0  success
  1  the data or the crypto failed (ERR_AUTH, ERR_NO_KEY, ERR_CONTEXT, ERR_TRUNCATED,
     ERR_HEADER, ERR_RANGE, ...), reading or writing failed (ERR_IO), or keygen found an
     existing file (ERR_EXISTS)
  2  the command line is wrong (ERR_USAGE) or a key file is missing, unreadable or
     malformed (ERR_KEYFILE)
  Errors are reported on stderr as one line: "enseal: CODE: message".
`;

/**
 * The package version, read from package.json (two levels above this module in both src/
 * and dist/).
 * @returns e.g. `0.1.0`
 */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}
