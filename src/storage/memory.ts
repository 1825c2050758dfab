/**
 * `enseal/storage/memory`: the reference implementation of the {@link ObjectStore} contract,
 * kept in memory. It behaves like S3 where the contract leaves room (416 for a range starting
 * at or past the end, `EntityTooSmall` for a short non-final part, parts replaced on re-upload,
 * the object visible only once complete), and adds test hooks that are part of its documented
 * API, for users testing their own code against a store:
 *
 * - **counters** ({@link MemoryStore.stats}): requests by operation, bytes received and bytes
 *   actually delivered to the reader of a body;
 * - **fault injection** ({@link MemoryStore.failOn}): make the k-th request from now throw,
 *   hang until its signal aborts, return a short body, or return another object's bytes;
 * - **computed objects** ({@link MemoryStore.putComputed}): a huge object whose bytes are made
 *   on demand, to test ranged reads of a GiB-sized object without a GiB of memory;
 * - **inspection** ({@link MemoryStore.peek}, {@link MemoryStore.pendingUploads}).
 *
 * @module
 */
import { readAll } from '../streams/read-all.js';
import { EnsealError } from '../errors.js';
import { notFoundError } from './errors.js';
import { checkRange, rangeNotSatisfiable } from './http-range.js';
import { S3_MAX_METADATA_BYTES, checkMetadata } from './metadata.js';
import { checkKey } from './object-key.js';
import type {
  CompletedPart,
  CreateMultipartOptions,
  GetOptions,
  GetResult,
  ListEntry,
  MultipartLimits,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  PutOptions,
  ServerSideEncryption,
  ServerSideEncryptionInfo,
  StoreFailure,
} from './store.js';
import { assertChunk, copyBytes } from '../bytes.js';

/** Operations a {@link MemoryStore} counts. */
export type MemoryOperation =
  | 'put'
  | 'get'
  | 'head'
  | 'delete'
  | 'list'
  | 'createMultipart'
  | 'uploadPart'
  | 'completeMultipart'
  | 'abortMultipart'
  | 'copy';

/**
 * A fault {@link MemoryStore.failOn} injects:
 * - `throw`: the request fails with `ERR_STORE` (status 500, code `InternalError`);
 * - `timeout`: the request hangs until its `signal` aborts (then rejects with the signal's
 *   reason), or `hangMs` passes (then `ERR_STORE` status 504);
 * - `short`: a `get` body ends cleanly after half the requested bytes (a proxy cutting the
 *   response); on requests without a response body it fails like a dropped connection;
 * - `other`: a `get` answers with another object's record and bytes (same range), as a store
 *   mixing up keys; without another object, pseudo-random bytes of the right length. On other
 *   requests it fails like `throw`.
 */
export type MemoryFault = 'throw' | 'timeout' | 'short' | 'other';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Name used in messages (default `memory`). */
  readonly name?: string;
  /** Multipart limits to enforce (default S3's: 5 MiB, 5 GiB, 10 000 parts). */
  readonly multipart?: Partial<MultipartLimits>;
  /** Largest user metadata, in bytes of names plus values (default 2048, S3's limit; over it, `TypeError` before the request). */
  readonly maxMetadataBytes?: number;
  /** Size of the pieces a `get` body is delivered in (default 64 KiB). */
  readonly bodyChunkSize?: number;
  /** Whether the store offers {@link ObjectStore.copy} (default true). */
  readonly copy?: boolean;
  /** How long a `timeout` fault hangs when its request has no signal (default 5000 ms). */
  readonly hangMs?: number;
}

/** Counters of a {@link MemoryStore}, since creation or the last {@link MemoryStore.resetStats}. */
export interface MemoryStats {
  /** Requests of every kind. */
  readonly requests: number;
  /** Requests by operation. */
  readonly byOperation: Readonly<Record<MemoryOperation, number>>;
  /** Body bytes received (`put`, `uploadPart`). */
  readonly bytesIn: number;
  /** Body bytes delivered to readers of `get` bodies (bytes never pulled are not counted). */
  readonly bytesOut: number;
}

/** A lazily computed object for {@link MemoryStore.putComputed}. */
export interface ComputedObject {
  /** Object size in bytes. */
  readonly size: number;
  /** Returns bytes `start` (inclusive) to `end` (exclusive); called only for delivered pieces. */
  read(start: number, end: number): Uint8Array | Promise<Uint8Array>;
  /** User metadata. */
  readonly metadata?: ObjectMetadata;
}

