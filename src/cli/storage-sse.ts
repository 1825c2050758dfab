/**
 * `--sse`: server-side encryption requested from the store, on top of enseal's own:
 *
 * ```
 * oss://   AES256 (SSE-OSS)   KMS or KMS:KEYID (SSE-KMS, a CMK id)   SM4
 * s3://    AES256 (SSE-S3)    aws:kms or aws:kms:KEYID (SSE-KMS)     SSE-C (--sse-c-key-file FILE)
 * ```
 *
 * An SSE-C key file holds the 32-byte customer key, raw or as standard base64 (a final line
 * feed is allowed). The same key must be given again to `get`, `head` and `rewrap` of that
 * object. A local folder has no server-side encryption (`--sse` is refused there).
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { wipe, copyBytes } from '../bytes.js';
import type { ServerSideEncryption } from '../storage/store.js';
import { CliError, usageError } from './cli-error.js';
import type { StorageScheme } from './storage-url.js';
import { quoted } from './terminal-text.js';

/** A parsed `--sse` (the SSE-C key is read when the command runs). */
export type SseArg =
  | { readonly provider: 'oss'; readonly algorithm: 'AES256' | 'SM4' }
  | { readonly provider: 'oss'; readonly algorithm: 'KMS'; readonly keyId?: string }
  | { readonly provider: 's3'; readonly algorithm: 'AES256' }
  | { readonly provider: 's3'; readonly algorithm: 'aws:kms'; readonly keyId?: string }
  | { readonly provider: 's3'; readonly algorithm: 'SSE-C'; readonly keyFile: string };

/**
 * Parses `--sse` for a location's scheme.
 * @param text - the `--sse` value, or `undefined`
 * @param keyFile - `--sse-c-key-file`, or `undefined`
 * @param scheme - the location's scheme
 * @returns the request, or `undefined` when neither option is given
 * @throws CliError `ERR_USAGE` for a value the store does not offer, or a key file without SSE-C
 * @example
 * ```ts
 * parseSse('KMS:key-123', undefined, 'oss'); // { provider: 'oss', algorithm: 'KMS', keyId: 'key-123' }
 * parseSse('SSE-C', 'c.key', 's3');          // { provider: 's3', algorithm: 'SSE-C', keyFile: 'c.key' }
 * ```
 */
export function parseSse(text: string | undefined, keyFile: string | undefined, scheme: StorageScheme): SseArg | undefined {
  if (text === undefined) {
    if (keyFile !== undefined) throw usageError('--sse-c-key-file applies only with --sse SSE-C');
    return undefined;
  }
  if (scheme === 'file') throw usageError('--sse applies to s3:// and oss:// objects (a local folder has no server-side encryption)');
  if (keyFile !== undefined && !(scheme === 's3' && text === 'SSE-C')) throw usageError('--sse-c-key-file applies only with --sse SSE-C on s3://');
  if (scheme === 'oss') {
    if (text === 'AES256' || text === 'SM4') return { provider: 'oss', algorithm: text };
    if (text === 'KMS') return { provider: 'oss', algorithm: 'KMS' };
    if (text.startsWith('KMS:') && text.length > 4) return { provider: 'oss', algorithm: 'KMS', keyId: text.slice(4) };
    throw usageError(`--sse for oss:// expects AES256, KMS, KMS:KEYID or SM4, got ${quoted(text, 60)}`);
  }
  if (text === 'AES256') return { provider: 's3', algorithm: 'AES256' };
  if (text === 'aws:kms') return { provider: 's3', algorithm: 'aws:kms' };
  if (text.startsWith('aws:kms:') && text.length > 8) return { provider: 's3', algorithm: 'aws:kms', keyId: text.slice(8) };
  if (text === 'SSE-C') {
    if (keyFile === undefined || keyFile === '' || keyFile === '-') throw usageError('--sse SSE-C needs --sse-c-key-file FILE (the 32-byte customer key, raw or base64)');
    return { provider: 's3', algorithm: 'SSE-C', keyFile };
  }
  throw usageError(`--sse for s3:// expects AES256, aws:kms, aws:kms:KEYID or SSE-C, got ${quoted(text, 60)}`);
}

/** Decodes a key file's bytes: 32 raw bytes, or base64 of 32 bytes (one final line feed allowed). */
function customerKey(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length === 32) return copyBytes(bytes);
  const text = Buffer.from(bytes).toString('latin1').replace(/\r?\n$/, '');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return undefined;
  const key = new Uint8Array(Buffer.from(text, 'base64'));
  return key.length === 32 ? key : undefined;
}

/**
 * The store request for a parsed `--sse`, reading an SSE-C key file.
 * @param sse - parsed `--sse`
 * @returns the request and a `dispose()` that wipes the SSE-C key copy
 * @throws CliError `ERR_KEYFILE` when the SSE-C key file is missing or not a 32-byte key
 */
export async function resolveSse(sse: SseArg | undefined): Promise<{ sse: ServerSideEncryption | undefined; dispose(): void }> {
  if (sse === undefined) return { sse: undefined, dispose: () => undefined };
  if (sse.algorithm !== 'SSE-C') return { sse, dispose: () => undefined };
  let raw: Uint8Array;
  try {
    raw = await readFile(sse.keyFile);
  } catch (e) {
    throw new CliError('ERR_KEYFILE', `cannot read the SSE-C key file ${quoted(sse.keyFile)}: ${(e as { code?: string }).code ?? 'error'}`);
  }
  const key = raw.length <= 64 ? customerKey(raw) : undefined;
  wipe(raw);
  if (key === undefined) throw new CliError('ERR_KEYFILE', `the SSE-C key file ${quoted(sse.keyFile)} must hold a 32-byte key (raw, or standard base64)`);
  return { sse: { provider: 's3', algorithm: 'SSE-C', key }, dispose: () => wipe(key) };
}
