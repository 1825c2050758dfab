/**
 * Terminal safety at the CLI boundary. Everything the CLI prints may embed text from untrusted
 * bytes (a hostile header's key ids, labels and context, a file name): an escape sequence there
 * could clear the line and draw a fake "success" message, a CR could overwrite what came before,
 * a U+202E could reverse what follows. Two tools, both built on `escapeControl` (src/bytes.ts):
 *
 * - {@link quoted}: for one untrusted value the CLI puts in a message — escaped (backslash too,
 *   so the escape is unambiguous), cut short, in double quotes;
 * - {@link terminalSafe}: the last pass over a whole message line before it is written. It
 *   escapes control, C1, line-separator and bidi characters but leaves backslashes alone, so text
 *   already escaped (by the library or by {@link quoted}) is not escaped twice.
 *
 * {@link safeJson} is `JSON.stringify` for output that may reach a terminal: JSON escapes C0
 * controls itself but leaves DEL, C1 controls, U+2028/U+2029 and bidi controls raw; those become
 * `\uXXXX` escapes, so the document parses to the same value.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';

/** Longest message line printed (the start of a long message is the useful part). */
export const MAX_LINE = 4000;

/** Longest untrusted value shown inside a message (a key id may be 2048 bytes). */
export const MAX_VALUE = 120;

/** Characters JSON.stringify leaves raw that a terminal interprets: DEL, C1, separators, bidi, BOM. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Makes a message line safe to write on a terminal, without escaping backslashes again.
 * @param text - a message (may hold already-escaped text)
 * @param max - longest output kept before the ellipsis (default {@link MAX_LINE})
 * @returns one line without control, C1, separator or bidi characters
 * @example
 * ```ts
 * terminalSafe('id "a\\x1b" failed\x1b[2K\rOK'); // 'id "a\\x1b" failed\\x1b[2K\\rOK'
 * ```
 */
export function terminalSafe(text: string, max = MAX_LINE): string {
  const out = text
    .split('\\')
    .map((part) => escapeControl(part, Number.MAX_SAFE_INTEGER))
    .join('\\');
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/**
 * One untrusted value for a message: escaped and in double quotes.
 * @param value - the value (a key id, a context key, a file name, an option value…)
 * @param max - longest escaped text kept (default {@link MAX_VALUE})
 * @returns e.g. `"evil\x1b[2K"`
 * @example
 * ```ts
 * quoted('a\u202eb'); // '"a\\u202eb"'
 * ```
 */
export function quoted(value: string, max = MAX_VALUE): string {
  return `"${escapeControl(value, max)}"`;
}

/**
 * Pretty-printed JSON with every character a terminal would interpret escaped as `\uXXXX`.
 * Those characters can only occur inside JSON strings, so the result parses to the same value.
 * @param value - a JSON-able value
 * @returns the JSON text (two-space indent, no final newline)
 * @example
 * ```ts
 * safeJson({ id: 'a\u009bb' }); // '{\n  "id": "a\\u009bb"\n}'
 * ```
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
