/**
 * Key rotation of a stored object (docs/FORMAT.md §"Object storage", "Rewrapped headers").
 * The payload is bound only to the header's bound part, never to its recipients, so a new
 * header with other stanzas and a fresh MAC fits the same payload. Two ways to store it:
 *
 * - **copy** (the store has `copy`, and the new header fits the metadata budget): a
 *   server-side copy of the object onto itself with the new header in metadata
 *   (`enseal-header`). No payload byte passes through the client. Readers prefer that header
 *   when its MAC verifies, its bound part equals the body's and the payload's commitment opens
 *   under its data key, and refuse keys that are no longer among its recipients. The body's
 *   own (old) header stays in the object: a holder of an old key who can read the raw bytes can
 *   still decrypt them. Use `method: 'stream'` to remove old stanzas from the stored bytes.
 * - **stream**: the object is rewritten as `new header || payload`, the payload streamed
 *   through the client and passed on chunk by chunk only after each chunk authenticated, so a
 *   store serving damaged bytes cannot make the rewrite destroy the object.
 *
 * @module
 */
import { concat } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { inspect } from '../envelope/inspect.js';
import { rewrap } from '../envelope/rewrap.js';
import type { Stanza } from '../format/header.js';
import type { KeyProvider } from '../keys/provider.js';
import type { BackendChoice } from '../backends/select.js';
import { metadataBytes, withMarker } from './bucket-marker.js';
import { ObjectReader } from './bucket-reader.js';
import { retryPolicy, withRetry, type RetryOptions } from './multipart-retry.js';
import type { ObjectMetadata, ObjectStore, ServerSideEncryption } from './store.js';

/** Options of `rewrapObject`. */
export interface RewrapObjectOptions {
  /** Keys that unwrap the current header (default: the bucket's `keys`). */
  readonly keys?: readonly KeyProvider[];
  /** New recipients (one stanza each). */
  readonly add?: readonly KeyProvider[];
  /** Stanzas to remove: key ids, or a predicate. */
  readonly remove?: readonly string[] | ((stanza: Stanza) => boolean);
  /** `auto` (default): copy when possible, else stream. `copy` refuses rather than stream. */
  readonly method?: 'auto' | 'copy' | 'stream';
  /** Server-side encryption for the rewritten object (and SSE-C key for reading it). */
  readonly sse?: ServerSideEncryption;
  /** Aborts the operation. */
  readonly signal?: AbortSignal;
}

/** What `rewrapObject` did. */
export interface RewrapObjectResult {
  /** How the new header was stored. */
  readonly method: 'copy' | 'stream';
  /** The new recipients, as `inspect` shows them (no secrets). */
  readonly recipients: { type: string; keyId: string }[];
}

/** What the bucket hands to {@link rewrapStoredObject}. */
export interface RewrapContext {
  readonly store: ObjectStore;
  readonly backend: BackendChoice | undefined;
  readonly keys: readonly KeyProvider[];
  readonly maxMetadataBytes: number;
  readonly partSize: number;
  readonly retry?: RetryOptions;
  readonly headerHint?: number;
}

/**
 * Rewraps one object; see the module comment.
 *
 * @param key - object key
 * @param opts - keys, add, remove, method
 * @param ctx - the bucket's store, backend and limits
 * @returns the method used and the new recipients
 * @throws RangeError when no recipient would remain
 * @throws EnsealError `ERR_NO_KEY`, `ERR_AUTH`, `ERR_STORE`, `ERR_UNSUPPORTED` (`method: 'copy'`
 *   on a store without copy, or a header over the metadata budget)
 * @example
 * ```ts
 * await rewrapStoredObject('doc', { add: [newKey], remove: ['old-id'] }, { store, backend: undefined, keys: [oldKey], maxMetadataBytes: 2048, partSize: 8 << 20 });
 * ```
 */
