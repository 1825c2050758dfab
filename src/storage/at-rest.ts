/**
 * `atRestEncryption(store, { provider })`: server-side encryption for people who run their own
 * storage. It wraps any {@link ObjectStore} in another one that looks like a plain store to its
 * callers (plaintext in, plaintext out, plaintext sizes and ranges), while everything that
 * reaches the inner store is an enseal object under a fresh per-object data key from a key
 * provider — the way OSS and S3 encrypt at rest:
 *
 * - `AES256` (SSE-OSS / SSE-S3): the store's own key, `defaultKeyId` (e.g. a LocalKms key);
 * - `KMS` (SSE-KMS / `aws:kms`): a KMS master key chosen per request (`sse.keyId`), or the
 *   default key.
 *
 * The bucket default (`defaultAlgorithm`) applies when a request names no `sse`; responses
 * declare `sse: { algorithm: 'AES256' | 'KMS', keyId }` like the real stores. Reads are
 * authenticated, ranged reads fetch only the covering chunks (`ObjectReader`), and an object
 * is bound to its key (it cannot be swapped for another inside the inner store).
 *
 * Only keys listed in `keyIds` (plus `defaultKeyId`) are ever used to decrypt: each read offers
 * the object's stanzas to strict providers of those keys, never to a key named by stored data.
 *
 * Multipart uploads stage each part, encrypted, under the reserved prefix `.enseal-at-rest/`
 * of the inner store (hidden from `list`), and assemble the object on completion (one
 * streamed pass, O(part) memory); abort deletes the staged parts.
 *
 * @module
 */
import { assertChunk, escapeControl, toHex, utf8 } from '../bytes.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError, isEnsealError } from '../errors.js';
import { encrypt } from '../envelope/oneshot.js';
import { plaintextSize } from '../envelope/sizes.js';
import { decodeHeaderPrefix } from '../format/header.js';
import { kms } from '../keys/kms.js';
import type { KmsClient } from '../keys/kms-client.js';
import { checkProviders, type KeyProvider } from '../keys/provider.js';
import { readMarker, userMetadata, withMarker } from './bucket-marker.js';
import { OBJECT_KEY_CONTEXT } from './bucket-open.js';
import { ObjectReader } from './bucket-reader.js';
import { storeError } from './errors.js';
import { S3_MAX_METADATA_BYTES, checkMetadata } from './metadata.js';
import { encryptedMultipartUpload } from './multipart.js';
import { DEFAULT_PART_SIZE } from './multipart-layout.js';
import { splitBody } from './multipart-source.js';
import { checkKey } from './object-key.js';
import { checkRange } from './http-range.js';
import type {
  CompletedPart,
  GetResult,
  ListEntry,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  ServerSideEncryption,
  ServerSideEncryptionInfo,
} from './store.js';

/** Inner-store prefix of staged multipart parts (hidden from `list`). */
export const AT_REST_STAGING_PREFIX = '.enseal-at-rest/';
/**
 * Prefix of the at-rest layer's own inner metadata (its marker, `…sse`, `…sse-key-id`). Every
 * other entry is the caller's and passes through unchanged (an encrypting bucket's `enseal-*`
 * marker included).
 */
export const AT_REST_PREFIX = 'enseal-at-rest-';
/** Inner metadata: the at-rest algorithm (`AES256` or `KMS`). */
const MD_ALGORITHM = `${AT_REST_PREFIX}sse`;
/** Inner metadata: the key id the object was encrypted under (as requested). */
const MD_KEY_ID = `${AT_REST_PREFIX}sse-key-id`;

/** Where at-rest data keys come from. */
export type AtRestProvider = KmsClient | KeyProvider | ((keyId: string) => KeyProvider);

