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
 * what a stanza may carry). Bounds on untrusted parameters are checked by `passphrase-params.ts`,
 * and the per-header work budget by `kdf-budget.ts`, *before* anything here runs. Derivations
 * run in a worker thread where the runtime has one (`kdf-thread.ts`), else on this thread.
 *
 * @module
 */
import { argon2id, createSHA256, pbkdf2, scrypt } from 'hash-wasm';
import { assertBytes, type Bytes, copyBytes } from '../bytes.js';
import { deriveInWorker } from './kdf-thread.js';

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

function checkCosts(params: KdfParams, password: Uint8Array): void {
  switch (params?.kdf) {
    case 'argon2id':
      // RFC 9106 §3.1 allows an empty password, but hash-wasm's Argon2 refuses one.
      if (password.length === 0) throw new RangeError('"password" expected at least 1 byte for argon2id');
      positiveInt(params.memoryKiB, 'memoryKiB');
      positiveInt(params.iterations, 'iterations');
      positiveInt(params.parallelism, 'parallelism');
      return;
    case 'scrypt':
      positiveInt(params.N, 'N');
      positiveInt(params.r, 'r');
      positiveInt(params.p, 'p');
      return;
    case 'pbkdf2-sha256':
      positiveInt(params.iterations, 'iterations');
      return;
    default:
      throw new TypeError(`"kdf" expected one of ${PASSPHRASE_KDFS.join(', ')}, got ${String((params as { kdf?: unknown })?.kdf)}`);
  }
}

/** Only the fields of the KDF's own costs (a caller's object may carry more). */
function ownCosts(p: KdfParams): KdfParams {
  switch (p.kdf) {
    case 'argon2id':
      return { kdf: p.kdf, memoryKiB: p.memoryKiB, iterations: p.iterations, parallelism: p.parallelism };
    case 'scrypt':
      return { kdf: p.kdf, N: p.N, r: p.r, p: p.p };
    default:
      return { kdf: p.kdf, iterations: p.iterations };
  }
}

/**
 * Derives `length` bytes from a password, in a worker thread where the runtime has them
 * (Node, Bun, Deno: `kdf-thread.ts`), else on the calling thread. In a worker the event loop
 * keeps running and the KDF's WebAssembly memory is released when the call returns; on the
 * calling thread (browsers, or where a worker cannot start) the call blocks the thread for the
 * whole derivation and hash-wasm keeps its grown memory for the life of the page or process.
 * hash-wasm checks the structural rules of each function (salt ≥ 8 bytes and m ≥ 8·p for
 * Argon2id, N a power of two for scrypt); its errors come out as `RangeError`. This function
 * does not judge costs: bounds and budgets are the passphrase provider's (`passphrase-params.ts`,
 * `kdf-budget.ts`), checked before anything here runs.
 *
 * @param params - the KDF and its costs
 * @param password - password bytes (a string passphrase is normalised by the caller; not empty
 *   for Argon2id, which hash-wasm refuses); not modified
 * @param salt - salt bytes; not modified
 * @param length - output length in bytes (default 32: an AES-256 key)
 * @returns a fresh buffer the caller owns and wipes
 * @throws TypeError for non-byte inputs or an unknown KDF name; RangeError for an empty Argon2id
 *   password or costs the function does not accept; EnsealError `ERR_LIMIT` / `ERR_UNSUPPORTED`
 *   when the worker thread runs out of memory or dies during the derivation
 * @example
 * ```ts
 * const kek = await deriveKey({ kdf: 'scrypt', N: 2 ** 17, r: 8, p: 1 }, utf8('pw'), salt);
 * ```
 */
export async function deriveKey(params: KdfParams, password: Uint8Array, salt: Uint8Array, length = 32): Promise<Bytes> {
  assertBytes(password, 'password');
  assertBytes(salt, 'salt');
  positiveInt(length, 'length');
  checkCosts(params, password);
  const job = { params: ownCosts(params), password, salt, length };
  return (await deriveInWorker(job)) ?? deriveHere(job.params, password, salt, length);
}

/**
 * {@link deriveKey} on the calling thread, always: what runs where there are no workers. It
 * blocks the thread for the whole derivation, and hash-wasm's WebAssembly memory keeps the
 * size the KDF needed for the life of the thread.
 *
 * @param params - the KDF and its costs
 * @param password - password bytes; not modified
 * @param salt - salt bytes; not modified
 * @param length - output length in bytes (default 32)
 * @returns a fresh buffer the caller owns and wipes
 * @throws as {@link deriveKey} (never `ERR_LIMIT`/`ERR_UNSUPPORTED`)
 * @example
 * ```ts
 * const kek = await deriveKeyOnThisThread({ kdf: 'pbkdf2-sha256', iterations: 600_000 }, pw, salt);
 * ```
 */
export async function deriveKeyOnThisThread(params: KdfParams, password: Uint8Array, salt: Uint8Array, length = 32): Promise<Bytes> {
  assertBytes(password, 'password');
  assertBytes(salt, 'salt');
  positiveInt(length, 'length');
  checkCosts(params, password);
  return deriveHere(ownCosts(params), password, salt, length);
}

async function deriveHere(params: KdfParams, password: Uint8Array, salt: Uint8Array, length: number): Promise<Bytes> {
  // hash-wasm keeps references to its inputs only for the duration of the call; copies keep
  // callers' buffers (which may be shared or subarrays) out of its reach.
  const pw = copyBytes(password);
  const s = copyBytes(salt);
  try {
    let out: Uint8Array;
    switch (params.kdf) {
      case 'argon2id':
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
        // RFC 7914 §6: scrypt(P, S, N, r, p, dkLen)
        out = await scrypt({ password: pw, salt: s, costFactor: params.N, blockSize: params.r, parallelism: params.p, hashLength: length, outputType: 'binary' });
        break;
      default:
        // RFC 8018 §5.2: PBKDF2(P, S, c, dkLen) with PRF = HMAC-SHA-256
        out = await pbkdf2({ password: pw, salt: s, iterations: params.iterations, hashLength: length, hashFunction: createSHA256(), outputType: 'binary' });
        break;
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