/** The in-memory store: an {@link ObjectStore} plus test hooks. */
export interface MemoryStore extends ObjectStore {
  /** Counters since creation or the last {@link resetStats}. */
  readonly stats: MemoryStats;
  /** Zeroes the counters. */
  resetStats(): void;
  /**
   * Makes the `k`-th request from now (1 = the next one) fail with `kind`. Several faults may
   * be armed at once; each fires once.
   * @param k - request number counted from this call, ≥ 1
   * @param kind - the fault
   * @param opts - for `other`: the key whose bytes to serve instead
   * @throws RangeError when `k` is not a positive integer
   * @example
   * ```ts
   * store.failOn(2, 'short'); // the second request from now returns half its body
   * ```
   */
  failOn(k: number, kind: MemoryFault, opts?: { readonly otherKey?: string }): void;
  /** Disarms every pending fault. */
  clearFaults(): void;
  /**
   * Stores an object whose bytes are computed on demand (not counted as a request).
   * @param key - object key
   * @param object - size, `read(start, end)`, metadata
   */
  putComputed(key: string, object: ComputedObject): void;
  /**
   * A copy of an object's stored bytes (not counted as a request), or `undefined` when there is
   * no such object or it is computed ({@link putComputed}).
   * @param key - object key
   */
  peek(key: string): Uint8Array | undefined;
  /** Keys of the stored objects, sorted (not counted as a request). */
  keys(): string[];
  /** Multipart uploads begun and neither completed nor aborted. */
  pendingUploads(): { key: string; uploadId: string; parts: number }[];
}

const OPERATIONS: readonly MemoryOperation[] = [
  'put',
  'get',
  'head',
  'delete',
  'list',
  'createMultipart',
  'uploadPart',
  'completeMultipart',
  'abortMultipart',
  'copy',
];

interface StoredObject {
  readonly size: number;
  readonly read: (start: number, end: number) => Uint8Array | Promise<Uint8Array>;
  readonly bytes?: Uint8Array;
  readonly metadata: ObjectMetadata;
  readonly etag: string;
  readonly lastModified: Date;
  readonly sse?: ServerSideEncryptionInfo;
}

interface Upload {
  readonly key: string;
  readonly metadata: ObjectMetadata;
  readonly sse?: ServerSideEncryptionInfo;
  readonly parts: Map<number, { bytes: Uint8Array; etag: string }>;
}

const S3_LIMITS: MultipartLimits = { minPartSize: 5 * 1024 * 1024, maxPartSize: 5 * 1024 ** 3, maxParts: 10_000 };
function storeError(message: string, failure: StoreFailure): EnsealError {
  return new EnsealError('ERR_STORE', message, { cause: failure });
}

function sseInfo(sse: ServerSideEncryption | undefined): ServerSideEncryptionInfo | undefined {
  if (sse === undefined) return undefined;
  if (sse.algorithm === 'SSE-C') return { algorithm: 'SSE-C' };
  const keyId = 'keyId' in sse ? sse.keyId : undefined;
  return keyId === undefined ? { algorithm: sse.algorithm } : { algorithm: sse.algorithm, keyId };
}

async function etagOf(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice()));
  let s = '';
  for (const x of d.subarray(0, 16)) s += x.toString(16).padStart(2, '0');
  return s;
}