/** Options of {@link atRestEncryption}. */
export interface AtRestOptions {
  /** A KMS client (LocalKms, AWS, Alibaba, Vault), one key provider, or key id → provider. */
  readonly provider: AtRestProvider;
  /** The store's own key (used for `AES256` and when a `KMS` request names no key). */
  readonly defaultKeyId: string;
  /** Other KMS key ids requests may name (reads are tried only with these and the default). */
  readonly keyIds?: readonly string[];
  /** Encryption applied when a request names none (default `AES256`). */
  readonly defaultAlgorithm?: 'AES256' | 'KMS';
  /** Plaintext bytes per inner multipart part (default 8 MiB). */
  readonly partSize?: number;
  /** Crypto backend. */
  readonly backend?: BackendChoice;
  /** User-metadata limit reported to callers (default 2048). */
  readonly maxMetadataBytes?: number;
}

function isKmsClient(p: AtRestProvider): p is KmsClient {
  return typeof p === 'object' && p !== null && typeof (p as KmsClient).generateDataKey === 'function' && typeof (p as KmsClient).decrypt === 'function' && typeof (p as KeyProvider).wrap !== 'function';
}

/** Maps a request's `sse` to the algorithm and key id used at rest. */
function resolveSse(sse: ServerSideEncryption | undefined, def: 'AES256' | 'KMS', defaultKeyId: string): { algorithm: 'AES256' | 'KMS'; keyId: string } {
  if (sse === undefined) return { algorithm: def, keyId: defaultKeyId };
  if (sse.algorithm === 'AES256') return { algorithm: 'AES256', keyId: defaultKeyId };
  if (sse.algorithm === 'KMS' || sse.algorithm === 'aws:kms') return { algorithm: 'KMS', keyId: sse.keyId ?? defaultKeyId };
  throw new EnsealError('ERR_UNSUPPORTED', `atRestEncryption does not offer server-side encryption "${sse.algorithm}"`);
}

/**
 * Wraps a store so that everything written to it is encrypted at rest.
 *
 * @param store - the inner store (sees only ciphertext)
 * @param opts - key provider, default key, allowed key ids, default algorithm
 * @returns a store that takes and returns plaintext and declares its encryption in `sse`
 * @throws TypeError for a missing provider or default key id
 * @example
 * ```ts
 * import { LocalKms } from 'enseal/kms-local';
 * const local = await LocalKms.open('kms.json', { create: true });
 * const { keyId } = await local.createKey({ alias: 'store' });
 * const store = atRestEncryption(fsStore('./data'), { provider: local, defaultKeyId: keyId });
 * await store.put('a.txt', bytes, { sse: { provider: 'oss', algorithm: 'KMS', keyId: 'alias-of-a-cmk' } });
 * ```
 */
