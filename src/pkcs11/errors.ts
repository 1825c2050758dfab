/**
 * Maps PKCS#11 return values (`CKR_*`, PKCS#11 v2.40 §11.1 / v3.0 §5.1) to enseal error codes:
 *
 * | codes | enseal |
 * |---|---|
 * | key/object handle invalid (the key is gone from the token) | `ERR_KMS_NOT_FOUND` |
 * | PIN, login, key usage and extractability refusals | `ERR_KMS_DENIED` |
 * | device, token, session and memory failures | `ERR_KMS_UNAVAILABLE` |
 * | mechanism or parameters the token does not implement | `ERR_UNSUPPORTED` |
 * | anything else while *unwrapping* stanza bytes (bad data, bad tag, bad padding — SoftHSM reports these as `CKR_GENERAL_ERROR`) | `ERR_AUTH` |
 * | anything else | `ERR_KMS_UNAVAILABLE` |
 *
 * Messages name the operation and the `CKR_*` code, never the PIN or key bytes.
 *
 * @module
 */
import { EnsealError, type ErrorCode } from '../errors.js';

const DENIED = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_EXPIRED',
  'CKR_PIN_LOCKED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_USER_PIN_NOT_INITIALIZED',
  'CKR_USER_TYPE_INVALID',
  'CKR_USER_ANOTHER_ALREADY_LOGGED_IN',
  'CKR_USER_TOO_MANY_TYPES',
  'CKR_KEY_FUNCTION_NOT_PERMITTED',
  'CKR_KEY_TYPE_INCONSISTENT',
  'CKR_WRAPPING_KEY_TYPE_INCONSISTENT',
  'CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT',
  'CKR_KEY_NOT_WRAPPABLE',
  'CKR_KEY_UNEXTRACTABLE',
  'CKR_ATTRIBUTE_SENSITIVE',
  'CKR_ACTION_PROHIBITED',
]);

/** The handle names no object (any more): the key was deleted from the token. */
const NOT_FOUND = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID', 'CKR_WRAPPING_KEY_HANDLE_INVALID', 'CKR_UNWRAPPING_KEY_HANDLE_INVALID']);

const UNAVAILABLE = new Set([
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_COUNT',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_HOST_MEMORY',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_SLOT_ID_INVALID',
  'CKR_FUNCTION_CANCELED',
  'CKR_OPERATION_ACTIVE',
]);

const UNSUPPORTED = new Set([
  'CKR_MECHANISM_INVALID',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_FUNCTION_NOT_SUPPORTED',
  // SoftHSM answers an OAEP hash other than SHA-1, or a label, with CKR_ARGUMENTS_BAD.
  'CKR_ARGUMENTS_BAD',
]);

/** The `CKR_*` name of a pkcs11js error, if it carries one. */
export function ckrName(e: unknown): string | undefined {
  const m = e instanceof Error ? /\bCKR_[A-Z0-9_]+/.exec(e.message) : null;
  return m?.[0];
}

/**
 * Turns a failure of a PKCS#11 call into an {@link EnsealError}.
 * @param e - what pkcs11js threw
 * @param what - the operation, for the message (e.g. `unwrap with "tok/key"`)
 * @param unwrapping - true while processing stanza bytes: unclassified failures are then `ERR_AUTH`
 * @returns the error to throw (already an EnsealError: returned unchanged)
 */
export function pkcs11Error(e: unknown, what: string, unwrapping = false): EnsealError {
  if (e instanceof EnsealError) return e;
  const ckr = ckrName(e);
  let code: ErrorCode;
  if (ckr !== undefined && NOT_FOUND.has(ckr)) code = 'ERR_KMS_NOT_FOUND';
  else if (ckr !== undefined && DENIED.has(ckr)) code = 'ERR_KMS_DENIED';
  else if (ckr !== undefined && UNAVAILABLE.has(ckr)) code = 'ERR_KMS_UNAVAILABLE';
  else if (ckr !== undefined && UNSUPPORTED.has(ckr)) code = 'ERR_UNSUPPORTED';
  else if (unwrapping && ckr !== undefined) code = 'ERR_AUTH';
  else code = 'ERR_KMS_UNAVAILABLE';
  const detail = code === 'ERR_AUTH' ? ' (wrong key, or a modified header)' : '';
  return new EnsealError(code, `PKCS#11 ${what} failed: ${ckr ?? 'error from the PKCS#11 module'}${detail}`, { cause: e });
}
