/**
 * One pass, several checksums: CRC-64/XZ (OSS `x-oss-hash-crc64ecma`), MD5 (HTTP `Content-MD5`,
 * RFC 1864) and SHA-256 over the same bytes as they stream by. MD5 and SHA-256 come from
 * hash-wasm (each checksummer has its own hasher instances, so streams never share state).
 *
 * @module
 */
import { createMD5, createSHA256, type IHasher } from 'hash-wasm';
import { assertBytes, toBase64, toHex } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { createCrc64, type Crc64 } from './crc64.js';

/** Which checksums to compute (at least one). */
export interface ChecksumOptions {
  /** CRC-64/XZ, as OSS's `x-oss-hash-crc64ecma`. */
  readonly crc64?: boolean;
  /** MD5, as `Content-MD5`. */
  readonly md5?: boolean;
  /** SHA-256. */
  readonly sha256?: boolean;
}

/** The checksums of a byte sequence, formatted as HTTP headers carry them. */
export interface Digests {
  /** Bytes hashed. */
  readonly length: number;
  /** CRC-64/XZ as an unsigned decimal string (the `x-oss-hash-crc64ecma` format). */
  readonly crc64?: string;
  /** MD5, base64 (the `Content-MD5` format, RFC 1864). */
  readonly md5?: string;
  /** SHA-256, lower-case hex. */
  readonly sha256?: string;
}

/** An incremental set of checksums. */
export interface Checksummer {
  /** Adds bytes to every checksum (synchronous). */
  update(data: Uint8Array): void;
  /** The checksums of everything added. Ends the checksummer: later calls throw `ERR_STATE`. */
  digest(): Digests;
}

/**
 * Checks a {@link ChecksumOptions} value.
 * @param spec - the options
 * @param name - the option's name for messages
 * @returns the options, with at least one checksum asked for
 * @throws TypeError for a non-object, an unknown name, a non-boolean, or nothing asked for
 * @example
 * ```ts
 * checkChecksumOptions({ crc64: true }, 'checksums');
 * ```
 */
export function checkChecksumOptions(spec: ChecksumOptions, name: string): ChecksumOptions {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`"${name}" expected an object like { crc64: true, md5: true, sha256: true }`);
  for (const [k, v] of Object.entries(spec)) {
    if (k !== 'crc64' && k !== 'md5' && k !== 'sha256') throw new TypeError(`"${name}" expected crc64, md5 or sha256, got ${JSON.stringify(k)}`);
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`"${name}.${k}" expected a boolean, got ${typeof v}`);
  }
  if (spec.crc64 !== true && spec.md5 !== true && spec.sha256 !== true) throw new TypeError(`"${name}" asks for no checksum`);
  return spec;
}

async function hasher(make: () => Promise<IHasher>, what: string): Promise<IHasher> {
  try {
    const h = await make();
    h.init();
    return h;
  } catch (cause) {
    throw new EnsealError('ERR_UNSUPPORTED', `${what} needs WebAssembly (hash-wasm), which this runtime refused`, { cause });
  }
}

/**
 * Creates a checksummer for the checksums in `spec`.
 * @param spec - which checksums
 * @returns a ready checksummer
 * @throws TypeError for an invalid `spec`
 * @throws EnsealError `ERR_UNSUPPORTED` for MD5/SHA-256 where WebAssembly is refused (CRC-64
 *   falls back to TypeScript)
 * @example
 * ```ts
 * const c = await createChecksummer({ crc64: true, md5: true });
 * c.update(bytes);
 * const { crc64, md5 } = c.digest();
 * ```
 */
export async function createChecksummer(spec: ChecksumOptions): Promise<Checksummer> {
  checkChecksumOptions(spec, 'checksums');
  const [crc, md5, sha256] = await Promise.all([
    spec.crc64 === true ? createCrc64() : undefined,
    spec.md5 === true ? hasher(createMD5, 'MD5') : undefined,
    spec.sha256 === true ? hasher(createSHA256, 'SHA-256') : undefined,
  ]);
  return makeChecksummer(crc, md5, sha256);
}

function makeChecksummer(crc: Crc64 | undefined, md5: IHasher | undefined, sha256: IHasher | undefined): Checksummer {
  let length = 0;
  let done = false;
  return {
    update(data) {
      if (done) throw new EnsealError('ERR_STATE', 'the checksums were already read');
      assertBytes(data, 'data'); // a view of a detached buffer is refused, not counted as empty
      length += data.length;
      crc?.update(data);
      md5?.update(data);
      sha256?.update(data);
    },
    digest() {
      if (done) throw new EnsealError('ERR_STATE', 'the checksums were already read');
      done = true;
      const out = {
        length,
        ...(crc === undefined ? {} : { crc64: crc.digest().toString() }),
        ...(md5 === undefined ? {} : { md5: toBase64(md5.digest('binary')) }),
        ...(sha256 === undefined ? {} : { sha256: toHex(sha256.digest('binary')) }),
      };
      md5?.init(); // reset the hashers' state (it holds the last bytes hashed)
      sha256?.init();
      return out;
    },
  };
}