export function atRestEncryption(store: ObjectStore, opts: AtRestOptions): ObjectStore {
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function') throw new TypeError('"store" expected an ObjectStore');
  if (typeof opts !== 'object' || opts === null || opts.provider === undefined) throw new TypeError('"provider" expected a KMS client, a key provider or a function');
  if (typeof opts.defaultKeyId !== 'string' || opts.defaultKeyId.length === 0) throw new TypeError('"defaultKeyId" expected a non-empty string');
  const provider = opts.provider;
  const backend = getBackend(opts.backend);
  const def = opts.defaultAlgorithm ?? 'AES256';
  if (def !== 'AES256' && def !== 'KMS') throw new TypeError('"defaultAlgorithm" expected AES256 or KMS');
  const allowed = [...new Set([opts.defaultKeyId, ...(opts.keyIds ?? [])])];
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  const maxMetadataBytes = opts.maxMetadataBytes ?? S3_MAX_METADATA_BYTES;
  const cache = new Map<string, KeyProvider>();
  const providerFor = (keyId: string): KeyProvider => {
    let p = cache.get(keyId);
    if (p === undefined) {
      if (isKmsClient(provider)) p = kms({ client: provider, keyId });
      else if (typeof provider === 'function') p = provider(keyId);
      else p = provider;
      checkProviders([p], 'provider');
      cache.set(keyId, p);
    }
    return p;
  };
  const readKeys = (): KeyProvider[] => [...new Set(allowed.map(providerFor))];
  const name = `at-rest(${store.name})`;
  const context = (key: string) => ({ [OBJECT_KEY_CONTEXT]: key });
  const sseOf = (md: ObjectMetadata): ServerSideEncryptionInfo | undefined => {
    const algorithm = md[MD_ALGORITHM];
    const keyId = md[MD_KEY_ID];
    if (algorithm === undefined) return undefined;
    return keyId === undefined ? { algorithm } : { algorithm, keyId };
  };
  const checkUser = (md: unknown): ObjectMetadata => {
    const user = checkMetadata(md, maxMetadataBytes);
    for (const k of Object.keys(user)) if (k.startsWith(AT_REST_PREFIX)) throw new TypeError(`metadata name "${k}" is reserved by atRestEncryption`);
    return user;
  };
  const innerMd = (user: ObjectMetadata, size: number | undefined, headerLength: number, at: { algorithm: string; keyId: string }): ObjectMetadata => ({
    ...withMarker(user, size, headerLength, undefined, AT_REST_PREFIX),
    [MD_ALGORITHM]: at.algorithm,
    [MD_KEY_ID]: at.keyId,
  });
  const checkAllowed = (keyId: string): void => {
    if (!allowed.includes(keyId)) throw new TypeError(`key id "${escapeControl(keyId, 64)}" is not one of this store's keys (add it to "keyIds")`);
  };

  const openReader = (key: string, o: { signal?: AbortSignal }, range?: { start: number; end?: number }) =>
    ObjectReader.open(store, key, { keys: readKeys(), backend, markerPrefix: AT_REST_PREFIX, ...(o.signal === undefined ? {} : { signal: o.signal }) }, range === undefined ? {} : { range });

  /** Plaintext size of an inner object (from the marker; else one small GET of the header). */
  const sizeOf = async (key: string, info: ObjectInfo, signal?: AbortSignal): Promise<number> => {
    const hl = readMarker(info.metadata, AT_REST_PREFIX).headerLength;
    if (hl !== undefined) {
      try {
        return plaintextSize(info.size, hl);
      } catch (e) {
        if (!isEnsealError(e)) throw e;
      }
    }
    const r = await openReader(key, signal === undefined ? {} : { signal });
    r.close();
    return r.size;
  };

  const putEncrypted = async (
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    user: ObjectMetadata,
    at: { algorithm: 'AES256' | 'KMS'; keyId: string },
    signal: AbortSignal | undefined,
  ): Promise<{ etag?: string }> => {
    const recipient = providerFor(at.keyId);
    const split = await splitBody(body, partSize);
    if (split.kind === 'single') {
      try {
        const sealed = await encrypt(split.bytes, { recipients: [recipient], context: context(key), backend });
        return await store.put(key, sealed, { metadata: innerMd(user, split.bytes.length, decodeHeaderPrefix(sealed), at), contentLength: sealed.length, ...(signal === undefined ? {} : { signal }) });
      } finally {
        if (split.owned) split.bytes.fill(0);
      }
    }
    const r = await encryptedMultipartUpload(split.source, {
      store,
      key,
      recipients: [recipient],
      context: context(key),
      backend,
      partSize,
      metadata: (h) => innerMd(user, split.length, h, at),
      ...(signal === undefined ? {} : { signal }),
    });
    return r.etag === undefined ? {} : { etag: r.etag };
  };

  const stagingKey = (uploadId: string, part: number | 'manifest'): string => `${AT_REST_STAGING_PREFIX}${uploadId}/${part}`;
  interface Manifest {
    readonly key: string;
    readonly metadata: ObjectMetadata;
    readonly algorithm: 'AES256' | 'KMS';
    readonly keyId: string;
  }
  const readManifest = async (key: string, uploadId: string): Promise<Manifest> => {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) throw storeError(name, 'multipart', { status: 404, code: 'NoSuchUpload' });
    let r: ObjectReader;
    try {
      r = await openReader(stagingKey(uploadId, 'manifest'), {});
    } catch (e) {
      if (isEnsealError(e, 'ERR_NOT_FOUND')) throw storeError(name, 'multipart', { status: 404, code: 'NoSuchUpload' });
      throw e;
    }
    let m: Manifest;
    try {
      m = JSON.parse(new TextDecoder().decode(await r.readBytes())) as Manifest;
    } finally {
      r.close();
    }
    if (m.key !== key) throw storeError(name, 'multipart', { status: 404, code: 'NoSuchUpload' });
    return m;
  };

  const facade: ObjectStore = {
    name,
    multipart: store.multipart,

    async put(key, body, o = {}) {
      checkKey(key);
      const user = checkUser(o.metadata);
      const at = resolveSse(o.sse, def, opts.defaultKeyId);
      checkAllowed(at.keyId);
      o.signal?.throwIfAborted();
      return putEncrypted(key, body, user, at, o.signal);
    },

    async get(key, o = {}): Promise<GetResult> {
      checkKey(key);
      const common = o.signal === undefined ? {} : { signal: o.signal };
      if (o.range === undefined) {
        const { reader, body } = await ObjectReader.openStream(store, key, { keys: readKeys(), backend, markerPrefix: AT_REST_PREFIX, ...common });
        const sse = sseOf(reader.rawMetadata);
        return {
          body,
          size: reader.size,
          metadata: reader.metadata,
          ...(reader.etag === undefined ? {} : { etag: reader.etag }),
          ...(sse === undefined ? {} : { sse }),
        };
      }
      const range = checkRange(o.range); // validated copy, read once
      const reader = await openReader(key, common, range);
      try {
        const body = await reader.read(range, { autoClose: true });
        const sse = sseOf(reader.rawMetadata);
        return {
          body,
          size: reader.size,
          metadata: reader.metadata,
          range: { start: range.start, end: Math.min(range.end ?? reader.size - 1, reader.size - 1) },
          ...(reader.etag === undefined ? {} : { etag: reader.etag }),
          ...(sse === undefined ? {} : { sse }),
        };
      } catch (e) {
        reader.close();
        throw e;
      }
    },

    async head(key, o = {}) {
      checkKey(key);
      const info = await store.head(key, o.signal === undefined ? {} : { signal: o.signal });
      const sse = sseOf(info.metadata);
      return {
        size: await sizeOf(key, info, o.signal),
        metadata: userMetadata(info.metadata, AT_REST_PREFIX),
        ...(info.etag === undefined ? {} : { etag: info.etag }),
        ...(info.lastModified === undefined ? {} : { lastModified: info.lastModified }),
        ...(sse === undefined ? {} : { sse }),
      };
    },

    delete: (key, o) => store.delete(key, o),

    list(prefix, o = {}) {
      const inner = store.list(prefix, o);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<ListEntry> {
          for await (const e of inner) {
            if (e.key.startsWith(AT_REST_STAGING_PREFIX)) continue;
            const info = await store.head(e.key, o);
            yield { key: e.key, size: await sizeOf(e.key, info, o.signal), ...(e.etag === undefined ? {} : { etag: e.etag }), ...(e.lastModified === undefined ? {} : { lastModified: e.lastModified }) };
          }
        },
      };
    },

    async createMultipart(key, o = {}) {
      checkKey(key);
      const user = checkUser(o.metadata);
      const at = resolveSse(o.sse, def, opts.defaultKeyId);
      checkAllowed(at.keyId);
      const uploadId = toHex(backend.randomBytes(16));
      const manifest: Manifest = { key, metadata: user, ...at };
      await putEncrypted(stagingKey(uploadId, 'manifest'), utf8(JSON.stringify(manifest)), {}, { algorithm: 'AES256', keyId: opts.defaultKeyId }, o.signal);
      return { uploadId };
    },

    async uploadPart(key, uploadId, partNumber, body, o = {}) {
      checkKey(key);
      assertChunk(body, '"body" expected Uint8Array');
      await readManifest(key, uploadId);
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > store.multipart.maxParts) {
        throw storeError(name, `uploadPart ${String(partNumber)}`, { status: 400, code: 'InvalidArgument' });
      }
      const etag = toHex((await backend.digest('SHA-256', body)).subarray(0, 16));
      await putEncrypted(stagingKey(uploadId, partNumber), body, { 'part-etag': etag }, { algorithm: 'AES256', keyId: opts.defaultKeyId }, o.signal);
      return { etag };
    },

    async completeMultipart(key, uploadId, parts: readonly CompletedPart[], o = {}) {
      checkKey(key);
      const m = await readManifest(key, uploadId);
      if (parts.length === 0) throw storeError(name, 'completeMultipart', { status: 400, code: 'MalformedXML' });
      const readers: ObjectReader[] = [];
      try {
        let prev = 0;
        for (const [i, p] of parts.entries()) {
          if (p.partNumber <= prev) throw storeError(name, 'completeMultipart', { status: 400, code: 'InvalidPartOrder' });
          prev = p.partNumber;
          let r: ObjectReader;
          try {
            r = await openReader(stagingKey(uploadId, p.partNumber), o);
          } catch (e) {
            if (isEnsealError(e, 'ERR_NOT_FOUND')) throw storeError(name, 'completeMultipart', { status: 400, code: 'InvalidPart' });
            throw e;
          }
          readers.push(r);
          if (r.metadata['part-etag'] !== p.etag) throw storeError(name, 'completeMultipart', { status: 400, code: 'InvalidPart' });
          if (i < parts.length - 1 && r.size < store.multipart.minPartSize) throw storeError(name, 'completeMultipart', { status: 400, code: 'EntityTooSmall' });
        }
        // One streamed pass: each staged part decrypted in order, re-encrypted as one object.
        let index = 0;
        let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
        const joined = new ReadableStream<Uint8Array>({
          async pull(c) {
            for (;;) {
              if (current === undefined) {
                const r = readers[index];
                if (r === undefined) {
                  c.close();
                  return;
                }
                current = (await r.read()).getReader();
              }
              const { done, value } = await current.read();
              if (!done) {
                c.enqueue(value);
                return;
              }
              current = undefined;
              index++;
            }
          },
          async cancel(reason) {
            await current?.cancel(reason);
          },
        });
        const result = await putEncrypted(key, joined, m.metadata, { algorithm: m.algorithm, keyId: m.keyId }, o.signal);
        await removeStaging(uploadId);
        return result;
      } finally {
        for (const r of readers) r.close();
      }
    },

    async abortMultipart(key, uploadId) {
      checkKey(key);
      if (!/^[0-9a-f]{32}$/.test(uploadId)) return;
      await removeStaging(uploadId);
    },
  };

  const removeStaging = async (uploadId: string): Promise<void> => {
    const keys: string[] = [];
    for await (const e of store.list(`${AT_REST_STAGING_PREFIX}${uploadId}/`)) keys.push(e.key);
    for (const k of keys) await store.delete(k);
  };

  if (typeof store.copy === 'function') {
    const innerCopy = store.copy.bind(store);
    facade.copy = async (sourceKey, destinationKey, o) => {
      checkKey(sourceKey);
      checkKey(destinationKey);
      const user = checkUser(o.metadata);
      if (sourceKey === destinationKey && o.sse === undefined) {
        // Same object, new metadata: the ciphertext stays where it is.
        const info = await store.head(sourceKey, o.signal === undefined ? {} : { signal: o.signal });
        const kept = Object.fromEntries(Object.entries(info.metadata).filter(([k]) => k.startsWith(AT_REST_PREFIX)));
        return innerCopy(sourceKey, destinationKey, { metadata: { ...user, ...kept }, ...(o.signal === undefined ? {} : { signal: o.signal }) });
      }
      // Another key (objects are bound to their key) or another encryption: re-encrypt, streamed.
      const src = await facade.get(sourceKey, o.signal === undefined ? {} : { signal: o.signal });
      const at = o.sse === undefined ? { algorithm: (src.sse?.algorithm === 'KMS' ? 'KMS' : 'AES256') as 'AES256' | 'KMS', keyId: src.sse?.keyId ?? opts.defaultKeyId } : resolveSse(o.sse, def, opts.defaultKeyId);
      checkAllowed(at.keyId);
      return putEncrypted(destinationKey, src.body, user, at, o.signal);
    };
  }
  return facade;
}
