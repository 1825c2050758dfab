/**
 * `rotate` / `rotateStream`: re-encryption under a fresh data key. The object is decrypted with
 * `keys` (every check of `decrypt`: expected context, header MAC, commitment, every chunk) and
 * encrypted again for `recipients` with a new random data key and a new payload salt, carrying
 * the header's encryption context over unchanged.
 *
 * Rotate or rewrap? `rewrap` (src/envelope/rewrap.ts) only rewrites the recipient stanzas: the
 * data key and the payload stay as they were (docs/FORMAT.md §4.7). That is enough to add a
 * reader, or to stop a reader who never unwrapped the data key. It is not enough after a
 * compromise: anyone who once unwrapped the data key (a removed recipient, a leaked key) can still
 * read the rewrapped object and can even forge a new payload and header MAC for it (both are keyed
 * by the data key alone). `rotate` changes the data key, so the old one opens nothing in the new
 * object (docs/SECURITY.md, "Rewrap and rotation").
 *
 * @module
 */
import { assertBytes, whileAttached, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { COBBLESTONE_256 } from '../format/cobblestone.js';
import type { Header } from '../format/header.js';
import { openMessage } from '../format/message.js';
import { checkProviders, type KeyProvider } from '../keys/provider.js';
import { pushTransform, type PushMachine } from '../streams/push-transform.js';
import { encrypt } from './oneshot.js';
import { checkDecryptOptions, unlockHeader, type DecryptOptions } from './options.js';
import { decryptMachine, encryptMachine } from './streams.js';

/** Options of {@link rotate} and {@link rotateStream}. */
export interface RotateOptions extends DecryptOptions {
  /** Who can decrypt the rotated object (each wraps the new data key). Old stanzas are not kept. */
  recipients: readonly KeyProvider[];
}

function checkRotateOptions(opts: RotateOptions): CryptoBackend {
  const backend = checkDecryptOptions(opts);
  checkProviders(opts.recipients, 'recipients');
  return backend;
}

/**
 * Re-encrypts an object under a fresh data key and fresh salt, for new recipients, keeping its
 * encryption context. Use it after a compromise, or to revoke a recipient who may have kept the
 * data key; use `rewrap` (cheaper: the payload is not touched) only to change who can unwrap a
 * data key that is still secret.
 *
 * @param ciphertext - the enseal object
 * @param opts - `keys` that open it, new `recipients`, expected `context` (checked as `decrypt`
 *   does: every given pair must be in the header), `backend`
 * @returns the new object: new header (same context, new stanzas), new payload
 * @throws TypeError for invalid options
 * @throws EnsealError as `decrypt`: `ERR_HEADER`, `ERR_UNSUPPORTED`, `ERR_CONTEXT`, `ERR_NO_KEY`,
 *   `ERR_AUTH`, `ERR_TRUNCATED`; nothing is returned unless the old object fully authenticated
 * @example
 * ```ts
 * const rotated = await rotate(object, { keys: [oldKey], recipients: [newKey], context: { bucket: 'b' } });
 * ```
 */
export async function rotate(ciphertext: Uint8Array, opts: RotateOptions): Promise<Bytes> {
  assertBytes(ciphertext, 'ciphertext');
  const backend = checkRotateOptions(opts);
  return whileAttached(ciphertext, 'ciphertext', async () => {
    const { header, dataKey } = await unlockHeader(ciphertext, opts, backend);
    let plaintext: Bytes;
    try {
      plaintext = await openMessage(backend, COBBLESTONE_256, dataKey, ciphertext.subarray(header.length), header.bound);
    } finally {
      wipe(dataKey);
    }
    try {
      return await encrypt(plaintext, { recipients: opts.recipients, context: header.context, backend });
    } finally {
      wipe(plaintext);
    }
  });
}

/**
 * A `TransformStream` that rotates an enseal object stream: a decrypt stream feeding an encrypt
 * stream whose fresh data key is made once the old header authenticated (its context is carried
 * over). Plaintext chunks exist only between the two and are wiped once re-encrypted. The output
 * is released chunk by chunk, so a source that turns out to be truncated or modified errors the
 * stream after some output: that output never ends with a final chunk, so it is itself an
 * object that fails to decrypt (`ERR_TRUNCATED`); discard it. Cancel, abort and errors dispose
 * both sides' keys.
 *
 * @param opts - as {@link rotate}
 * @returns old object in, rotated object out
 * @throws TypeError for invalid options (at call time)
 * @example
 * ```ts
 * await stored.pipeThrough(rotateStream({ keys: [oldKey], recipients: [newKey] })).pipeTo(upload);
 * ```
 */
export function rotateStream(opts: RotateOptions): TransformStream<Uint8Array, Uint8Array> {
  checkRotateOptions(opts);
  return pushTransform(rotateMachine(opts));
}

function rotateMachine(opts: RotateOptions): () => Promise<PushMachine> {
  return async () => {
    let header: Header | undefined;
    const dec = await decryptMachine(opts, (h) => {
      header = h;
    })();
    let enc: PushMachine | undefined;
    let aborted = false;
    /** Re-encrypts plaintext chunks (wiping them); the first call also emits the new header. */
    const reseal = async (plain: Uint8Array[]): Promise<Uint8Array[]> => {
      const out: Uint8Array[] = [];
      try {
        if (enc === undefined && header !== undefined) {
          const made = await encryptMachine({ recipients: opts.recipients, context: header.context, backend: opts.backend })();
          if (aborted) {
            made.abort?.();
            return [];
          }
          enc = made;
          if (made.start) out.push(...(await made.start()));
        }
        for (const p of plain) out.push(...(await enc!.push(p)));
        return out;
      } finally {
        wipe(...plain);
      }
    };
    return {
      push: async (data) => reseal(await dec.push(data)),
      finish: async () => {
        const out = await reseal(await dec.finish());
        if (enc === undefined) throw new EnsealError('ERR_STATE', 'the stream was cancelled');
        out.push(...(await enc.finish()));
        return out;
      },
      abort: () => {
        aborted = true;
        dec.abort?.();
        enc?.abort?.();
      },
    };
  };
}
