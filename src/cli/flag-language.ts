/**
 * Library argument errors in command-line terms. The library signals bad options with
 * `TypeError`/`RangeError` messages that name its own options (`"recipients" expected at most 64
 * providers, got 65`, `encryption context value expected 0..4096 bytes`); here they always come
 * from something the user typed, so they are restated with the flags and variables a user can
 * change. Messages not listed keep their text.
 *
 * @module
 */

/** One rewrite: a pattern of the library's message and its command-line wording. */
interface Rewrite {
  readonly pattern: RegExp;
  readonly replace: (m: RegExpExecArray) => string;
}

const RECIPIENT_FLAGS = '--key, --kms, --rsa-public, --passphrase-env, --passphrase (rewrap and rotate: --add-...)';
const KEY_FLAGS = '--key, --kms, --rsa-private, --passphrase-env, --passphrase';

const REWRITES: readonly Rewrite[] = [
  {
    pattern: /^"recipients" expected at most (\d+) providers, got (\d+)/,
    replace: (m) => `too many recipients: at most ${m[1]} in all (${RECIPIENT_FLAGS}), got ${m[2]}`,
  },
  { pattern: /^"recipients" expected a non-empty array/, replace: () => `at least one recipient is needed (${RECIPIENT_FLAGS})` },
  {
    pattern: /^"keys" expected at most (\d+) providers, got (\d+)/,
    replace: (m) => `too many keys: at most ${m[1]} in all (${KEY_FLAGS}), got ${m[2]}`,
  },
  { pattern: /^"keys" expected a non-empty array/, replace: () => `at least one key is needed (${KEY_FLAGS})` },
  {
    pattern: /^rewrap would leave (\d+) recipients; expected 1\.\.(\d+)/,
    replace: (m) => `the result would have ${m[1]} recipients; between 1 and ${m[2]} must remain (check --add-... and --remove)`,
  },
  {
    pattern: /^encryption context key "enseal:bound" is reserved/,
    replace: () => '--context key "enseal:bound" is reserved (enseal uses it to bind KMS recipients); choose another key',
  },
  { pattern: /^encryption context expected at most (\d+) entries, got (\d+)/, replace: (m) => `at most ${m[1]} --context pairs are allowed, got ${m[2]}` },
  {
    pattern: /^encryption context (key|value) expected (\d+)\.\.(\d+) bytes, got (\d+)/,
    replace: (m) => `a --context ${m[1] === 'key' ? 'KEY' : 'VALUE'} must be ${m[2]}..${m[3]} bytes of UTF-8, got ${m[4]}`,
  },
  { pattern: /^encryption context (key|value)\b(.*)$/, replace: (m) => `--context ${m[1] === 'key' ? 'KEY' : 'VALUE'}${m[2]}` },
  { pattern: /^encryption context\b(.*)$/, replace: (m) => `--context${m[1]}` },
  { pattern: /^"passphrase" expected (.*)$/, replace: (m) => `the passphrase (--passphrase-env VAR or --passphrase) expected ${m[1]}` },
];

/**
 * Restates a library argument error with command-line flags.
 * @param message - the `TypeError`/`RangeError` message
 * @returns the message in command-line terms (unchanged when no rewrite applies)
 * @example
 * ```ts
 * inFlagLanguage('"recipients" expected at most 64 providers, got 65');
 * // 'too many recipients: at most 64 in all (--key, --kms, …), got 65'
 * ```
 */
export function inFlagLanguage(message: string): string {
  for (const { pattern, replace } of REWRITES) {
    const m = pattern.exec(message);
    if (m !== null) return replace(m);
  }
  return message;
}
