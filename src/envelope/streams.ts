/**
 * `encryptStream` / `decryptStream`: Web `TransformStream`s with backpressure and O(chunk)
 * memory. Decryption collects the header (bounded to 64 KiB before anything is allocated),
 * unlocks it, checks the payload commitment, then releases each chunk's plaintext only after its
 * tag verified. A stream that ends early errors; it never ends as a silently short success.
 *
 * @module
 */
import { wipe, type Bytes } from '../bytes.js';
import { getBackend } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import { ChunkOpener } from '../format/chunked-open.js';
import { ChunkSealer } from '../format/chunked-seal.js';
import { COBBLESTONE_256, SALT_LENGTH, deriveMessageKeys, openPreamble } from '../format/cobblestone.js';
import type { Header } from '../format/header.js';
import { HeaderCollector } from '../format/header-collector.js';
import { pushTransform, type PushMachine } from '../streams/push-transform.js';
import { withIntegrity, type IntegrityCheck } from '../integrity/stream-integrity.js';
import { checkDecryptOptions, sealHeader, unlockHeader, type DecryptOptions, type EncryptOptions } from './options.js';
import { poolDecryptMachine, poolEncryptMachine } from '../pool/envelope-machines.js';

/**
 * A `TransformStream` that encrypts a plaintext byte stream into an enseal object. Cancelling
 * the readable side, aborting the writable side, or any error disposes the stream's keys.
 *
 * @param opts - `recipients` (required), `context`, `backend`, `integrity` (an
 *   `integrityCheck()`: checksums of the plaintext and/or ciphertext in the same pass)
 * @returns plaintext in, enseal object out (header first)
 * @throws TypeError/RangeError (through the stream) for invalid options; TypeError at call time
 *   for an `integrity` value not from `integrityCheck()` or already used
 * @example
 * ```ts
 * await blob.stream().pipeThrough(encryptStream({ recipients: [key] })).pipeTo(upload);
 * ```
 */
export function encryptStream(opts: EncryptOptions & { integrity?: IntegrityCheck }): TransformStream<Uint8Array, Uint8Array> {
  return pushTransform(withIntegrity(encryptMachine(opts), opts?.integrity, 'encrypt'));
}

/**
 * The state machine behind {@link encryptStream} (shared with the Node stream adapter).
 * @param opts - as {@link encryptStream}
 * @returns a factory of the machine: seals the header, then the payload chunk by chunk
 * @example
 * ```ts
 * const ts = pushTransform(encryptMachine({ recipients: [key] }));
 * ```
 */
export function encryptMachine(opts: EncryptOptions): () => Promise<PushMachine> {
  if (opts?.workers !== undefined) return poolEncryptMachine(opts); // src/pool/: same bytes, on worker threads
  const backend = getBackend(opts?.backend);
  return async () => {
    const { header, bound, dataKey } = await sealHeader(opts, backend);
    const salt = backend.randomBytes(SALT_LENGTH);
    let keys;
    try {
      keys = await deriveMessageKeys(backend, COBBLESTONE_256, dataKey, salt, bound);
    } finally {
      wipe(dataKey);
    }
    const sealer = new ChunkSealer(keys.cipher);
    return {
      start: async () => [header, salt, keys.commitment],
      push: (d) => sealer.push(d),
      finish: async () => [await sealer.finish()],
      abort: () => sealer.abort(),
    };
  };
}

/**
 * A `TransformStream` that decrypts an enseal object stream. Cancelling the readable side,
 * aborting the writable side, or any error disposes the stream's keys.
 *
 * @param opts - `keys` (required), expected `context`, `backend`, `integrity` (an
 *   `integrityCheck()`; the plaintext digest covers only released, authenticated plaintext)
 * @returns enseal object in, authenticated plaintext out
 * @throws TypeError for invalid options (at call time)
 * @throws (through the stream) EnsealError `ERR_HEADER`, `ERR_CONTEXT`, `ERR_NO_KEY`, `ERR_AUTH`,
 *   `ERR_TRUNCATED`; once errored, the stream stays errored
 * @example
 * ```ts
 * const plain = await new Response(upload.pipeThrough(decryptStream({ keys: [key] }))).arrayBuffer();
 * ```
 */
export function decryptStream(opts: DecryptOptions & { integrity?: IntegrityCheck }): TransformStream<Uint8Array, Uint8Array> {
  return pushTransform(withIntegrity(decryptMachine(opts), opts?.integrity, 'decrypt'));
}

/**
 * The state machine behind {@link decryptStream} (shared with the Node stream adapter and
 * `rotateStream`).
 * @param opts - as {@link decryptStream}
 * @param onHeader - called once with the authenticated header, before any plaintext
 * @returns a factory of the machine: collects and unlocks the header, then opens the payload
 * @throws TypeError for invalid options
 * @example
 * ```ts
 * const ts = pushTransform(decryptMachine({ keys: [key] }, (h) => console.log(h.context)));
 * ```
 */
export function decryptMachine(opts: DecryptOptions, onHeader?: (header: Header) => void): () => Promise<PushMachine> {
  if (opts?.workers !== undefined) return poolDecryptMachine(opts, onHeader); // src/pool/: same checks, chunks on worker threads
  const backend = checkDecryptOptions(opts);
  return async () => {
    const head = new HeaderCollector();
    let opener: ChunkOpener | undefined;
    let dataKey: Uint8Array | undefined;
    let aborted = false;
    const cancelled = (): EnsealError => new EnsealError('ERR_STATE', 'the stream was cancelled');

    const unlock = async (headerBytes: Uint8Array): Promise<ChunkOpener> => {
      const unlocked = await unlockHeader(headerBytes, opts, backend);
      if (aborted) {
        wipe(unlocked.dataKey); // cancelled while the key was being unwrapped
        throw cancelled();
      }
      dataKey = unlocked.dataKey;
      onHeader?.(unlocked.header);
      return new ChunkOpener(async (preamble) => {
        try {
          return await openPreamble(backend, COBBLESTONE_256, unlocked.dataKey, preamble, unlocked.header.bound);
        } finally {
          wipe(unlocked.dataKey);
        }
      });
    };

    /** Collects and unlocks the header; passes what follows it to the opener. */
    const pushHeader = async (data: Uint8Array): Promise<Bytes[]> => {
      const end = head.take(data);
      if (end < 0) return [];
      opener = await unlock(head.header);
      if (aborted) opener.abort(); // cancelled just now: its next call throws ERR_STATE
      return end < data.length ? opener.push(data.subarray(end)) : [];
    };

    return {
      // Not `async`: once the header is unlocked, a synchronous opener step (node:crypto) stays
      // synchronous, so the stream's fast path (no promise per write) is taken.
      push(data): Bytes[] | Promise<Bytes[]> {
        if (aborted) return Promise.reject(cancelled());
        return opener !== undefined ? opener.push(data) : pushHeader(data);
      },
      async finish(): Promise<Bytes[]> {
        try {
          if (aborted) throw cancelled();
          if (opener === undefined) throw head.truncated();
          return [await opener.finish()];
        } finally {
          wipe(dataKey); // already wiped once the preamble was read; not when the stream ended before it
        }
      },
      abort: () => {
        aborted = true;
        wipe(dataKey);
        opener?.abort();
      },
    };
  };
}
