/**
 * Opening a stored enseal object for the bucket: choosing which header to trust (the body's, or
 * a rewrapped one carried in metadata), unwrapping the data key and checking the payload's key
 * commitment, all before any chunk is decrypted (docs/FORMAT.md §"Object storage").
 *
 * Which header is used:
 * 1. A metadata header (`enseal-header`) is a *candidate* only if it decodes and its bound part
 *    (magic, version, suite, encryption context) equals the body header's byte for byte;
 *    otherwise it is ignored.
 * 2. A candidate is unlocked with the reader's keys. If none of them is one of its recipients,
 *    the read is refused (`ERR_NO_KEY`): the object was rewrapped and these keys were removed.
 *    If its MAC fails, or the payload's key commitment fails under the key it unwrapped to, it
 *    is forged and ignored.
 * 3. Otherwise the body header is unlocked as `decrypt` does.
 *
 * A header is therefore used only after its MAC verified under a data key that also opens the
 * payload's commitment: nothing unauthenticated chooses a key or a recipient.
 *
 * @module
 */
import { constantTimeEqual, escapeControl, wipe } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError, isEnsealError } from '../errors.js';
import { COBBLESTONE_256, openPreamble, type ChunkCipher } from '../format/cobblestone.js';
import { decodeHeader, type Header } from '../format/header.js';
import { unlockHeader, type DecryptOptions } from '../envelope/options.js';

/** The encryption-context entry binding an object to its key in the store. */
export const OBJECT_KEY_CONTEXT = 'enseal:object-key';

/** An object opened for reading: the trusted header and the payload's keyed cipher. */
export interface OpenedObject {
  /** The header whose MAC verified (the metadata one after a server-side rewrap). */
  readonly header: Header;
  /** Length of the header at the start of the body (the payload starts there). */
  readonly bodyHeaderLength: number;
  /** Where the trusted header came from. */
  readonly headerSource: 'body' | 'metadata';
  /** Keyed chunk cipher (commitment verified); the caller disposes it. */
  readonly cipher: ChunkCipher;
}

async function openWith(
  headerBytes: Uint8Array,
  preamble: Uint8Array,
  opts: DecryptOptions,
  backend: CryptoBackend,
): Promise<{ header: Header; cipher: ChunkCipher }> {
  const { header, dataKey } = await unlockHeader(headerBytes, opts, backend);
  try {
    const cipher = await openPreamble(backend, COBBLESTONE_256, dataKey, preamble, header.bound);
    return { header, cipher };
  } finally {
    wipe(dataKey);
  }
}

/**
 * Chooses the header, unwraps the data key and checks the commitment.
 *
 * @param bodyHeader - the body's header bytes (exactly its length)
 * @param preamble - the 56 payload bytes after it
 * @param metadataHeader - the rewrapped header from metadata, if any (untrusted)
 * @param objectKey - the key the object was read under (checked against the context binding)
 * @param opts - keys, expected context
 * @param backend - crypto backend
 * @returns the opened object
 * @throws EnsealError `ERR_HEADER`, `ERR_CONTEXT` (including an object bound to another key),
 *   `ERR_NO_KEY`, `ERR_AUTH`
 * @example
 * ```ts
 * const { cipher, header } = await openObject(head.subarray(0, h), head.subarray(h, h + 56), undefined, 'a.txt', { keys }, backend);
 * ```
 */
export async function openObject(
  bodyHeader: Uint8Array,
  preamble: Uint8Array,
  metadataHeader: Uint8Array | undefined,
  objectKey: string,
  opts: DecryptOptions,
  backend: CryptoBackend,
): Promise<OpenedObject> {
  const body = decodeHeader(bodyHeader);
  checkObjectKey(body, objectKey);
  if (metadataHeader !== undefined) {
    let candidate: Header | undefined;
    try {
      candidate = decodeHeader(metadataHeader);
    } catch (e) {
      if (!(e instanceof EnsealError)) throw e;
    }
    if (candidate !== undefined && candidate.length === metadataHeader.length && constantTimeEqual(candidate.bound, body.bound)) {
      try {
        const { header, cipher } = await openWith(metadataHeader, preamble, opts, backend);
        return { header, cipher, bodyHeaderLength: body.length, headerSource: 'metadata' };
      } catch (e) {
        if (isEnsealError(e, 'ERR_NO_KEY')) {
          throw new EnsealError('ERR_NO_KEY', 'the object was rewrapped and none of the keys is one of its current recipients', {
            errors: e.errors,
          });
        }
        // A MAC or commitment failure: a forged metadata header; ignore it, use the body's.
        if (!isEnsealError(e, 'ERR_AUTH')) throw e;
      }
    }
  }
  const { header, cipher } = await openWith(bodyHeader, preamble, opts, backend);
  return { header, cipher, bodyHeaderLength: body.length, headerSource: 'body' };
}

/**
 * Refuses an object whose context binds it to another key (a store serving the wrong object).
 * @throws EnsealError `ERR_CONTEXT`
 * @example
 * ```ts
 * checkObjectKey(decodeHeader(bytes), 'photos/cat.jpg'); // throws ERR_CONTEXT if bound to another key
 * ```
 */
export function checkObjectKey(header: Header, objectKey: string): void {
  const bound = Object.hasOwn(header.context, OBJECT_KEY_CONTEXT) ? header.context[OBJECT_KEY_CONTEXT] : undefined;
  if (bound !== undefined && bound !== objectKey) {
    throw new EnsealError(
      'ERR_CONTEXT',
      `object is bound to the key "${escapeControl(bound, 120)}", not the key it was read under (a store serving another object?)`,
    );
  }
}
