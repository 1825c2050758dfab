/**
 * Reading foreign objects through the encrypting bucket (docs/INTEROP.md §"Through the
 * encrypting bucket"): one entry, {@link openForeign}, over `openOssObject` and
 * `openS3ecObject`, and {@link InteropObjectReader}, the `openObject` answer for such objects.
 *
 * The enseal path is tried first and is left exactly as it was (its request plan and counts):
 * only when it fails does the bucket look at the metadata of the answer it got
 * ({@link probeStore} records it, no extra request), and dispatch here when the names say OSS or
 * S3EC. A plain-looking object (no encryption names) whose body is not enseal is looked up as an
 * S3EC object with an instruction file (`<key>.instruction`, one GET), and only if its body
 * does not start with the enseal magic (one more 6-byte GET).
 *
 * Safety switches: every OSS read, every S3EC CBC read and every ranged S3EC read is
 * unauthenticated and refused with `ERR_UNAUTHENTICATED` unless `allowUnauthenticated: true`
 * (bucket or call); whole OSS reads check a recorded MD5 at the end (`ERR_AUTH`), whole S3EC
 * V2/V3 reads release nothing before the tag verified.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import type { BackendChoice } from '../backends/select.js';
import { EnsealError, isEnsealError } from '../errors.js';
import { MAGIC } from '../format/header.js';
import { openOssObject } from '../interop/oss-read.js';
import { S3EC_INSTRUCTION_SUFFIX } from '../interop/s3ec-instruction.js';
import { openDescribedS3ecObject, openS3ecObject } from '../interop/s3ec-read.js';
import type { S3ecObjectDescription } from '../interop/s3ec-metadata.js';
import { foreignUserMetadata, isForeign, metadataFormat, type MetadataFormat, type StoredFormat } from './bucket-interop-format.js';
import { overlayStore } from './store-overlay.js';
import type { GetResult, ObjectInfo, ObjectStore, ServerSideEncryption, ServerSideEncryptionInfo, StoreRange } from './store.js';

/** Options of a foreign read. */
export interface ForeignReadOptions {
  readonly keys: readonly unknown[];
  readonly allowUnauthenticated: boolean;
  readonly range?: StoreRange;
  readonly maxBuffer?: number;
  readonly backend?: BackendChoice;
  readonly signal?: AbortSignal;
  readonly sse?: ServerSideEncryption;
  /**
   * The S3EC description fixed when a reader was opened: used instead of decoding the metadata
   * and reading `<key>.instruction` again, so every read decrypts under the rules reported.
   */
  readonly s3ecDescription?: S3ecObjectDescription;
}

/** A foreign read, as the bucket reports it. */
export interface ForeignRead {
  readonly format: Exclude<StoredFormat, 'enseal'>;
  readonly body: ReadableStream<Uint8Array>;
  /** Plaintext size of the whole object. */
  readonly size: number;
  readonly range?: { readonly start: number; readonly end: number };
  /** True only for a whole S3EC GCM read (the tag verified before anything was released). */
  readonly authenticated: boolean;
  /** Whether the body ends with an MD5 check (whole OSS read of an object that records one). */
  readonly md5Checked: boolean;
  /** Whether the S3EC fields came from `<key>.instruction`. */
  readonly instructionFile: boolean;
  readonly metadata: Record<string, string>;
  readonly etag?: string;
  readonly sse?: ServerSideEncryptionInfo;
}

/**
 * Opens a foreign object whose format is known.
 *
 * @param store - the store
 * @param key - the object key
 * @param info - one snapshot of its size, metadata and entity tag
 * @param format - from {@link metadataFormat} (or `'s3ec-v3-instruction'` / `'none'` for an
 *   object whose S3EC fields are in its instruction file)
 * @param opts - keys, the opt-in, range, bounds, backend, signal, sse
 * @returns the plaintext stream and what is known about it
 * @throws EnsealError `ERR_UNAUTHENTICATED` (no opt-in), `ERR_HEADER`, `ERR_NO_KEY`, `ERR_AUTH`,
 *   `ERR_RANGE`, `ERR_LIMIT`, `ERR_TRUNCATED`, store errors
 * @example
 * ```ts
 * const r = await openForeign(store, 'a.jpg', await store.head('a.jpg'), 'oss', { keys, allowUnauthenticated: true });
 * ```
 */
