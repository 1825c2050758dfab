/**
 * Reading OSS client-side-encrypted objects from any {@link ObjectStore} (docs/INTEROP.md
 * §OSS.4): whole or by range, current or legacy Python format, single PUT or multipart (the
 * parts continue one CTR stream, so a reader needs no part boundaries). This is what the
 * encrypting bucket calls for an object whose metadata `detectFormat` says is `oss` or
 * `oss-legacy`.
 *
 * ```
 * range [s, e] (inclusive) of a plaintext of n bytes, 0 ≤ s < n:
 *   e'      = min(e, n − 1)
 *   aligned = s − (s mod 16)                    the store GET is bytes=aligned-e'
 *   counter = IV + aligned/16 (mod 2^128)       (oss-counter.ts)
 *   output  = CTR(counter, body)[s − aligned …]  the first s mod 16 bytes are dropped
 * ```
 *
 * **Refused unless asked for.** CTR has no tag and the metadata has no MAC, so anything read
 * here is unauthenticated: `openOssObject` throws `ERR_UNAUTHENTICATED` unless the caller passes
 * `allowUnauthenticated: true`. A whole-object read of an object with
 * `unencrypted-content-md5` checks that MD5 at the end of the stream (`ERR_AUTH` on mismatch), but
 * every byte before the end was delivered unauthenticated (docs/SECURITY.md §"Foreign formats").
 *
 * @module
 */
import { escapeControl, wipe } from '../bytes.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError, RangeNotSatisfiableError } from '../errors.js';
import type { ObjectInfo, ObjectStore } from '../storage/store.js';
import { ossCtrStream } from './oss-content.js';
import { addBlocks } from './oss-counter.js';
import { unwrapOssContentKey } from './oss-keyring.js';
import { decodeOssMetadata, type OssObjectDescription } from './oss-metadata.js';

/** Options of {@link openOssObject}. */
export interface OpenOssObjectOptions {
  /** Key providers; those with an OSS face (`ossRsaKey`, `ossKmsKey`) are tried. */
  readonly keys: readonly unknown[];
  /** Must be `true`: OSS content is unauthenticated AES-CTR. */
  readonly allowUnauthenticated?: boolean;
  /** Inclusive plaintext range (HTTP `Range` semantics; `end` omitted or past the end = to the end). */
  readonly range?: { readonly start: number; readonly end?: number };
  /** Crypto backend for the content (and the keys, unless a key names its own). */
  readonly backend?: BackendChoice;
  /** Aborts the store request and the body. */
  readonly signal?: AbortSignal;
}

/** What {@link openOssObject} returns. */
export interface OpenOssObjectResult {
  /** The plaintext (of the range), streamed with O(chunk) memory; unauthenticated. */
  readonly body: ReadableStream<Uint8Array>;
  /** Bytes `body` delivers. */
  readonly size: number;
  /** Plaintext size of the whole object (= stored size: CTR does not expand). */
  readonly totalSize: number;
  /** The inclusive range served, for a ranged read. */
  readonly range?: { readonly start: number; readonly end: number };
  /** Whether the body ends with an MD5 check (whole read of an object that records one). */
  readonly md5Checked: boolean;
  /** The decoded metadata. */
  readonly description: OssObjectDescription;
}

/**
 * Decodes and checks an object's OSS metadata against its stored size.
 * @param info - the object's size and metadata (one snapshot)
 * @returns the description
 * @throws EnsealError `ERR_HEADER` when the metadata is not OSS encryption metadata, is malformed,
 *   or records a plaintext length other than the stored size
 * @example
 * ```ts
 * const d = describeOssObject(await store.head(key));
 * ```
 */
export function describeOssObject(info: ObjectInfo): OssObjectDescription {
  const desc = decodeOssMetadata(info.metadata);
  if (desc === undefined) throw new EnsealError('ERR_HEADER', 'not an OSS client-side-encrypted object (no client-side-encryption-* or oss-crypto-* metadata)');
  for (const [name, v] of [['unencrypted-content-length', desc.unencryptedContentLength], ['data-size', desc.dataSize]] as const) {
    if (v !== undefined && v !== info.size) throw new EnsealError('ERR_HEADER', `OSS metadata "${name}" (${v}) does not match the stored size (${info.size})`);
  }
  return desc;
}

