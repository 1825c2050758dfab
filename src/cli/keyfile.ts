/**
 * AES-256 key files: `{"type":"aes256","id":"…","key":"<standard base64 of 32 bytes>"}`.
 * Reading validates strictly (no other fields) and never puts key material in a message;
 * the decoded key bytes and the file buffer are wiped once the provider holds its own copy.
 *
 * @module
 */
import { open } from 'node:fs/promises';
import { fromBase64, fromUtf8, isWellFormed, utf8, wipe } from '../bytes.js';
import { MAX_KEY_ID_LENGTH } from '../format/limits.js';
import { aesKey } from '../keys/aes-key.js';
import type { KeyProvider } from '../keys/provider.js';
import { CliError } from './cli-error.js';
import { keyFileModeWarning, warnOnStderr, type Warn } from './key-permissions.js';
import { quoted } from './terminal-text.js';

/** The `type` field of an AES-256 key file. */
export const KEY_FILE_TYPE = 'aes256';
/** AES-256 key length in bytes. */
export const KEY_LENGTH = 32;
/** Largest key file read, in bytes (a valid one is far smaller). */
export const MAX_KEY_FILE_SIZE = 64 * 1024;

const FIELDS = ['type', 'id', 'key'];

/** The content of a valid key file. The caller wipes `key`. */
export interface KeyMaterial {
  id: string;
  key: Uint8Array;
}

/**
 * Why `id` cannot be a key id, or `undefined` if it can (non-empty, well-formed Unicode, at
 * most 2048 UTF-8 bytes).
 * @param id - candidate key id
 * @returns a problem description, or `undefined`
 */
export function keyIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'must be a non-empty string';
  if (!isWellFormed(id)) return 'must be well-formed Unicode (it has a lone UTF-16 surrogate)';
  const n = utf8(id).length;
  if (n > MAX_KEY_ID_LENGTH) return `must be at most ${MAX_KEY_ID_LENGTH} bytes of UTF-8, got ${n}`;
  return undefined;
}

/**
 * Serialises a key file (with a final newline).
 * @param id - key id (checked by the caller with {@link keyIdProblem})
 * @param key - the 32 key bytes
 * @returns the file's UTF-8 bytes; the caller wipes them after writing
 */
export function formatKeyFile(id: string, key: Uint8Array): Uint8Array {
  const text = `${JSON.stringify({ type: KEY_FILE_TYPE, id, key: Buffer.from(key.buffer, key.byteOffset, key.length).toString('base64') })}\n`;
  return utf8(text);
}

/**
 * Validates the bytes of a key file. Messages name the file and the field, never its value.
 * @param bytes - the file content (not modified)
 * @param path - the file's path, for messages (already escaped and quoted by the caller)
 * @returns the key id and key bytes (the caller wipes `key`)
 * @throws CliError `ERR_KEYFILE`
 */
export function parseKeyFile(bytes: Uint8Array, path: string): KeyMaterial {
  const fail = (why: string): CliError => new CliError('ERR_KEYFILE', `key file ${path}: ${why}`);
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw fail('is not UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail('is not valid JSON'); // JSON.parse's own message quotes the input: not shown
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('must hold a JSON object');
  const obj = value as Record<string, unknown>;
  for (const name of Object.keys(obj)) {
    if (!FIELDS.includes(name)) throw fail(`unknown field ${quoted(name, 40)}`);
  }
  if (obj.type !== KEY_FILE_TYPE) throw fail(`field "type" must be "${KEY_FILE_TYPE}"`);
  if (typeof obj.id !== 'string') throw fail('field "id" must be a non-empty string');
  const idProblem = keyIdProblem(obj.id);
  if (idProblem !== undefined) throw fail(`field "id" ${idProblem}`);
  if (typeof obj.key !== 'string') throw fail('field "key" must be a base64 string');
  let key: Uint8Array;
  try {
    key = fromBase64(obj.key);
  } catch {
    throw fail('field "key" is not standard padded base64');
  }
  if (key.length !== KEY_LENGTH) {
    const n = key.length;
    wipe(key);
    throw fail(`field "key" must encode exactly ${KEY_LENGTH} bytes, got ${n}`);
  }
  return { id: obj.id, key };
}

/**
 * Reads at most `limit + 1` bytes of a file (so an oversized file is detected, not loaded).
 * @param path - file path
 * @param limit - the largest size accepted
 * @param onMode - called with the opened file's `st_mode` (for the permission check)
 * @returns the bytes read (more than `limit` means the file is too large); the caller wipes them
 * @throws system errors (`ENOENT`, `EISDIR`, …)
 */
export async function readLimited(path: string, limit: number, onMode?: (mode: number) => void): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  const buf = new Uint8Array(limit + 1);
  try {
    if (onMode !== undefined) onMode((await fh.stat()).mode);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } catch (e) {
    wipe(buf); // a part may have been read
    throw e;
  } finally {
    await fh.close();
  }
}

/**
 * Loads one key file as an `aesKey` provider. A valid key file that group or others can access
 * gets a warning (see `./key-permissions.ts`).
 * @param path - key file path
 * @param warn - where the permission warning goes (default stderr)
 * @returns a provider usable as a recipient or a decryption key
 * @throws CliError `ERR_KEYFILE` when the file cannot be read or is not a valid key file
 * @example
 * ```ts
 * const alice = await loadKeyFile('alice.key');
 * ```
 */
export async function loadKeyFile(path: string, warn: Warn = warnOnStderr): Promise<KeyProvider> {
  const shownPath = quoted(path);
  let bytes: Uint8Array;
  let mode = 0;
  try {
    bytes = await readLimited(path, MAX_KEY_FILE_SIZE, (m) => (mode = m));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new CliError('ERR_KEYFILE', `key file ${shownPath}: cannot be read (${typeof code === 'string' ? code : 'error'})`);
  }
  try {
    if (bytes.length > MAX_KEY_FILE_SIZE) {
      throw new CliError('ERR_KEYFILE', `key file ${shownPath}: larger than ${MAX_KEY_FILE_SIZE} bytes`);
    }
    const { id, key } = parseKeyFile(bytes, shownPath);
    try {
      const provider = aesKey({ id, key }); // the provider keeps its own copy
      const warning = keyFileModeWarning(path, mode);
      if (warning !== undefined) warn(warning);
      return provider;
    } catch (e) {
      // Defensive: parseKeyFile already enforces what aesKey checks; its messages hold no key.
      if (e instanceof TypeError || e instanceof RangeError) throw new CliError('ERR_KEYFILE', `key file ${shownPath}: ${e.message}`);
      throw e;
    } finally {
      wipe(key);
    }
  } finally {
    wipe(bytes);
  }
}