export async function openForeign(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, opts: ForeignReadOptions): Promise<ForeignRead> {
  const common = {
    keys: opts.keys,
    allowUnauthenticated: opts.allowUnauthenticated,
    ...(opts.range === undefined ? {} : { range: opts.range }),
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  };
  const base = { ...(info.etag === undefined ? {} : { etag: info.etag }), ...(info.sse === undefined ? {} : { sse: info.sse }) };
  if (format === 'oss' || format === 'oss-legacy') {
    const r = await openOssObject(store, key, info, common);
    return { format, body: r.body, size: r.totalSize, ...(r.range === undefined ? {} : { range: r.range }), authenticated: false, md5Checked: r.md5Checked, instructionFile: false, metadata: foreignUserMetadata(info.metadata, format), ...base };
  }
  if (format === 'enseal') throw new TypeError('openForeign: an enseal object');
  const s3ecOpts = {
    ...common,
    ...(opts.maxBuffer === undefined ? {} : { maxBuffer: opts.maxBuffer }),
    ...(opts.sse === undefined ? {} : { sse: opts.sse }),
  };
  const r = opts.s3ecDescription === undefined ? await openS3ecObject(store, key, info, s3ecOpts) : await openDescribedS3ecObject(store, key, info, opts.s3ecDescription, s3ecOpts);
  const f: Exclude<StoredFormat, 'enseal'> = r.description.version === 1 ? 's3ec-v1' : r.description.version === 2 ? 's3ec-v2' : 's3ec-v3';
  return { format: f, body: r.body, size: r.totalSize, ...(r.range === undefined ? {} : { range: r.range }), authenticated: r.authenticated, md5Checked: false, instructionFile: r.description.instructionFile, metadata: foreignUserMetadata(info.metadata, f), ...base };
}

/** A store that remembers the facts of the last `get` answer it passed on (no extra request). */
export interface ProbedStore {
  readonly store: ObjectStore;
  /** The size/metadata/etag of the last answered `get`, when one was answered. */
  seen(): ObjectInfo | undefined;
}

/**
 * Wraps a store so that the facts of the enseal path's first answer are kept for detection.
 * @param store - the store
 * @returns the wrapper (every method delegates, requests are unchanged)
 * @example
 * ```ts
 * const p = probeStore(store); await ObjectReader.open(p.store, key, ro).catch(() => p.seen());
 * ```
 */
export function probeStore(store: ObjectStore): ProbedStore {
  let last: ObjectInfo | undefined;
  const wrapped = overlayStore(store, {
    async get(k, o) {
      const r: GetResult = await store.get(k, o);
      if (last === undefined) last = { size: r.size, metadata: { ...r.metadata }, ...(r.etag === undefined ? {} : { etag: r.etag }), ...(r.sse === undefined ? {} : { sse: r.sse }) };
      return r;
    },
  });
  return { store: wrapped, seen: () => last };
}

/** Codes with which the enseal path says "this body is not (a whole) enseal object". */
const NOT_ENSEAL = new Set(['ERR_HEADER', 'ERR_TRUNCATED', 'ERR_UNSUPPORTED']);

async function startsWithMagic(store: ObjectStore, key: string, size: number, o: { signal?: AbortSignal; sse?: ServerSideEncryption }): Promise<boolean> {
  if (size < MAGIC.length) return false;
  const r = await store.get(key, { range: { start: 0, end: MAGIC.length - 1 }, ...o });
  const b = new Uint8Array(await new Response(r.body).arrayBuffer());
  return b.length === MAGIC.length && b.every((x, i) => x === MAGIC[i]);
}

/**
 * After the enseal path failed: the format to read the object in instead, or `undefined` to let
 * the enseal error stand.
 *
 * @param store - the store
 * @param key - the object key
 * @param failure - what the enseal path threw
 * @param seen - the facts of its first answer, when it got one
 * @param o - signal, sse
 * @returns the object's facts and format, or undefined
 * @throws EnsealError `ERR_HEADER` for mixed metadata; store errors of the extra lookups
 * @example
 * ```ts
 * const f = await foreignAfter(store, key, e, probe.seen(), {}); if (f === undefined) throw e;
 * ```
 */
