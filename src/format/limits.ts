/**
 * Every bound the envelope header format enforces (docs/FORMAT.md §3 "Limits"). Decoders check
 * these before allocating or slicing anything; encoders refuse values outside them.
 *
 * @module
 */

/** Largest header, in bytes, from the magic through the MAC. */
export const MAX_HEADER_LENGTH = 65536;
/** Bytes a reader needs to learn the header length: magic, version, suite, header length. */
export const HEADER_PREFIX_LENGTH = 12;
/** Most recipient stanzas in one header. */
export const MAX_RECIPIENTS = 64;
/** Most encryption-context entries. */
export const MAX_CONTEXT_ENTRIES = 128;
/** Longest encryption-context key, in UTF-8 bytes (keys are non-empty). */
export const MAX_CONTEXT_KEY_LENGTH = 256;
/** Longest encryption-context value, in UTF-8 bytes. */
export const MAX_CONTEXT_VALUE_LENGTH = 4096;
/** Longest stanza type, in bytes (ASCII `[a-z0-9][a-z0-9.-]*`). */
export const MAX_TYPE_LENGTH = 64;
/** Longest key id, in UTF-8 bytes (an AWS KMS key ARN is at most 2048). */
export const MAX_KEY_ID_LENGTH = 2048;
/** Most parameters in one stanza. */
export const MAX_PARAMS = 32;
/** Longest parameter name, in bytes (ASCII `[A-Za-z0-9._-]+`). */
export const MAX_PARAM_NAME_LENGTH = 64;
/** Longest parameter value, in UTF-8 bytes. */
export const MAX_PARAM_VALUE_LENGTH = 4096;
/** Longest wrapped data key, in bytes (RSA-8192 ciphertext is 1024; KMS blobs are a few hundred). */
export const MAX_WRAPPED_LENGTH = 8192;
/** Header MAC length (HMAC-SHA-256). */
export const HEADER_MAC_LENGTH = 32;
/** Data key length: the Cobblestone-256 input key. */
export const DATA_KEY_LENGTH = 32;
