/**
 * `inspect`: a JSON-able description of an enseal header, for tooling and debugging. It needs no
 * key and reveals no secret (wrapped keys are reported by length only). Nothing it returns is
 * authenticated: only decryption verifies the header.
 *
 * @module
 */
import { assertBytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { CHUNK_SIZE, chunkCount, openedSize } from '../format/cobblestone.js';
import { decodeHeader } from '../format/header.js';

/** What {@link inspect} returns. */
export interface Inspection {
  format: 'enseal';
  version: number;
  suite: { id: number; name: 'Cobblestone-256'; aead: 'AEAD_AES_256_GCM'; kdf: 'HKDF-SHA-512'; chunkSize: number };
  headerLength: number;
  context: Record<string, string>;
  recipients: { type: string; keyId: string; params: Record<string, string>; wrappedKeyLength: number }[];
  /** Present when the object's total length is known: sizes derived from it (unauthenticated). */
  payload?: { ciphertextLength: number; plaintextLength: number; chunks: number } | { ciphertextLength: number; error: string };
  authenticated: false;
}

/**
 * Describes an enseal object's header.
 *
 * @param bytes - the object, or at least its first `headerLength` bytes
 * @param opts - `totalLength`: the object's full length when `bytes` is only a prefix
 * @returns a JSON-able description (no secrets, unauthenticated)
 * @throws EnsealError `ERR_HEADER`, `ERR_UNSUPPORTED`, `ERR_TRUNCATED` (header incomplete)
 * @example
 * ```ts
 * console.log(JSON.stringify(inspect(bytes), null, 2));
 * ```
 */
export function inspect(bytes: Uint8Array, opts: { totalLength?: number } = {}): Inspection {
  assertBytes(bytes, 'bytes');
  const h = decodeHeader(bytes);
  const total = opts.totalLength ?? bytes.length;
  const out: Inspection = {
    format: 'enseal',
    version: h.version,
    suite: { id: h.suite, name: 'Cobblestone-256', aead: 'AEAD_AES_256_GCM', kdf: 'HKDF-SHA-512', chunkSize: CHUNK_SIZE },
    headerLength: h.length,
    context: { ...h.context },
    recipients: h.recipients.map((s) => ({ type: s.type, keyId: s.keyId, params: { ...s.params }, wrappedKeyLength: s.wrapped.length })),
    authenticated: false,
  };
  if (total > h.length) {
    const ciphertextLength = total - h.length;
    try {
      const plaintextLength = openedSize(ciphertextLength);
      out.payload = { ciphertextLength, plaintextLength, chunks: chunkCount(plaintextLength) };
    } catch (e) {
      if (!(e instanceof EnsealError)) throw e;
      out.payload = { ciphertextLength, error: e.code };
    }
  }
  return out;
}
