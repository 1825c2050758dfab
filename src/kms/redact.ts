/**
 * Keeps secrets out of KMS error messages. A message from a KMS server is untrusted text: it is
 * cut to a bounded length, stripped of control characters, every known secret (secret access
 * key, session token, Vault token) is replaced, and so is every long base64 or hex run, which
 * could be key material echoed back.
 *
 * @module
 */

/** Longest server message kept in an error. */
export const MAX_SERVER_MESSAGE_LENGTH = 200;

/**
 * Runs of the base64/hex alphabet this long are replaced (a 16-byte key is 22+ characters of
 * base64 or 32 of hex) unless they read as words: error codes such as
 * `InvalidCiphertextException` or `Forbidden.KeyNotFound` are kept. Random base64 or hex
 * practically never splits into CamelCase tokens of 2+ letters.
 */
const LONG_RUN = /[A-Za-z0-9+/=_-]{20,}/g;
const TOKEN = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[^A-Za-z]+/g;

/** True for CamelCase words joined by . _ - (every token 2+ letters, acronyms ≤ 5); linear time. */
function wordy(run: string): boolean {
  for (const part of run.split(/[._-]/)) {
    if (part === '') return false;
    for (const [t] of part.matchAll(TOKEN)) {
      if (!/^[A-Za-z]+$/.test(t) || t.length < 2 || (/^[A-Z]+$/.test(t) && t.length > 5)) return false;
    }
  }
  return true;
}

/**
 * Returns a server message fit for an error: bounded, single-line, without secrets.
 *
 * @param message - text from a KMS response (may be anything)
 * @param secrets - values that must never appear (empty strings are ignored)
 * @returns the sanitized text (possibly empty)
 * @example
 * ```ts
 * redact('token s.abc is invalid', ['s.abc']); // "token [redacted] is invalid"
 * ```
 */
export function redact(message: unknown, secrets: readonly (string | undefined)[] = []): string {
  if (typeof message !== 'string') return '';
  // Redact before cutting: a cut first could leave the start of a secret behind.
  let s = message;
  for (const secret of secrets) if (secret !== undefined && secret.length > 0) s = s.split(secret).join('[redacted]');
  s = s.replace(LONG_RUN, (run) => (wordy(run) ? run : '[…]'));
  s = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return s.length > MAX_SERVER_MESSAGE_LENGTH ? `${s.slice(0, MAX_SERVER_MESSAGE_LENGTH)}…` : s;
}
