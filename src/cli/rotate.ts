/**
 * `enseal rotate KEY… ADD… [--legacy] [--kms-discovery] [--kdf K] [--kdf-cost C]
 * [--kms-store P] [--context K=V]… [--force] IN OUT`: re-encrypts an object under a fresh data
 * key for new recipients, carrying its encryption context over. Where `rewrap` changes who can
 * unwrap the same data key (and copies the payload untouched), `rotate` retires the data key:
 * whoever kept the old one, or an old recipient's key, learns nothing about OUT.
 *
 * Streamed in constant memory through the library's `rotateStream` (a `decryptStream` feeding
 * an `encryptStream`): every chunk of IN is authenticated with the KEYs, re-encrypted for the
 * ADDED recipients and wiped. The new data key — and any KMS call carrying IN's context — is
 * made only once IN's header authenticated, so nothing is built from an unauthenticated
 * context. OUT is opened as everywhere in the CLI (atomic for a file: a failure part-way leaves
 * no OUT; in place for a device or FIFO, where a failure leaves a stream that never ends with a
 * final chunk and so never decrypts).
 *
 * @module
 */
import { Duplex } from 'node:stream';
import type { TransformStream as NodeTransformStream } from 'node:stream/web';
import { rotateStream } from '../envelope/rotate.js';
import type { RotateCommand } from './args.js';
import { refuseCiphertextOnTerminal } from './io.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import { transfer } from './transfer.js';

/**
 * The TransformStreams in use, kept referenced until their pipeline ends. `Duplex.fromWeb`
 * holds only the two sides of a TransformStream, and the library registers a last-resort abort
 * on the TransformStream object itself for when it is garbage-collected (push-transform.ts, for
 * runtimes without the `cancel` hook): the object must not become collectable mid-stream.
 */
const live = new Set<object>();

/**
 * Runs `rotate`.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_KEYFILE`/`ERR_USAGE`/`ERR_CANCELLED`/`ERR_IO`; EnsealError (`ERR_NO_KEY`,
 *   `ERR_AUTH`, `ERR_CONTEXT`, `ERR_HEADER`, `ERR_TRUNCATED`, KMS errors); system errors for I/O
 * @example
 * ```ts
 * await rotateCommand(parseArgs(['rotate', '--key', 'old.key', '--add-key', 'new.key', 'in', 'out']) as RotateCommand);
 * ```
 */
export async function rotateCommand(cmd: RotateCommand, io: Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'> = {}): Promise<void> {
  refuseCiphertextOnTerminal(cmd.output, cmd.force);
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: cmd.kdf, legacyRsa: cmd.legacyRsa, kmsDiscovery: cmd.kmsDiscovery, ...io });
  try {
    const [keys, recipients] = await loader.load([
      { sources: cmd.keys, role: 'unlock', promptLabel: 'Passphrase' },
      { sources: cmd.add, role: 'recipient', promptLabel: 'New passphrase' },
    ]);
    let stream: TransformStream<Uint8Array, Uint8Array> | undefined;
    // A destroyed Duplex cancels both sides of the TransformStream: its keys are disposed.
    const rotating = (): Duplex => {
      stream = rotateStream({ keys: keys!, recipients: recipients!, context: cmd.context });
      live.add(stream);
      return Duplex.fromWeb(stream as unknown as NodeTransformStream);
    };
    try {
      await transfer(cmd.input, cmd.output, rotating, { followSymlink: cmd.force, refuseTerminal: !cmd.force });
    } finally {
      if (stream !== undefined) live.delete(stream);
    }
  } finally {
    loader.dispose();
  }
}