export async function foreignAfter(
  store: ObjectStore,
  key: string,
  failure: unknown,
  seen: ObjectInfo | undefined,
  o: { signal?: AbortSignal; sse?: ServerSideEncryption },
): Promise<{ info: ObjectInfo; format: MetadataFormat } | undefined> {
  if (!(failure instanceof EnsealError)) return undefined;
  if (seen === undefined && !isEnsealError(failure, 'ERR_TRUNCATED')) return undefined; // the GET itself failed (not found, store error)
  const info = seen ?? (await store.head(key, o)); // an empty object: its ranged GET was a 416
  const format = metadataFormat(info.metadata);
  if (isForeign(format)) return { info, format };
  if (format === 'enseal' || !NOT_ENSEAL.has(failure.code)) return undefined;
  // No encryption names at all: an S3EC object whose fields are all in <key>.instruction?
  try {
    await store.head(key + S3EC_INSTRUCTION_SUFFIX, o);
  } catch (e) {
    if (isEnsealError(e, 'ERR_NOT_FOUND')) return undefined;
    throw e;
  }
  if (await startsWithMagic(store, key, info.size, o)) return undefined; // an enseal body: its own error stands
  return { info, format: 'none' };
}

/**
 * `openObject` for a foreign object: repeated ranged reads. Each read opens the object again
 * (one key unwrap — a KMS call for KMS keys — and one GET) under the description fixed at open:
 * the metadata snapshot and, for S3EC, the decoded description (`s3ecDescription`: an
 * instruction file is read once, at open, never again). An S3EC GCM whole read is authenticated, every other read is unauthenticated and
 * needs the opt-in, as for `getObject`; a read that does not match what the reader reported is
 * `ERR_STORE`.
 *
 * @example
 * ```ts
 * const r = await bucket.openObject('photo.jpg'); // an OSS object, with allowUnauthenticated: true
 * const bytes = await r.readBytes({ start: 100, end: 199 });
 * r.close();
 * ```
 */
export class InteropObjectReader {
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #info: ObjectInfo;
  readonly #format: MetadataFormat;
  readonly #opts: ForeignReadOptions;
  readonly #described: Exclude<StoredFormat, 'enseal'>;
  readonly #cbc: boolean;
  readonly #cbcSize: number;
  #closed = false;
  #verified: Promise<number> | undefined;
  #sizeVerified = false;

  /**
   * Made by the bucket's `openObject` (after the opt-in was checked).
   * @param store - the store
   * @param key - the object key
   * @param info - one snapshot of its facts
   * @param format - the detected format
   * @param described - the format as decoded (S3EC version known)
   * @param cbcSize - for AES-CBC content, its plaintext size (recorded, else an upper bound); undefined otherwise
   * @param opts - read options
   */
  constructor(store: ObjectStore, key: string, info: ObjectInfo, format: MetadataFormat, described: Exclude<StoredFormat, 'enseal'>, cbcSize: number | undefined, opts: ForeignReadOptions) {
    this.#store = store;
    this.#key = key;
    this.#info = { ...info, metadata: { ...info.metadata } };
    this.#format = format;
    this.#described = described;
    this.#cbc = cbcSize !== undefined;
    this.#cbcSize = cbcSize ?? 0;
    this.#opts = opts;
  }

