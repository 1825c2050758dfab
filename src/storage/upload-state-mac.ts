/**
 * The MAC of a saved upload ({@link UploadRecord}): the record lives in a file or a store the
 * caller picks, and nothing in it is secret, so without a MAC anyone who can write it can choose
 * what a resumed upload seals under. With the header and salt of an object already stored under
 * the same keys (both are in clear at the start of that object), a forged record made the resume
 * seal new plaintext under the old object's data key, salt and nonces: AES-GCM keystream and
 * authentication-key reuse. The MAC binds every field to the upload's data key:
 *
 * ```
 * state_key = HKDF-Expand-SHA-512(data key, "enseal/v1 upload-state", 32)
 * mac       = HMAC-SHA-256(state_key, "enseal/v1 upload-state" || 0x00 || JSON([version, store, key,
 *             uploadId, header, salt, chunksPerPart, [[partNumber, etag, size, sha256], …]]))
 * ```
 *
 * A resume unwraps the saved header with the caller's keys, then checks the MAC in constant
 * time before it derives anything else from the record. What a MAC cannot stop is a rollback
 * to an *earlier genuine* record of the same upload (docs/SECURITY.md §"Object storage").
 *
 * @module
 */
import { concat, constantTimeEqual, toHex, utf8, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { hkdfExpand } from '../backends/hkdf.js';
import { EnsealError } from '../errors.js';
import type { UploadRecord } from './upload-state.js';

const INFO = utf8('enseal/v1 upload-state');

/** The fields of a record that its MAC covers (all of them but the MAC). */
export type UnsealedUploadRecord = Omit<UploadRecord, 'mac'>;

/**
 * The key of an upload's record MAC, from its data key.
 * @param backend - the backend of the upload
 * @param dataKey - the upload's data key
 * @returns 32 bytes (the caller wipes them)
 * @example
 * ```ts
 * const stateKey = await uploadStateKey(backend, dataKey);
 * ```
 */
export function uploadStateKey(backend: CryptoBackend, dataKey: Uint8Array): Promise<Bytes> {
  return hkdfExpand(backend, 'SHA-512', dataKey, INFO, 32);
}

function macInput(r: UnsealedUploadRecord): Bytes {
  const fields = [r.version, r.store, r.key, r.uploadId, r.header, r.salt, r.chunksPerPart, r.parts.map((p) => [p.partNumber, p.etag, p.size, p.sha256])];
  return concat(INFO, Uint8Array.of(0), utf8(JSON.stringify(fields)));
}

/**
 * Adds the MAC to a record.
 * @param backend - the backend of the upload
 * @param stateKey - from {@link uploadStateKey}
 * @param r - the record without its MAC
 * @returns the record with `mac` (64 hex digits)
 * @example
 * ```ts
 * await state.save(await sealUploadRecord(backend, stateKey, snapshot()));
 * ```
 */
export async function sealUploadRecord(backend: CryptoBackend, stateKey: Uint8Array, r: UnsealedUploadRecord): Promise<UploadRecord> {
  return { ...r, mac: toHex(await backend.hmac('SHA-256', stateKey, macInput(r))) };
}

/**
 * Checks a loaded record's MAC (in constant time).
 * @param backend - the backend of the upload
 * @param stateKey - from {@link uploadStateKey}, with the data key the record's header unwrapped to
 * @param r - the loaded record
 * @throws EnsealError `ERR_STATE` when the MAC does not match (an edited, forged or foreign record)
 * @example
 * ```ts
 * await checkUploadRecordMac(backend, stateKey, record);
 * ```
 */
export async function checkUploadRecordMac(backend: CryptoBackend, stateKey: Uint8Array, r: UploadRecord): Promise<void> {
  const want = toHex(await backend.hmac('SHA-256', stateKey, macInput(r)));
  // Both sides are 64 lowercase hex digits (checkUploadRecord checked the saved one's shape).
  if (!constantTimeEqual(utf8(want), utf8(r.mac))) {
    throw new EnsealError('ERR_STATE', 'the saved upload state failed authentication (edited, or not written by this upload): start the upload again');
  }
}
