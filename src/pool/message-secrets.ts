/**
 * The per-message secrets of a C2SP message as raw bytes, for the worker pool: the pool threads
 * need the AEAD key and the base nonce themselves, which `deriveMessageKeys`
 * (src/format/cobblestone.ts) deliberately keeps inside a `ChunkCipher`. Same derivation
 * (C2SP chunked-encryption §"Key derivation"):
 *
 * ```
 * key || base_nonce || commitment = HKDF-Expand(prk = input key,
 *     info = "c2sp.org/chunked-encryption@v1+" || aead || 0x00 || salt || context)
 * ```
 *
 * The output buffer is owned by the caller, who wipes it once the threads have their copies.
 *
 * @module
 */
import { concat, constantTimeEqual, utf8, wipe, type Bytes, copyBytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { hkdfExpand } from '../backends/hkdf.js';
import { EnsealError } from '../errors.js';
import { COMMITMENT_LENGTH, NONCE_LENGTH, PREAMBLE_LENGTH, SALT_LENGTH, type ChunkedSuite } from '../format/cobblestone.js';

const INFO_PREFIX = utf8('c2sp.org/chunked-encryption@v1+');

/** A message's raw secrets: `secret` is `key || base nonce` (what the threads get). */
export interface MessageSecrets {
  /** `key || base nonce` (the caller wipes it). */
  readonly secret: Bytes;
  /** The 32-byte commitment (public once written). */
  readonly commitment: Bytes;
}

/**
 * Derives `key || base nonce` and the commitment of one message.
 * @param backend - whose HMAC runs the HKDF
 * @param suite - the Cobblestone instantiation
 * @param inputKey - the message's input key (not modified)
 * @param salt - 24 bytes
 * @param context - the C2SP context
 * @returns the secrets (wipe `secret`)
 * @throws RangeError for a wrong-size key or salt
 * @example
 * ```ts
 * const { secret, commitment } = await deriveMessageSecrets(backend, COBBLESTONE_256, key, salt, ctx);
 * ```
 */
export async function deriveMessageSecrets(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  salt: Uint8Array,
  context: Uint8Array,
): Promise<MessageSecrets> {
  if (!(inputKey instanceof Uint8Array) || inputKey.length !== suite.keyLengthInBytes) {
    throw new RangeError(`"inputKey" expected ${suite.keyLengthInBytes} bytes for ${suite.name}, got ${inputKey?.length}`);
  }
  if (salt.length !== SALT_LENGTH) throw new RangeError(`"salt" expected ${SALT_LENGTH} bytes, got ${salt.length}`);
  const kl = suite.keyLengthInBytes;
  const info = concat(INFO_PREFIX, utf8(suite.aead), Uint8Array.of(0), salt, context);
  const okm = await hkdfExpand(backend, suite.hash, inputKey, info, kl + NONCE_LENGTH + COMMITMENT_LENGTH);
  try {
    return { secret: copyBytes(okm.subarray(0, kl + NONCE_LENGTH)), commitment: copyBytes(okm.subarray(kl + NONCE_LENGTH)) };
  } finally {
    wipe(okm);
  }
}

/**
 * Derives the secrets from a stored preamble and checks its commitment in constant time before
 * any chunk is touched (C2SP: "implementations MUST check the commitment matches").
 * @param backend - whose HMAC runs the HKDF
 * @param suite - the Cobblestone instantiation
 * @param inputKey - the message's input key
 * @param preamble - `salt (24) || commitment (32)`
 * @param context - the C2SP context
 * @returns `key || base nonce` (the caller wipes it)
 * @throws EnsealError `ERR_AUTH` on a mismatch (wrong key or context, modified preamble)
 * @example
 * ```ts
 * const secret = await openPreambleSecrets(backend, COBBLESTONE_256, key, ct.subarray(0, 56), ctx);
 * ```
 */
export async function openPreambleSecrets(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  preamble: Uint8Array,
  context: Uint8Array,
): Promise<Bytes> {
  const { secret, commitment } = await deriveMessageSecrets(backend, suite, inputKey, preamble.subarray(0, SALT_LENGTH), context);
  if (!constantTimeEqual(commitment, preamble.subarray(SALT_LENGTH, PREAMBLE_LENGTH))) {
    wipe(secret);
    throw new EnsealError('ERR_AUTH', 'key commitment check failed (wrong key, wrong context, or modified ciphertext)');
  }
  return secret;
}
