/**
 * The password-based key derivation functions of the passphrase provider, run by hash-wasm
 * (WebAssembly, so the same code runs in Node, Deno, Bun and browsers; a CSP must allow
 * `'wasm-unsafe-eval'`):
 *
 * | name            | function                                   | cost parameters                         |
 * |-----------------|--------------------------------------------|-----------------------------------------|
 * | `argon2id`      | Argon2id, version 0x13 (RFC 9106 §3)       | memory `m` KiB, passes `t`, lanes `p`   |
 * | `scrypt`        | scrypt (RFC 7914 §6)                       | cost `N`, block size `r`, parallelism `p` |
 * | `pbkdf2-sha256` | PBKDF2 with HMAC-SHA-256 (RFC 8018 §5.2)   | iteration count `c`                     |
 *
 * This module only computes; it does not judge the parameters (the vectors use costs far below
 * what a stanza may carry). Bounds on untrusted parameters are checked by `passphrase-params.ts`
 * *before* anything here runs.
 *
 * @module
 */
import { argon2id, createSHA256, pbkdf2, scrypt } from 'hash-wasm';
import { assertBytes, type Bytes } from '../bytes.js';

/** Names of the supported KDFs, as stored in a stanza's `kdf` parameter. */
export type PassphraseKdf = 'argon2id' | 'scrypt' | 'pbkdf2-sha256';

/** Every KDF name, in the order of the table above. */
export const PASSPHRASE_KDFS: readonly PassphraseKdf[] = ['argon2id', 'scrypt', 'pbkdf2-sha256'];

/** Argon2id costs (RFC 9106 §3.1 names: m, t, p). */
export interface Argon2idCost {
  /** Memory size `m` in KiB (≥ 8·p). */
  memoryKiB: number;
  /** Number of passes `t` (≥ 1). */
  iterations: number;
  /** Degree of parallelism `p`: number of lanes (≥ 1). hash-wasm runs the lanes one after another. */
  parallelism: number;
}

/** scrypt costs (RFC 7914 §2 names). */
export interface ScryptCost {
  /** CPU/memory cost `N`: a power of two > 1. */
  N: number;
  /** Block size `r` (≥ 1). */
  r: number;
  /** Parallelization `p` (≥ 1). */
  p: number;
}

/** PBKDF2 costs (RFC 8018 §5.2 name: c). */
export interface Pbkdf2Cost {
  /** Iteration count `c` (≥ 1). */
  iterations: number;
}

/** A KDF and its costs: what a passphrase stanza records besides the salt. */
export type KdfParams =
  | ({ kdf: 'argon2id' } & Argon2idCost)
  | ({ kdf: 'scrypt' } & ScryptCost)
  | ({ kdf: 'pbkdf2-sha256' } & Pbkdf2Cost);

function positiveInt(v: number, name: string): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`"${name}" expected a positive integer, got ${String(v)}`);
}

/**
 * Derives `length` bytes from a password. hash-wasm checks the structural rules of each
 * function (salt ≥ 8 bytes and m ≥ 8·p for Argon2id, N a power of two for scrypt); its errors
 * come out as `RangeError`.
 *
 * @param params - the KDF and its costs
 * @param password - password bytes (a string passphrase is normalised by the caller; not empty
 *   for Argon2id, which hash-wasm refuses)
 * @param salt - salt bytes
 * @param length - output length in bytes (default 32: an AES-256 key)
 * @returns a fresh buffer the caller owns and wipes
 * @throws TypeError for non-byte inputs or an unknown KDF name; RangeError for an empty Argon2id
 *   password or costs the function does not accept
 * @example
 * ```ts
 * const kek = await deriveKey({ kdf: 'scrypt', N: 2 ** 17, r: 8, p: 1 }, utf8('pw'), salt);
 * ```
 */
export async function deriveKey(params: KdfParams, password: Uint8Array, salt: Uint8Array, length = 32): Promise<Bytes> {
  assertBytes(password, 'password');
  assertBytes(salt, 'salt');
  positiveInt(length, 'length');
  // hash-wasm keeps references to its inputs only for the duration of the call; copies keep
  // callers' buffers (which may be shared or subarrays) out of its reach.
  const pw = password.slice();
  const s = salt.slice();
  try {
    let out: Uint8Array;
    switch (params?.kdf) {
      case 'argon2id':
        // RFC 9106 §3.1 allows an empty password, but hash-wasm's Argon2 refuses one.
        if (pw.length === 0) throw new RangeError('"password" expected at least 1 byte for argon2id');
        positiveInt(params.memoryKiB, 'memoryKiB');
        positiveInt(params.iterations, 'iterations');
        positiveInt(params.parallelism, 'parallelism');
        // RFC 9106 §3.2: H0 binds p, T, m, t, v = 0x13, y = 2 (Argon2id), P, S, K, X; we use no
        // secret K and no associated data X (the wrap's AES-GCM AAD does that job).
        out = await argon2id({
          password: pw,
          salt: s,
          memorySize: params.memoryKiB,
          iterations: params.iterations,
          parallelism: params.parallelism,
          hashLength: length,
          outputType: 'binary',
        });
        break;
      case 'scrypt':
        positiveInt(params.N, 'N');
        positiveInt(params.r, 'r');
        positiveInt(params.p, 'p');
        // RFC 7914 §6: scrypt(P, S, N, r, p, dkLen)
        out = await scrypt({ password: pw, salt: s, costFactor: params.N, blockSize: params.r, parallelism: params.p, hashLength: length, outputType: 'binary' });
        break;
      case 'pbkdf2-sha256':
        positiveInt(params.iterations, 'iterations');
        // RFC 8018 §5.2: PBKDF2(P, S, c, dkLen) with PRF = HMAC-SHA-256
        out = await pbkdf2({ password: pw, salt: s, iterations: params.iterations, hashLength: length, hashFunction: createSHA256(), outputType: 'binary' });
        break;
      default:
        throw new TypeError(`"kdf" expected one of ${PASSPHRASE_KDFS.join(', ')}, got ${String((params as { kdf?: unknown })?.kdf)}`);
    }
    // The output may be a view on hash-wasm's memory: copy it out, then wipe the original.
    const key = out.slice() as Bytes;
    out.fill(0);
    return key;
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    // hash-wasm reports invalid parameters with plain Errors; none of them echo the password.
    throw new RangeError(`${params.kdf}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    pw.fill(0);
    s.fill(0);
  }
}
