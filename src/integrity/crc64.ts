/**
 * CRC-64/XZ, as Alibaba Cloud OSS computes it for `x-oss-hash-crc64ecma` (the OSS "Check data
 * integrity by using CRC-64" guide: ECMA-182 polynomial 0x42F0E1EBA9EA3693, reflected, init and
 * xorout 0xFFFFFFFFFFFFFFFF; check value CRC("123456789") = 0x995DC9BBDF1939FA). Runs in the WASM
 * core (wasm/crc64.ts) when it is compiled, else in TypeScript (crc64-table.ts): same result.
 *
 * @module
 */
import { loadWasmCore, wasmCoreIfReady } from '../backends/wasm-core.js';
import { assertBytes } from '../bytes.js';
import { crc64Register } from './crc64-table.js';

const ONES = 0xffffffffffffffffn;

/** Which implementation a {@link Crc64} uses. */
export type Crc64Engine = 'wasm' | 'js';

/**
 * An incremental CRC-64/XZ.
 * @example
 * ```ts
 * const c = new Crc64('js'); // or await createCrc64() for the WASM core
 * c.update(part1).update(part2);
 * c.digest().toString(); // as x-oss-hash-crc64ecma
 * ```
 */
export class Crc64 {
  #register = ONES;
  /** `'wasm'` (the WASM core) or `'js'` (the TypeScript tables). */
  readonly engine: Crc64Engine;

  /**
   * @param engine - the implementation; `'wasm'` needs the core compiled (see {@link createCrc64})
   * @throws TypeError for an unknown engine; Error when `'wasm'` is asked before the core is ready
   */
  constructor(engine: Crc64Engine = wasmCoreIfReady() === undefined ? 'js' : 'wasm') {
    if (engine !== 'wasm' && engine !== 'js') throw new TypeError(`"engine" expected 'wasm' or 'js', got ${String(engine)}`);
    if (engine === 'wasm' && wasmCoreIfReady() === undefined) throw new TypeError('"engine" wasm needs the WASM core: use createCrc64()');
    this.engine = engine;
  }

  /**
   * Adds bytes.
   * @param data - any bytes
   * @returns this
   */
  update(data: Uint8Array): this {
    assertBytes(data, 'data'); // a view of a detached buffer is refused, not counted as empty
    if (data.length === 0) return this;
    const core = this.engine === 'wasm' ? wasmCoreIfReady() : undefined;
    this.#register = core === undefined ? crc64Register(this.#register, data) : core.crc64(this.#register, data);
    return this;
  }

  /**
   * The CRC of everything added so far (the object can keep going).
   * @returns the CRC-64/XZ as an unsigned 64-bit bigint
   */
  digest(): bigint {
    return this.#register ^ ONES;
  }
}

/**
 * An incremental CRC-64/XZ on the fastest engine available: compiles the WASM core if needed and
 * falls back to TypeScript (no error) where WebAssembly is missing or refused.
 * @returns a fresh CRC
 * @example
 * ```ts
 * const crc = await createCrc64();
 * crc.update(new TextEncoder().encode('123456789')).digest(); // 0x995dc9bbdf1939fan
 * ```
 */
export async function createCrc64(): Promise<Crc64> {
  if (wasmCoreIfReady() === undefined) await loadWasmCore().catch(() => undefined);
  return new Crc64();
}

/**
 * CRC-64/XZ of one buffer (synchronous: the WASM core if already compiled, else TypeScript).
 * @param data - the bytes
 * @returns the CRC as an unsigned 64-bit bigint
 * @example
 * ```ts
 * crc64(new TextEncoder().encode('123456789')) === 0x995dc9bbdf1939fan; // true
 * ```
 */
export function crc64(data: Uint8Array): bigint {
  return new Crc64().update(data).digest();
}
