/**
 * The push machines of `encryptStream` / `decryptStream` (and `createEncryptStream` /
 * `createDecryptStream`, which drive the same machines) when `workers` is set: the header is
 * sealed or collected and unlocked on the calling thread exactly as in `src/envelope/streams.ts`
 * (header bounded to 64 KiB before anything is allocated, context checked, data key unwrapped,
 * header MAC verified, commitment checked), then the payload goes through a
 * {@link PoolSealer} / {@link PoolOpener}. The bytes are the same as without workers.
 *
 * @module
 */
import { wipe, type Bytes } from '../bytes.js';
import { getBackend } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import { COBBLESTONE_256, SALT_LENGTH } from '../format/cobblestone.js';
import type { Header } from '../format/header.js';
import { HeaderCollector } from '../format/header-collector.js';
import type { PushMachine } from '../streams/push-transform.js';
import { checkDecryptOptions, sealHeader, unlockHeader, type DecryptOptions, type EncryptOptions } from '../envelope/options.js';
import { deriveMessageSecrets, openPreambleSecrets } from './message-secrets.js';
import { checkWorkersOption } from './pool.js';
import { PoolOpener } from './pool-opener.js';
import { PoolSealer } from './pool-sealer.js';
import { openSession, type WorkersOption } from './session.js';

function requireWorkers(v: unknown): WorkersOption {
  checkWorkersOption(v);
  if (v === undefined) throw new TypeError('"workers" expected a thread count or a pool from createPool()');
  return v;
}

/**
 * The encrypting machine on a worker pool.
 * @param opts - as `encryptStream`, with `workers` set
 * @returns a factory of the machine: seals the header, opens a pool session, then the payload
 * @throws TypeError/RangeError for a bad `workers` value (at call time)
 * @example
 * ```ts
 * const ts = pushTransform(poolEncryptMachine({ recipients: [key], workers: 2 }));
 * ```
 */
export function poolEncryptMachine(opts: EncryptOptions): () => Promise<PushMachine> {
  const workers = requireWorkers(opts?.workers);
  const backend = getBackend(opts.backend);
  return async () => {
    const { header, bound, dataKey } = await sealHeader(opts, backend);
    const salt = backend.randomBytes(SALT_LENGTH);
    let secrets;
    try {
      secrets = await deriveMessageSecrets(backend, COBBLESTONE_256, dataKey, salt, bound);
    } finally {
      wipe(dataKey);
    }
    let sealer: PoolSealer;
    try {
      sealer = new PoolSealer(openSession(workers, secrets.secret));
    } finally {
      wipe(secrets.secret);
    }
    return {
      start: async () => [header, salt, secrets.commitment],
      push: (d) => sealer.push(d),
      finish: () => sealer.finish(),
      abort: () => sealer.abort(),
    };
  };
}

/**
 * The decrypting machine on a worker pool.
 * @param opts - as `decryptStream`, with `workers` set
 * @param onHeader - called once with the authenticated header, before any plaintext
 * @returns a factory of the machine
 * @throws TypeError/RangeError for invalid options (at call time)
 * @example
 * ```ts
 * const ts = pushTransform(poolDecryptMachine({ keys: [key], workers: pool }));
 * ```
 */
export function poolDecryptMachine(opts: DecryptOptions, onHeader?: (header: Header) => void): () => Promise<PushMachine> {
  const backend = checkDecryptOptions(opts);
  const workers = requireWorkers(opts.workers);
  return async () => {
    const head = new HeaderCollector();
    let opener: PoolOpener | undefined;
    let dataKey: Uint8Array | undefined;
    let aborted = false;
    const cancelled = (): EnsealError => new EnsealError('ERR_STATE', 'the stream was cancelled');

    const unlock = async (headerBytes: Uint8Array): Promise<PoolOpener> => {
      const unlocked = await unlockHeader(headerBytes, opts, backend);
      if (aborted) {
        wipe(unlocked.dataKey);
        throw cancelled();
      }
      dataKey = unlocked.dataKey;
      onHeader?.(unlocked.header);
      return new PoolOpener(workers, async (preamble) => {
        try {
          return await openPreambleSecrets(backend, COBBLESTONE_256, unlocked.dataKey, preamble, unlocked.header.bound);
        } finally {
          wipe(unlocked.dataKey);
        }
      });
    };

    return {
      async push(data): Promise<Bytes[]> {
        if (aborted) throw cancelled();
        if (opener !== undefined) return opener.push(data);
        const end = head.take(data);
        if (end < 0) return [];
        opener = await unlock(head.header);
        if (aborted) opener.abort();
        return end < data.length ? opener.push(data.subarray(end)) : [];
      },
      async finish(): Promise<Bytes[]> {
        try {
          if (aborted) throw cancelled();
          if (opener === undefined) throw head.truncated();
          return await opener.finish();
        } finally {
          wipe(dataKey);
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
