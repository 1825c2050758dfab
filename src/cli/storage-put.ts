/**
 * `enseal put RECIPIENT... [--part-size SIZE] [--concurrency N] [--resume [--state FILE]]
 * [--sse SSE] [--context K=V]... FILE|- LOCATION`: encrypts FILE (or stdin) into a stored
 * object through `encryptedBucket`: one PUT up to the part size, else a parallel multipart
 * upload of whole 16 KiB chunks, byte-identical to `enseal encrypt` output.
 *
 * - Without `--resume`, any failure (and Ctrl-C) aborts the multipart upload: nothing partial
 *   is visible, nothing is left in the store.
 * - With `--resume`, the upload's state is saved as parts complete (./storage-state.ts); after a
 *   crash, a kill or a failure, the same command with `--resume` re-sends only the missing parts
 *   (each already-stored part is checked against its recorded digest, so another FILE is
 *   refused with ERR_STATE). Resuming unwraps the saved header again, so a recipient must also
 *   be able to unwrap (`--key`, `--kms`, `--passphrase-env`; not `--rsa-public` alone).
 *
 * Prints one line on stdout: the location, the plaintext size, and the parts sent.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { encryptedBucket } from '../storage/bucket.js';
import { CliError } from './cli-error.js';
import { openInput, type Input } from './io.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import type { PutCommand } from './storage-args.js';
import { openStore } from './storage-client.js';
import { countingWebStream, transferProgress } from './storage-progress.js';
import { resolveSse } from './storage-sse.js';
import { defaultStatePath, discardSavedUpload } from './storage-state.js';
import { fileUploadState } from '../storage/upload-state.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Runs `fn` with an AbortSignal that the first SIGINT/SIGTERM aborts (so an upload is aborted
 * in the store, or its state kept with `--resume`); a second signal terminates at once. The
 * input is destroyed too, so an upload waiting for stdin notices at once.
 * @throws CliError `ERR_CANCELLED` after a signal, whatever the upload then threw
 */
async function cancellable<T>(input: { destroy(e?: Error): void }, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    if (controller.signal.aborted) process.kill(process.pid, signal);
    else {
      const reason = new CliError('ERR_CANCELLED', `interrupted by ${signal}`);
      controller.abort(reason);
      input.destroy(reason);
      for (const s of SIGNALS) process.once(s, () => process.kill(process.pid, s));
    }
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn(controller.signal);
  } catch (e) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw e;
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
}

/**
 * A Web stream pulling from a Node readable through its async iterator. Not `Readable.toWeb`:
 * its adapter keeps enqueueing 'data' that arrives after a cancel and then throws
 * "Controller is already closed" as an uncaught exception (seen on Node 20 when a failed upload
 * cancels its file input).
 */
function pullStream(stream: NodeJS.ReadableStream & { destroy(error?: Error): void }): ReadableStream<Uint8Array> {
  const it = stream[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await it.next();
      if (done) c.close();
      else c.enqueue(typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    },
    async cancel() {
      await it.return?.();
      stream.destroy();
    },
  });
}

/**
 * Runs `put`.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_USAGE`/`ERR_KEYFILE`/`ERR_IO`/`ERR_CANCELLED`; EnsealError (`ERR_STORE`,
 *   `ERR_STATE`, `ERR_INSECURE_TRANSPORT`, `ERR_UNSUPPORTED`, KMS errors); system errors
 */
export async function putCommand(cmd: PutCommand, io: Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'> = {}): Promise<void> {
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: cmd.kdf, ...io });
  let sse: Awaited<ReturnType<typeof resolveSse>> | undefined;
  let input: Input | undefined;
  try {
    const { store, maxMetadataBytes } = await openStore(cmd.location, { allowInsecureHttp: cmd.allowInsecureHttp, ...(io.env === undefined ? {} : { env: io.env }) });
    const [recipients] = await loader.load([{ sources: cmd.recipients, role: 'recipient', promptLabel: 'Passphrase' }]);
    sse = await resolveSse(cmd.sse);
    const bucket = encryptedBucket(store, {
      recipients: recipients!,
      keys: recipients!, // a resumed upload unwraps its saved header again
      context: cmd.context,
      ...(cmd.partSize === undefined ? {} : { partSize: cmd.partSize }),
      ...(cmd.concurrency === undefined ? {} : { concurrency: cmd.concurrency }),
      ...(maxMetadataBytes === undefined ? {} : { maxMetadataBytes }),
    });
    const key = cmd.location.key;
    const statePath = cmd.resume ? (cmd.state ?? (await defaultStatePath(store.name, key))) : undefined;
    if (!cmd.resume) await discardSavedUpload(store, key);
    input = await openInput(cmd.input);
    const size = input.size;
    const progress = transferProgress('put', size);
    const stream = input.stream;
    const body = pullStream(stream).pipeThrough(countingWebStream(progress));
    input = undefined; // owned by the body from here
    const request = sse.sse;
    const r = await cancellable(stream, (signal) =>
      bucket
        .putObject(key, body, {
          signal,
          ...(size === undefined ? {} : { contentLength: size }),
          ...(request === undefined ? {} : { sse: request }),
          ...(statePath === undefined ? {} : { uploadState: fileUploadState(statePath), resume: true, leavePartsOnError: true }),
        })
        .finally(() => progress.end()),
    );
    const sent = r.parts > 1 || r.uploadedParts !== r.parts ? `, ${r.parts} parts (${r.uploadedParts} sent now)` : '';
    process.stdout.write(`put ${escapeControl(cmd.location.text, 300)}: ${r.size} bytes${sent}\n`);
  } finally {
    input?.stream.destroy();
    sse?.dispose();
    loader.dispose();
  }
}