  /** The object's format. */
  get format(): Exclude<StoredFormat, 'enseal'> {
    return this.#described;
  }
  /** Whether a whole read of this object is authenticated (S3EC GCM); ranged reads never are. */
  get authenticated(): boolean {
    return this.#described !== 'oss' && this.#described !== 'oss-legacy' && !this.#cbc;
  }
  /** Plaintext size (not authenticated; see {@link verifiedSize}). */
  get size(): number {
    return this.#described === 'oss' || this.#described === 'oss-legacy' ? this.#info.size : this.#cbc ? this.#cbcSize : this.#info.size - 16;
  }
  /** Stored bytes. */
  get storedSize(): number {
    return this.#info.size;
  }
  /** User metadata (the format's own names removed). */
  get metadata(): Record<string, string> {
    return foreignUserMetadata(this.#info.metadata, this.#described);
  }
  /** Stored metadata as the store returned it. */
  get rawMetadata(): Record<string, string> {
    return { ...this.#info.metadata };
  }
  /** Entity tag at open time. */
  get etag(): string | undefined {
    return this.#info.etag;
  }
  /** The store's own server-side encryption, when reported. */
  get sse(): ServerSideEncryptionInfo | undefined {
    return this.#info.sse;
  }
  /** Foreign formats keep their key material in metadata. */
  get headerSource(): 'metadata' {
    return 'metadata';
  }
  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }
  /** True once {@link verifiedSize} authenticated the size. */
  get sizeVerified(): boolean {
    return this.#sizeVerified;
  }

  #check(): void {
    if (this.#closed) throw new EnsealError('ERR_STATE', `the reader of "${escapeControl(this.#key, 120)}" is closed`);
  }

  /**
   * Reads a plaintext range (or everything).
   * @param range - inclusive range; omitted = the whole object
   * @param _opts - `autoClose: true` closes the reader once the read is opened
   * @returns the plaintext stream
   * @throws EnsealError `ERR_STATE` after `close()`, and as `getObject`
   */
  async read(range?: StoreRange, _opts: { readonly autoClose?: boolean } = {}): Promise<ReadableStream<Uint8Array>> {
    this.#check();
    const r = await this.#open(range);
    if (_opts.autoClose === true) this.close();
    return r.body;
  }

  /**
   * One read, checked against what the reader reported at open: the same format, and for a whole
   * read of an object reported as authenticated, an authenticated read (with the open-time
   * `s3ecDescription` this cannot fail; it guards a reader made without one).
   * @throws EnsealError `ERR_STORE` when the object no longer reads as it was described
   */
  async #open(range: StoreRange | undefined): Promise<ForeignRead> {
    const { range: _ignored, ...whole } = this.#opts;
    const r = await openForeign(this.#store, this.#key, this.#info, this.#format, range === undefined ? whole : { ...whole, range });
    if (r.format !== this.#described || (range === undefined && this.authenticated && !r.authenticated)) {
      await r.body.cancel().catch(() => undefined);
      throw new EnsealError(
        'ERR_STORE',
        `"${escapeControl(this.#key, 120)}" changed since it was opened: it was a ${this.authenticated ? 'authenticated ' : ''}${this.#described} object, a read found ${r.authenticated ? 'an authenticated' : 'an unauthenticated'} ${r.format} read`,
      );
    }
    return r;
  }

  /**
   * Reads a plaintext range into memory.
   * @param range - inclusive range; omitted = the whole object
   * @returns the bytes
   * @throws as {@link read}
   */
  async readBytes(range?: StoreRange): Promise<Uint8Array> {
    return new Uint8Array(await new Response(await this.read(range)).arrayBuffer());
  }

  /**
   * The authenticated plaintext size: for S3EC GCM objects one whole authenticated read (cached);
   * the other formats cannot authenticate anything.
   * @returns the size
   * @throws EnsealError `ERR_UNAUTHENTICATED` for OSS and CBC objects, `ERR_AUTH` on a bad tag
   */
  verifiedSize(): Promise<number> {
    if (this.#closed) return Promise.reject(new EnsealError('ERR_STATE', `the reader of "${escapeControl(this.#key, 120)}" is closed`));
    if (!this.authenticated) {
      return Promise.reject(new EnsealError('ERR_UNAUTHENTICATED', `"${escapeControl(this.#key, 120)}" is a ${this.#described} object: its size cannot be authenticated`));
    }
    this.#verified ??= (async () => {
      const r = await this.#open(undefined);
      await r.body.cancel();
      if (!r.authenticated) throw new EnsealError('ERR_UNAUTHENTICATED', `"${escapeControl(this.#key, 120)}": the read was not authenticated, so its size is not`);
      this.#sizeVerified = true;
      return r.size;
    })();
    return this.#verified;
  }

  /** Marks the reader closed; later reads fail with `ERR_STATE`. Idempotent. */
  close(): void {
    this.#closed = true;
  }
}
