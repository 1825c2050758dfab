/**
 * `enseal decrypt KEY… [--legacy] [--kms-discovery] [--kms-store P] [--context K=V]…
 * [--range R] [--force] IN OUT`: streaming decryption, or an authenticated ranged read of a
 * file, with any of the keys (key files, KMS keys, RSA private keys, passphrases).
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { openReader, type ByteRange, type EnvelopeReader } from '../envelope/range.js';
import type { DecryptOptions } from '../envelope/options.js';
import { createDecryptStream, fileSource } from '../node.js';
import type { DecryptCommand } from './args.js';
import { usageError } from './cli-error.js';
import { openOutput, type OutputOptions } from './io.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import { resolveRange, type RangeArg } from './range-args.js';
import { pipeToOutput, transfer } from './transfer.js';

/** Plaintext bytes per ranged read: a multiple of the 16 KiB chunk, so no chunk is read twice. */
export const RANGE_WINDOW = 1024 * 1024;

/**
 * Yields the plaintext of `range` in windows of at most {@link RANGE_WINDOW} bytes, aligned to
 * window boundaries, so memory stays bounded for any range length.
 * @param reader - an opened reader
 * @param range - inclusive range; `end` omitted or past the end means "to the end"
 * @throws RangeNotSatisfiableError (`ERR_RANGE`) when `start` is at or past the end
 */
export async function* rangeWindows(reader: EnvelopeReader, range: ByteRange): AsyncGenerator<Uint8Array> {
  const last = range.end ?? Number.MAX_SAFE_INTEGER;
  let pos = range.start;
  do {
    const windowEnd = Math.min(last, (Math.floor(pos / RANGE_WINDOW) + 1) * RANGE_WINDOW - 1);
    const bytes = await reader.read({ start: pos, end: windowEnd });
    yield bytes;
    pos += bytes.length;
  } while (pos <= last && pos < reader.size); // after the first read, size is authenticated
}

/** Writes plaintext bytes `range` of the file `inPath` to `outPath`. */
async function decryptRangeToOutput(inPath: string, range: RangeArg, outPath: string, opts: DecryptOptions, out: OutputOptions): Promise<void> {
  if (!(await stat(inPath)).isFile()) throw usageError('--range needs IN to be a regular file');
  const source = await fileSource(inPath);
  try {
    const reader = await openReader(source, opts);
    try {
      const bytes = await resolveRange(range, () => reader.verifiedSize()); // a suffix needs the authenticated size
      await pipeToOutput([Readable.from(rangeWindows(reader, bytes))], await openOutput(outPath, out));
    } finally {
      reader.close();
    }
  } finally {
    await source.close();
  }
}

/**
 * Runs `decrypt`.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_KEYFILE`/`ERR_USAGE`/`ERR_CANCELLED`/`ERR_IO`; EnsealError (including
 *   KMS errors); system errors for I/O
 */
export async function decryptCommand(cmd: DecryptCommand, io: Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'> = {}): Promise<void> {
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: undefined, legacyRsa: cmd.legacyRsa, kmsDiscovery: cmd.kmsDiscovery, ...io });
  try {
    const [keys] = await loader.load([{ sources: cmd.keys, role: 'unlock', promptLabel: 'Passphrase' }]);
    const opts: DecryptOptions = { keys: keys!, context: cmd.context };
    const out: OutputOptions = { followSymlink: cmd.force };
    if (cmd.range === undefined) {
      await transfer(cmd.input, cmd.output, () => createDecryptStream(opts), out);
    } else {
      await decryptRangeToOutput(cmd.input, cmd.range, cmd.output, opts, out);
    }
  } finally {
    loader.dispose();
  }
}
