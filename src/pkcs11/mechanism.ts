/**
 * What the provider needs from each PKCS#11 mechanism, and the helpers they share. Each
 * mechanism finds its master key(s) on the token once, then wraps and unwraps data keys on the
 * token; the master key never leaves it. Calls run inside the session's queue.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { DATA_KEY_LENGTH } from '../format/limits.js';

/** One wrapping mechanism bound to its master key(s) on one token session. */
export interface TokenMechanism {
  /** Stanza type it writes and reads. */
  readonly stanzaType: string;
  /** Exact length of its wrapped data keys. */
  readonly wrappedLength: number;
  /**
   * Wraps a data key on the token.
   * @param aad - the stanza binding (used by mechanisms that authenticate associated data)
   * @param random - CSPRNG for IVs
   */
  wrap(dataKey: Uint8Array, aad: Uint8Array, random: (n: number) => Bytes): Promise<Bytes>;
  /**
   * Unwraps a data key on the token.
   * @throws EnsealError `ERR_AUTH` when the token refuses the bytes
   */
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Promise<Bytes>;
}

/** A Node `Buffer` copy of `b` (pkcs11js takes Buffers); the caller wipes it. */
export function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b);
}

/**
 * Copies a recovered data key out of a pkcs11js buffer and wipes the buffer.
 * @throws EnsealError `ERR_AUTH` when it is not a 32-byte key
 */
export function takeDataKey(buf: Buffer, what: string): Bytes {
  try {
    if (buf.length !== DATA_KEY_LENGTH) throw new EnsealError('ERR_AUTH', `PKCS#11 ${what} returned ${buf.length} bytes, not a ${DATA_KEY_LENGTH}-byte data key`);
    return new Uint8Array(buf) as Bytes;
  } finally {
    buf.fill(0);
  }
}
