/**
 * The `integrity` option of `encryptStream` / `decryptStream`: checksums of the plaintext and/or
 * the ciphertext computed in the same pass as the encryption (no second read of the data), for
 * storage adapters to send (`Content-MD5`) and verify (`x-oss-hash-crc64ecma`).
 *
 * On decryption the plaintext digest covers only plaintext the stream released, which is
 * plaintext whose chunk tag verified; the ciphertext digest covers every byte written.
 *
 * @module
 */
import { EnsealError } from '../errors.js';
import type { PushMachine } from '../streams/push-transform.js';
import { checkChecksumOptions, createChecksummer, type Checksummer, type ChecksumOptions, type Digests } from './checksums.js';

/** Which checksums to compute on each side of an encryption or decryption stream. */
export interface IntegritySpec {
  /** Checksums of the plaintext. */
  readonly plaintext?: ChecksumOptions;
  /** Checksums of the ciphertext (the whole enseal object, header included). */
  readonly ciphertext?: ChecksumOptions;
}

/** What {@link IntegrityCheck.digests} resolves to. */
export interface IntegrityDigests {
  readonly plaintext?: Digests;
  readonly ciphertext?: Digests;
}

/** A one-use request for checksums, passed as the `integrity` option of one stream. */
export interface IntegrityCheck {
  /** What is computed. */
  readonly spec: IntegritySpec;
  /** Resolves when the stream finished; rejects when it errors or is cancelled. */
  readonly digests: Promise<IntegrityDigests>;
}

const claims = new WeakMap<IntegrityCheck, { resolve(d: IntegrityDigests): void; reject(e: unknown): void; used: boolean }>();

/**
 * Creates the `integrity` option of one `encryptStream` or `decryptStream`.
 * @param spec - checksums of the `plaintext` and/or the `ciphertext`
 * @returns the request; read `digests` after the stream ended
 * @throws TypeError for an invalid spec, or one that asks for nothing
 * @example
 * ```ts
 * const check = integrityCheck({ ciphertext: { crc64: true, md5: true }, plaintext: { sha256: true } });
 * await file.stream().pipeThrough(encryptStream({ recipients: [key], integrity: check })).pipeTo(upload);
 * const { ciphertext, plaintext } = await check.digests;
 * ```
 */
export function integrityCheck(spec: IntegritySpec): IntegrityCheck {
  if (typeof spec !== 'object' || spec === null) throw new TypeError('"integrity" expected { plaintext?, ciphertext? }');
  for (const k of Object.keys(spec)) if (k !== 'plaintext' && k !== 'ciphertext') throw new TypeError(`"integrity" expected plaintext or ciphertext, got ${JSON.stringify(k)}`);
  if (spec.plaintext === undefined && spec.ciphertext === undefined) throw new TypeError('"integrity" asks for no checksum');
  if (spec.plaintext !== undefined) checkChecksumOptions(spec.plaintext, 'integrity.plaintext');
  if (spec.ciphertext !== undefined) checkChecksumOptions(spec.ciphertext, 'integrity.ciphertext');
  let resolve!: (d: IntegrityDigests) => void;
  let reject!: (e: unknown) => void;
  const digests = new Promise<IntegrityDigests>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  digests.catch(() => undefined); // unread digests of a failed stream are no unhandled rejection
  const check: IntegrityCheck = Object.freeze({ spec: Object.freeze({ ...spec }), digests });
  claims.set(check, { resolve, reject, used: false });
  return check;
}

/**
 * Wraps a stream machine so that it checksums what goes in and what comes out.
 * @param make - the machine factory (`encryptMachine(opts)` or `decryptMachine(opts)`)
 * @param check - the request, or `undefined` for none (then `make` is returned as is)
 * @param direction - `'encrypt'` (in = plaintext) or `'decrypt'` (in = ciphertext)
 * @returns the wrapped factory
 * @throws TypeError for a value that did not come from {@link integrityCheck}, or one already used
 * @example
 * ```ts
 * pushTransform(withIntegrity(encryptMachine(opts), opts.integrity, 'encrypt'));
 * ```
 */
export function withIntegrity(make: () => Promise<PushMachine>, check: IntegrityCheck | undefined, direction: 'encrypt' | 'decrypt'): () => Promise<PushMachine> {
  if (check === undefined) return make;
  const claim = typeof check === 'object' && check !== null ? claims.get(check) : undefined;
  if (claim === undefined) throw new TypeError('"integrity" expected a value from integrityCheck()');
  if (claim.used) throw new TypeError('"integrity" was already used by another stream: make one integrityCheck() per stream');
  claim.used = true;
  const { plaintext, ciphertext } = check.spec;
  return async () => {
    let ins: Checksummer | undefined;
    let outs: Checksummer | undefined;
    let inner: PushMachine;
    try {
      const [p, c] = await Promise.all([plaintext && createChecksummer(plaintext), ciphertext && createChecksummer(ciphertext)]);
      [ins, outs] = direction === 'encrypt' ? [p, c] : [c, p];
      inner = await make();
    } catch (e) {
      claim.reject(e);
      throw e;
    }
    const out = (parts: Uint8Array[]): Uint8Array[] => {
      if (outs !== undefined) for (const x of parts) outs.update(x);
      return parts;
    };
    let settled = false;
    const innerStart = inner.start;
    return {
      ...(innerStart === undefined ? {} : { start: async () => out(await innerStart.call(inner)) }),
      push(data) {
        ins?.update(data); // before the machine sees it (a machine may reuse or wipe its input)
        const r = inner.push(data);
        return r instanceof Promise ? r.then(out) : out(r); // a synchronous step stays synchronous
      },
      async finish() {
        const last = out(await inner.finish());
        const a = ins?.digest();
        const b = outs?.digest();
        const [pt, ct] = direction === 'encrypt' ? [a, b] : [b, a];
        settled = true;
        claim.resolve({ ...(pt === undefined ? {} : { plaintext: pt }), ...(ct === undefined ? {} : { ciphertext: ct }) });
        return last;
      },
      abort() {
        if (!settled) {
          settled = true;
          claim.reject(new EnsealError('ERR_STATE', 'the stream did not finish: no digests'));
        }
        inner.abort?.();
      },
    };
  };
}
