/**
 * `enseal get KEY... [--range R] [--sse SSE-C --sse-c-key-file FILE] [--context K=V]... [--force]
 * LOCATION FILE|-`: reads and decrypts a stored object (or a plaintext range of it) through
 * `encryptedBucket`. A range costs at most two ranged GETs (header and preamble, then exactly
 * the covering chunks), plus the final chunk only when the range reaches the end; a suffix
 * range (`-N`) first authenticates the size (the final chunk). Plaintext leaves only chunk by
 * chunk after each chunk authenticated; FILE is written atomically as for `decrypt`.
 *
 * @module
 */
import { Readable } from 'node:stream';
import { RangeNotSatisfiableError } from '../errors.js';
import { encryptedBucket, type EncryptedBucket } from '../storage/bucket.js';
import type { ServerSideEncryption } from '../storage/store.js';
import { openOutput, type Output } from './io.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import type { RangeArg } from './range-args.js';
import type { GetCommand } from './storage-args.js';
import { openStore } from './storage-client.js';
import { countingNodeStream, transferProgress } from './storage-progress.js';
import { resolveSse } from './storage-sse.js';
import { pipeToOutput } from './transfer.js';

/** The plaintext stream of the object (or range) and its length. */
async function openBody(bucket: EncryptedBucket, key: string, range: RangeArg | undefined, sse: ServerSideEncryption | undefined): Promise<{ body: ReadableStream<Uint8Array>; length: number }> {
  const common = sse === undefined ? {} : { sse };
  if (range === undefined) {
    const r = await bucket.getObject(key, common);
    return { body: r.body, length: r.size };
  }
  if ('suffix' in range) {
    const reader = await bucket.openObject(key, common);
    try {
      const size = await reader.verifiedSize(); // a suffix needs the authenticated size
      if (size === 0) throw new RangeNotSatisfiableError(0, 0);
      const start = Math.max(0, size - range.suffix);
      return { body: await reader.read({ start }, { autoClose: true }), length: size - start };
    } catch (e) {
      reader.close();
      throw e;
    }
  }
  const r = await bucket.getObject(key, { ...common, range });
  const served = r.range ?? { start: range.start, end: r.size - 1 };
  return { body: r.body, length: served.end - served.start + 1 };
}

/**
 * Runs `get`.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_USAGE`/`ERR_KEYFILE`/`ERR_IO`; EnsealError (`ERR_NOT_FOUND`, `ERR_RANGE`,
 *   `ERR_AUTH`, `ERR_NO_KEY`, `ERR_CONTEXT`, `ERR_STORE`, `ERR_INSECURE_TRANSPORT`, …)
 */
export async function getCommand(cmd: GetCommand, io: Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'> = {}): Promise<void> {
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: undefined, legacyRsa: cmd.legacyRsa, kmsDiscovery: cmd.kmsDiscovery, ...io });
  let sse: Awaited<ReturnType<typeof resolveSse>> | undefined;
  try {
    const { store } = await openStore(cmd.location, { allowInsecureHttp: cmd.allowInsecureHttp, ...(io.env === undefined ? {} : { env: io.env }) });
    const [keys] = await loader.load([{ sources: cmd.keys, role: 'unlock', promptLabel: 'Passphrase' }]);
    sse = await resolveSse(cmd.sse);
    const bucket = encryptedBucket(store, { keys: keys!, context: cmd.context });
    const { body, length } = await openBody(bucket, cmd.location.key, cmd.range, sse.sse);
    let output: Output;
    try {
      output = await openOutput(cmd.output, { followSymlink: cmd.force });
    } catch (e) {
      await body.cancel(e).catch(() => undefined);
      throw e;
    }
    const progress = transferProgress('get', length);
    try {
      await pipeToOutput([Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), countingNodeStream(progress)], output);
    } finally {
      progress.end();
    }
  } finally {
    sse?.dispose();
    loader.dispose();
  }
}