async function collect(body: Uint8Array | ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<Uint8Array> {
  if (body instanceof Uint8Array) {
    assertChunk(body, '"body" expected Uint8Array or ReadableStream'); // a detached view would store an empty object
    return copyBytes(body);
  }
  if (!(body instanceof ReadableStream)) throw new TypeError('"body" expected Uint8Array or ReadableStream');
  return readAll(body, { max: Number.MAX_SAFE_INTEGER, tooLong: () => new RangeError('"body" is too long'), ...(signal === undefined ? {} : { signal }) });
}

/** Deterministic junk bytes `start..end` (exclusive), computed per position. */
function noise(start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = (Math.imul(start + i, 0x9e3779b1) >>> 24) & 0xff;
  return out;
}

/**
 * Creates an in-memory {@link ObjectStore} with counters and fault injection.
 *
 * @param opts - name, multipart limits, metadata limit, body piece size, copy support
 * @returns a fresh empty store
 * @throws RangeError for invalid limits
 * @example
 * ```ts
 * import { memoryStore } from 'enseal/storage/memory';
 * const store = memoryStore({ multipart: { minPartSize: 64 * 1024 } });
 * await store.put('a.txt', new TextEncoder().encode('hi'));
 * store.failOn(1, 'throw'); // the next request fails with ERR_STORE
 * ```
 */
export function memoryStore(opts: MemoryStoreOptions = {}): MemoryStore {
  const limits: MultipartLimits = { ...S3_LIMITS, ...opts.multipart };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`"multipart.${k}" expected a positive integer, got ${String(v)}`);
  }
  if (limits.minPartSize > limits.maxPartSize) throw new RangeError('"multipart.minPartSize" expected ≤ "maxPartSize"');
  const maxMetadataBytes = opts.maxMetadataBytes ?? S3_MAX_METADATA_BYTES;
  const pieceSize = opts.bodyChunkSize ?? 64 * 1024;
  const hangMs = opts.hangMs ?? 5000;
  if (!Number.isSafeInteger(maxMetadataBytes) || maxMetadataBytes < 0) throw new RangeError('"maxMetadataBytes" expected a non-negative integer');
  if (!Number.isSafeInteger(pieceSize) || pieceSize < 1) throw new RangeError('"bodyChunkSize" expected a positive integer');
  const name = opts.name ?? 'memory';

  const objects = new Map<string, StoredObject>();
  const uploads = new Map<string, Upload>();
  let uploadCounter = 0;
  let seq = 0;
  const faults = new Map<number, { kind: MemoryFault; otherKey?: string }[]>();
  let stats = { requests: 0, bytesIn: 0, bytesOut: 0, byOperation: Object.fromEntries(OPERATIONS.map((o) => [o, 0])) as Record<MemoryOperation, number> };

  const notFound = (key: string): EnsealError => notFoundError(name, key);

  /** Counts a request and returns the fault armed for it, if any. */
  const begin = (op: MemoryOperation): { kind: MemoryFault; otherKey?: string } | undefined => {
    stats.requests++;
    stats.byOperation[op]++;
    seq++;
    const armed = faults.get(seq);
    if (armed === undefined) return undefined;
    const f = armed.shift();
    if (armed.length === 0) faults.delete(seq);
    return f;
  };

  /** Applies a fault that is not body-shaped (every fault but `short`/`other` on `get`). */
  const applyFault = async (fault: { kind: MemoryFault } | undefined, op: MemoryOperation, signal?: AbortSignal): Promise<void> => {
    if (fault === undefined) return;
    if (fault.kind === 'timeout') {
      await new Promise<void>((_resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          reject(storeError(`${name}: ${op} timed out (injected)`, { status: 504, code: 'RequestTimeout' }));
        }, hangMs);
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (fault.kind === 'short') throw storeError(`${name}: ${op} connection reset (injected)`, { code: 'ECONNRESET' });
    throw storeError(`${name}: ${op} failed (injected)`, { status: 500, code: 'InternalError', requestId: `mem-${seq}` });
  };

  const store = (key: string, bytes: Uint8Array, metadata: ObjectMetadata, etag: string, sse?: ServerSideEncryptionInfo): void => {
    const obj: StoredObject = {
      size: bytes.length,
      bytes,
      read: (s, e) => bytes.subarray(s, e),
      metadata,
      etag,
      lastModified: new Date(),
      ...(sse === undefined ? {} : { sse }),
    };
    objects.set(key, obj);
  };

  const info = (o: StoredObject): ObjectInfo => ({
    size: o.size,
    metadata: { ...o.metadata },
    etag: o.etag,
    lastModified: new Date(o.lastModified.getTime()),
    ...(o.sse === undefined ? {} : { sse: { ...o.sse } }),
  });

  /** A body that delivers `read(start, end)` in pieces, counting delivered bytes. */
  const body = (read: StoredObject['read'], start: number, end: number, signal?: AbortSignal): ReadableStream<Uint8Array> => {
    let pos = start;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (signal?.aborted) {
            controller.error(signal.reason);
            return;
          }
          if (pos >= end) {
            controller.close();
            return;
          }
          const next = Math.min(end, pos + pieceSize);
          const got = await read(pos, next);
          if (!(got instanceof Uint8Array) || got.length !== next - pos) {
            controller.error(new TypeError(`computed object read(${pos}, ${next}) expected ${next - pos} bytes`));
            return;
          }
          const piece = copyBytes(got);
          pos = next;
          stats.bytesOut += piece.length;
          controller.enqueue(piece);
        },
      },
      { highWaterMark: 0 },
    );
  };

  const api: MemoryStore = {
    name,
    multipart: limits,
    get stats(): MemoryStats {
      return { requests: stats.requests, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, byOperation: { ...stats.byOperation } };
    },
    resetStats() {
      stats = { requests: 0, bytesIn: 0, bytesOut: 0, byOperation: Object.fromEntries(OPERATIONS.map((o) => [o, 0])) as Record<MemoryOperation, number> };
    },
    failOn(k, kind, o) {
      if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`"k" expected a positive integer, got ${String(k)}`);
      if (!['throw', 'timeout', 'short', 'other'].includes(kind)) throw new TypeError(`"kind" expected throw|timeout|short|other, got ${String(kind)}`);
      const at = seq + k;
      const list = faults.get(at) ?? [];
      list.push(o?.otherKey === undefined ? { kind } : { kind, otherKey: o.otherKey });
      faults.set(at, list);
    },
    clearFaults() {
      faults.clear();
    },
    putComputed(key, object) {
      checkKey(key);
      if (!Number.isSafeInteger(object.size) || object.size < 0) throw new RangeError('"size" expected a non-negative integer');
      objects.set(key, {
        size: object.size,
        read: (s, e) => object.read(s, e),
        metadata: checkMetadata(object.metadata, maxMetadataBytes),
        etag: `computed-${++uploadCounter}`,
        lastModified: new Date(),
      });
    },
    peek(key) {
      const b = objects.get(key)?.bytes;
      return b === undefined ? undefined : copyBytes(b);
    },
    keys() {
      return [...objects.keys()].sort();
    },
    pendingUploads() {
      return [...uploads.entries()].map(([uploadId, u]) => ({ key: u.key, uploadId, parts: u.parts.size }));
    },

    async put(key, data, o: PutOptions = {}) {
      checkKey(key);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      const fault = begin('put');
      o.signal?.throwIfAborted();
      const bytes = await collect(data, o.signal);
      stats.bytesIn += bytes.length;
      if (o.contentLength !== undefined && o.contentLength !== bytes.length) {
        throw storeError(`${name}: body of ${bytes.length} bytes does not match contentLength ${o.contentLength}`, { status: 400, code: 'IncompleteBody' });
      }
      await applyFault(fault, 'put', o.signal);
      const etag = await etagOf(bytes);
      store(key, bytes, metadata, etag, sseInfo(o.sse));
      return { etag };
    },

    async get(key, o: GetOptions = {}): Promise<GetResult> {
      checkKey(key);
      const range = o.range === undefined ? undefined : checkRange(o.range);
      const fault = begin('get');
      o.signal?.throwIfAborted();
      if (fault !== undefined && fault.kind !== 'short' && fault.kind !== 'other') await applyFault(fault, 'get', o.signal);
      let obj = objects.get(key);
      if (obj === undefined) throw notFound(key);
      if (fault?.kind === 'other') {
        const otherKey = fault.otherKey ?? [...objects.keys()].sort().find((k) => k !== key);
        const other = otherKey === undefined ? undefined : objects.get(otherKey);
        obj = other ?? { ...obj, read: (s, e) => noise(s, e) };
      }
      let start = 0;
      let end = obj.size; // exclusive
      if (range !== undefined) {
        if (range.start >= obj.size) throw rangeNotSatisfiable(name, range.start, obj.size);
        start = range.start;
        end = range.end === undefined ? obj.size : Math.min(obj.size, range.end + 1);
      }
      const served = fault?.kind === 'short' ? start + Math.floor((end - start) / 2) : end;
      return {
        ...info(obj),
        body: body(obj.read, start, served, o.signal),
        ...(range === undefined ? {} : { range: { start, end: end - 1 } }),
      };
    },

    async head(key, o = {}) {
      checkKey(key);
      const fault = begin('head');
      o.signal?.throwIfAborted();
      await applyFault(fault, 'head', o.signal);
      const obj = objects.get(key);
      if (obj === undefined) throw notFound(key);
      return info(obj);
    },

    async delete(key, o = {}) {
      checkKey(key);
      const fault = begin('delete');
      o.signal?.throwIfAborted();
      await applyFault(fault, 'delete', o.signal);
      objects.delete(key);
    },

    list(prefix, o = {}) {
      if (typeof prefix !== 'string') throw new TypeError(`"prefix" expected string, got ${typeof prefix}`);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<ListEntry> {
          const fault = begin('list');
          o.signal?.throwIfAborted();
          await applyFault(fault, 'list', o.signal);
          const entries = [...objects.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          for (const [key, obj] of entries) yield { key, size: obj.size, etag: obj.etag, lastModified: new Date(obj.lastModified.getTime()) };
        },
      };
    },

    async createMultipart(key, o: CreateMultipartOptions = {}) {
      checkKey(key);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      const fault = begin('createMultipart');
      o.signal?.throwIfAborted();
      await applyFault(fault, 'createMultipart', o.signal);
      const uploadId = `upload-${++uploadCounter}`;
      const sse = sseInfo(o.sse);
      uploads.set(uploadId, { key, metadata, parts: new Map(), ...(sse === undefined ? {} : { sse }) });
      return { uploadId };
    },

    async uploadPart(key, uploadId, partNumber, data, o = {}) {
      checkKey(key);
      assertChunk(data, '"body" expected Uint8Array');
      const fault = begin('uploadPart');
      o.signal?.throwIfAborted();
      stats.bytesIn += data.length;
      await applyFault(fault, 'uploadPart', o.signal);
      const up = uploads.get(uploadId);
      if (up === undefined || up.key !== key) throw storeError(`${name}: no such upload`, { status: 404, code: 'NoSuchUpload' });
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > limits.maxParts) {
        throw storeError(`${name}: part number ${String(partNumber)} outside 1..${limits.maxParts}`, { status: 400, code: 'InvalidArgument' });
      }
      if (data.length > limits.maxPartSize) {
        throw storeError(`${name}: part of ${data.length} bytes exceeds ${limits.maxPartSize}`, { status: 400, code: 'EntityTooLarge' });
      }
      const bytes = copyBytes(data);
      const etag = await etagOf(bytes);
      up.parts.set(partNumber, { bytes, etag });
      return { etag };
    },

    async completeMultipart(key, uploadId, parts: readonly CompletedPart[], o = {}) {
      checkKey(key);
      const fault = begin('completeMultipart');
      o.signal?.throwIfAborted();
      await applyFault(fault, 'completeMultipart', o.signal);
      const up = uploads.get(uploadId);
      if (up === undefined || up.key !== key) throw storeError(`${name}: no such upload`, { status: 404, code: 'NoSuchUpload' });
      if (parts.length === 0) throw storeError(`${name}: no parts`, { status: 400, code: 'MalformedXML' });
      const chosen: Uint8Array[] = [];
      let prev = 0;
      for (const [i, p] of parts.entries()) {
        if (p.partNumber <= prev) throw storeError(`${name}: parts not in ascending order`, { status: 400, code: 'InvalidPartOrder' });
        prev = p.partNumber;
        const stored = up.parts.get(p.partNumber);
        if (stored === undefined || stored.etag !== p.etag) throw storeError(`${name}: part ${p.partNumber} not found or etag differs`, { status: 400, code: 'InvalidPart' });
        if (i < parts.length - 1 && stored.bytes.length < limits.minPartSize) {
          throw storeError(`${name}: part ${p.partNumber} smaller than ${limits.minPartSize} bytes`, { status: 400, code: 'EntityTooSmall' });
        }
        chosen.push(stored.bytes);
      }
      let n = 0;
      for (const c of chosen) n += c.length;
      const bytes = new Uint8Array(n);
      let off = 0;
      for (const c of chosen) {
        bytes.set(c, off);
        off += c.length;
      }
      const etag = `${await etagOf(bytes)}-${parts.length}`;
      uploads.delete(uploadId);
      store(key, bytes, up.metadata, etag, up.sse);
      return { etag };
    },

    async abortMultipart(key, uploadId, o = {}) {
      checkKey(key);
      const fault = begin('abortMultipart');
      o.signal?.throwIfAborted();
      await applyFault(fault, 'abortMultipart', o.signal);
      const up = uploads.get(uploadId);
      if (up !== undefined && up.key === key) uploads.delete(uploadId);
    },
  };

  if (opts.copy !== false) {
    api.copy = async (sourceKey, destinationKey, o) => {
      checkKey(sourceKey);
      checkKey(destinationKey);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      const fault = begin('copy');
      o.signal?.throwIfAborted();
      await applyFault(fault, 'copy', o.signal);
      const src = objects.get(sourceKey);
      if (src === undefined) throw notFound(sourceKey);
      const sse = o.sse === undefined ? src.sse : sseInfo(o.sse);
      objects.set(destinationKey, { ...src, metadata, lastModified: new Date(), ...(sse === undefined ? {} : { sse }) });
      return { etag: src.etag };
    };
  }
  return api;
}