export async function rewrapStoredObject(key: string, opts: RewrapObjectOptions, ctx: RewrapContext): Promise<RewrapObjectResult> {
  const method = opts.method ?? 'auto';
  if (!['auto', 'copy', 'stream'].includes(method)) throw new TypeError(`"method" expected auto, copy or stream, got ${String(method)}`);
  const keys = opts.keys ?? ctx.keys;
  const policy = retryPolicy(ctx.retry);
  const common = { ...(opts.sse === undefined ? {} : { sse: opts.sse }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) };
  // Open first: the header rewrapped is the trusted one, proven to open this payload.
  const reader = await ObjectReader.open(ctx.store, key, { keys, ...(ctx.backend === undefined ? {} : { backend: ctx.backend }), ...common }, ctx.headerHint === undefined ? {} : { headerLength: ctx.headerHint });
  try {
    const trusted = concat(reader.header.macInput, reader.header.mac);
    const newHeader = await rewrap(trusted, {
      keys,
      ...(opts.add === undefined ? {} : { add: opts.add }),
      ...(opts.remove === undefined ? {} : { remove: opts.remove }),
      ...(ctx.backend === undefined ? {} : { backend: ctx.backend }),
    });
    const recipients = inspect(newHeader).recipients.map((r) => ({ type: r.type, keyId: r.keyId }));
    const user = reader.metadata;
    const copyMd = withMarker(user, reader.size, reader.bodyHeaderLength, newHeader);
    const canCopy = typeof ctx.store.copy === 'function' && metadataBytes(copyMd) <= ctx.maxMetadataBytes;
    if (method === 'copy' && !canCopy) {
      throw new EnsealError(
        'ERR_UNSUPPORTED',
        typeof ctx.store.copy !== 'function'
          ? `${ctx.store.name} cannot copy server-side; use method "stream"`
          : `the rewrapped header needs ${metadataBytes(copyMd)} bytes of metadata, over the ${ctx.maxMetadataBytes}-byte budget; use method "stream"`,
      );
    }
    if (method !== 'stream' && canCopy) {
      const copy = ctx.store.copy!.bind(ctx.store);
      await withRetry((s) => copy(key, key, { metadata: copyMd, ...(opts.sse === undefined ? {} : { sse: opts.sse }), ...(s === undefined ? {} : { signal: s }) }), policy, opts.signal);
      return { method: 'copy', recipients };
    }
    // Streamed rewrite: new header || verified payload.
    const payload = await reader.verifiedPayload();
    const md: ObjectMetadata = withMarker(user, reader.size, newHeader.length);
    const storedSize = newHeader.length + (reader.storedSize - reader.bodyHeaderLength);
    await putRaw(ctx.store, key, prepend(newHeader, payload), storedSize, md, ctx.partSize, opts, policy);
    return { method: 'stream', recipients };
  } finally {
    reader.close();
  }
}

function prepend(head: Uint8Array, rest: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = rest.getReader();
  let first = true;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (first) {
          first = false;
          c.enqueue(head);
          return;
        }
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/** Stores already-encrypted bytes: one put up to `partSize`, else a plain multipart upload. */
async function putRaw(
  store: ObjectStore,
  key: string,
  body: ReadableStream<Uint8Array>,
  size: number,
  metadata: ObjectMetadata,
  partSize: number,
  opts: RewrapObjectOptions,
  policy: ReturnType<typeof retryPolicy>,
): Promise<void> {
  const sse = opts.sse === undefined ? {} : { sse: opts.sse };
  const signal = opts.signal;
  const reader = body.getReader();
  let leftover: Uint8Array = new Uint8Array(0);
  let total = 0;
  /** Exactly `n` bytes, or fewer at the end of the body; never more than `size` in all. */
  const read = async (n: number): Promise<Uint8Array> => {
    const out = new Uint8Array(n);
    let fill = 0;
    for (;;) {
      const k = Math.min(leftover.length, n - fill);
      out.set(leftover.subarray(0, k), fill);
      fill += k;
      leftover = leftover.subarray(k);
      if (fill === n) break;
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > size) throw new EnsealError('ERR_STORE', 'payload longer than expected');
      leftover = value;
    }
    return fill === n ? out : out.subarray(0, fill);
  };
  const part = Math.min(Math.max(partSize, store.multipart.minPartSize), store.multipart.maxPartSize);
  try {
    if (size <= part) {
      const bytes = await read(size);
      if (bytes.length !== size) throw new EnsealError('ERR_TRUNCATED', 'payload shorter than expected');
      await withRetry((s) => store.put(key, bytes, { metadata, contentLength: size, ...sse, ...(s === undefined ? {} : { signal: s }) }), policy, signal);
      return;
    }
    const { uploadId } = await withRetry((s) => store.createMultipart(key, { metadata, ...sse, ...(s === undefined ? {} : { signal: s }) }), policy, signal);
    try {
      const parts: { partNumber: number; etag: string }[] = [];
      for (let n = 1, left = size; left > 0; n++) {
        const want = left - part < store.multipart.minPartSize && left <= store.multipart.maxPartSize ? left : Math.min(part, left);
        const bytes = await read(want);
        if (bytes.length !== want) throw new EnsealError('ERR_TRUNCATED', 'payload shorter than expected');
        const { etag } = await withRetry((s) => store.uploadPart(key, uploadId, n, bytes, { ...sse, ...(s === undefined ? {} : { signal: s }) }), policy, signal);
        parts.push({ partNumber: n, etag });
        left -= want;
      }
      await withRetry((s) => store.completeMultipart(key, uploadId, parts, s === undefined ? {} : { signal: s }), policy, signal);
    } catch (e) {
      await withRetry((s) => store.abortMultipart(key, uploadId, s === undefined ? {} : { signal: s }), policy).catch(() => undefined);
      throw e;
    }
  } catch (e) {
    await reader.cancel(e).catch(() => undefined);
    throw e;
  }
}
