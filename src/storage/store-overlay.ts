/**
 * A store that answers some calls itself and passes every other one to an underlying store,
 * unchanged: how the bucket's format probe (`probeStore`) keeps a store's answer without a
 * request of its own, and how tests count or alter a store's answers. Spelled out method by method, so a method
 * added to {@link ObjectStore} must be handed on here (the type checker asks for it).
 *
 * @module
 */
import type { ObjectStore } from './store.js';

/** The calls an overlay answers itself. */
export type StoreOverrides = Partial<Pick<ObjectStore, 'get' | 'head'>>;

/**
 * `store` with `get` and/or `head` replaced.
 * @param store - the underlying store
 * @param overrides - the replacements
 * @returns the overlay (name, limits and every other method are the store's)
 * @example
 * ```ts
 * const counted = overlayStore(store, { get: (k, o) => (gets++, store.get(k, o)) });
 * ```
 */
export function overlayStore(store: ObjectStore, overrides: StoreOverrides): ObjectStore {
  return {
    name: store.name,
    multipart: store.multipart,
    put: (...a) => store.put(...a),
    get: overrides.get ?? ((...a) => store.get(...a)),
    head: overrides.head ?? ((...a) => store.head(...a)),
    delete: (...a) => store.delete(...a),
    list: (...a) => store.list(...a),
    createMultipart: (...a) => store.createMultipart(...a),
    uploadPart: (...a) => store.uploadPart(...a),
    completeMultipart: (...a) => store.completeMultipart(...a),
    abortMultipart: (...a) => store.abortMultipart(...a),
    ...(store.copy === undefined ? {} : { copy: (...a: Parameters<NonNullable<ObjectStore['copy']>>) => store.copy!(...a) }),
  };
}