/**
 * Opens an OSS client-side-encrypted object (or a range of it) for reading.
 *
 * @param store - the object store
 * @param key - the object key
 * @param info - the object's `head` answer (size and metadata, read once)
 * @param opts - `{ keys, allowUnauthenticated: true, range?, backend?, signal? }`
 * @returns the plaintext stream and its sizes
 * @throws EnsealError `ERR_HEADER` (bad metadata), `ERR_UNAUTHENTICATED` (no opt-in),
 *   `ERR_RANGE` (start at or past the end), `ERR_NO_KEY` (no keyring unwraps it), `ERR_STORE`
 *   (the object changed between `head` and `get`), store errors; the body errors with
 *   `ERR_TRUNCATED`, `ERR_STORE` or `ERR_AUTH` (MD5 mismatch, at the end); TypeError/RangeError
 *   for a malformed range
 * @example
 * ```ts
 * const info = await store.head('photo.jpg');
 * const { body } = await openOssObject(store, 'photo.jpg', info, { keys: [ossKey], allowUnauthenticated: true, range: { start: 100, end: 199 } });
 * ```
 */
export async function openOssObject(store: ObjectStore, key: string, info: ObjectInfo, opts: OpenOssObjectOptions): Promise<OpenOssObjectResult> {
  if (typeof opts !== 'object' || opts === null || !Array.isArray(opts.keys)) throw new TypeError('"options" expected { keys, allowUnauthenticated }');
  // Snapshots: one size, one metadata map, one range.
  const size = info.size;
  const etag = info.etag;
  const desc = describeOssObject({ size, metadata: { ...info.metadata } });
  if (opts.allowUnauthenticated !== true) {
    throw new EnsealError('ERR_UNAUTHENTICATED', `"${escapeControl(key, 120)}" is an OSS client-side-encrypted object (AES-CTR, no integrity): reading it needs allowUnauthenticated: true`);
  }
  const range = opts.range === undefined ? undefined : { start: opts.range.start, end: opts.range.end };
  let start = 0;
  let end = size - 1;
  if (range !== undefined) {
    if (!Number.isSafeInteger(range.start) || range.start < 0) throw new RangeError(`"range.start" expected a non-negative integer, got ${String(range.start)}`);
    if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start)) throw new RangeError(`"range.end" expected an integer ≥ start, got ${String(range.end)}`);
    if (range.start >= size) throw new RangeNotSatisfiableError(range.start, size);
    start = range.start;
    end = Math.min(range.end ?? size - 1, size - 1);
  }
  const backend = getBackend(opts.backend);
  const { key: cek, iv } = await unwrapOssContentKey(opts.keys, desc, backend);
  try {
    const aligned = start - (start % 16);
    const whole = range === undefined;
    const got = await store.get(key, { ...(whole || size === 0 ? {} : { range: { start: aligned, end } }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    if (got.size !== size || (etag !== undefined && got.etag !== undefined && got.etag !== etag)) {
      await got.body.cancel().catch(() => undefined);
      throw new EnsealError('ERR_STORE', `"${escapeControl(key, 120)}" changed between head and get (size ${size} → ${got.size})`);
    }
    const md5 = whole ? desc.unencryptedContentMd5 : undefined;
    const inputLength = size === 0 ? 0 : end - aligned + 1;
    const body = got.body.pipeThrough(
      ossCtrStream({ backend, key: cek, counter: addBlocks(iv, aligned / 16), inputLength, skip: start - aligned, ...(md5 === undefined ? {} : { md5 }), what: `"${escapeControl(key, 120)}"` }),
    );
    return {
      body,
      size: size === 0 ? 0 : end - start + 1,
      totalSize: size,
      ...(whole ? {} : { range: { start, end } }),
      md5Checked: md5 !== undefined,
      description: desc,
    };
  } finally {
    wipe(cek, iv);
  }
}
