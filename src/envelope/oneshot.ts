/**
 * `encrypt` / `decrypt`: whole objects in memory. Output is `header || C2SP payload`, written
 * into one buffer; on failure nothing is returned.
 *
 * @module
 */
import { assertBytes, whileAttached, wipe, type Bytes } from '../bytes.js';
import { getBackend } from '../backends/select.js';
import type { CryptoBackend } from '../backends/backend.js';
import { COBBLESTONE_256, PREAMBLE_LENGTH, SALT_LENGTH, deriveMessageKeys, openPreamble, openedSize, sealedSize } from '../format/cobblestone.js';
import { openMessage, openPayload, sealFirstBatch, sealPayloadInto } from '../format/message.js';
import { checkDecryptOptions, sealHeader, sealHeaderWith, unlockHeader, unlockHeaderWith, type DecryptOptions, type EncryptOptions } from './options.js';
import { checkWorkersOption } from '../pool/pool.js';
import { decryptSync, encryptSync } from './oneshot-sync.js';
import { poolOpenMessage, poolSealMessageInto } from '../pool/pool-message.js';

/**
 * Encrypts `plaintext` for the given recipients under a fresh random data key.
 *
 * @param plaintext - bytes to encrypt (not modified)
 * @param opts - `recipients` (required), `context`, `backend`, `workers` (a thread count or a `createPool()` pool)
 * @returns the enseal object: header followed by the Cobblestone-256 payload
 * @throws TypeError/RangeError for invalid options (no recipients, a context beyond the limits)
 * @example
 * ```ts
 * const key = aesKey({ id: 'k1', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const sealed = await encrypt(new TextEncoder().encode('hello'), { recipients: [key], context: { bucket: 'b' } });
 * ```
 */
export async function encrypt(plaintext: Uint8Array, opts: EncryptOptions): Promise<Bytes> {
  assertBytes(plaintext, 'plaintext');
  const backend = getBackend(opts?.backend);
  const workers = opts?.workers;
  checkWorkersOption(workers);
  const payloadLength = sealedSize(plaintext.length);
  // Synchronous: read in full before this returns. Asynchronous paths read across awaits, so a
  // caller that transfers the buffer meanwhile gets ERR_STATE, never a ciphertext of less.
  if (workers === undefined) return encryptSync(plaintext, opts, backend, payloadLength) ?? whileAttached(plaintext, 'plaintext', () => encryptHere(plaintext, opts, backend, payloadLength));
  return whileAttached(plaintext, 'plaintext', async () => {
    const { header, bound, dataKey } = await sealHeader(opts, backend);
    try {
      const out = new Uint8Array(header.length + payloadLength);
      out.set(header, 0);
      const salt = backend.randomBytes(SALT_LENGTH);
      await poolSealMessageInto(workers, backend, COBBLESTONE_256, dataKey, plaintext, bound, salt, out, header.length);
      return out;
    } finally {
      wipe(dataKey);
    }
  });
}

/**
 * Decrypts and authenticates a whole enseal object. Nothing is returned unless the header and
 * every chunk verified.
 *
 * @param ciphertext - the enseal object
 * @param opts - `keys` (required), expected `context`, `backend`, `workers`
 * @returns the plaintext
 * @throws EnsealError `ERR_HEADER`, `ERR_UNSUPPORTED`, `ERR_CONTEXT`, `ERR_NO_KEY`, `ERR_AUTH`,
 *   `ERR_TRUNCATED`
 * @example
 * ```ts
 * const plain = await decrypt(sealed, { keys: [key] });
 * ```
 */
export async function decrypt(ciphertext: Uint8Array, opts: DecryptOptions): Promise<Bytes> {
  assertBytes(ciphertext, 'ciphertext');
  const backend = checkDecryptOptions(opts);
  const workers = opts.workers;
  checkWorkersOption(workers);
  if (workers === undefined) return decryptSync(ciphertext, opts, backend) ?? whileAttached(ciphertext, 'ciphertext', () => decryptHere(ciphertext, opts, backend));
  return whileAttached(ciphertext, 'ciphertext', async () => {
    const { header, dataKey } = await unlockHeader(ciphertext, opts, backend);
    try {
      return await poolOpenMessage(workers, backend, COBBLESTONE_256, dataKey, ciphertext.subarray(header.length), header.bound);
    } finally {
      wipe(dataKey);
    }
  });
}

/**
 * `encrypt` on the calling thread, when {@link encryptSync} cannot run: the payload keys are
 * derived, and the first batch of chunks sealed, while the last recipient wraps the data key
 * and the header MAC is computed (overlapping chains of platform calls on WebCrypto).
 */
async function encryptHere(plaintext: Uint8Array, opts: EncryptOptions, backend: CryptoBackend, payloadLength: number): Promise<Bytes> {
  let salt: Bytes | undefined;
  let first: Promise<Bytes[]> | undefined;
  const { header, dataKey, derived } = await sealHeaderWith(
    opts,
    backend,
    async (key, bound) => {
      const keys = await deriveMessageKeys(backend, COBBLESTONE_256, key, (salt = backend.randomBytes(SALT_LENGTH)), bound);
      first = sealFirstBatch(keys, plaintext); // while the header is finished (WebCrypto)
      return keys;
    },
    (keys) => keys.cipher.dispose(),
  );
  try {
    let out: Bytes;
    try {
      out = new Uint8Array(header.length + payloadLength);
    } catch (e) {
      derived.cipher.dispose();
      throw e;
    }
    out.set(header, 0);
    await sealPayloadInto(derived, plaintext, salt!, out, header.length, first); // disposes the keys
    return out;
  } finally {
    wipe(dataKey);
  }
}

/**
 * `decrypt` on the calling thread: the payload keys and the commitment check run while the
 * header MAC is verified; nothing derived is used unless the MAC verified, and errors keep the
 * order of docs/FORMAT.md §2.5 (MAC, then length, then commitment).
 */
async function decryptHere(ciphertext: Uint8Array, opts: DecryptOptions, backend: CryptoBackend): Promise<Bytes> {
  const { header, dataKey, derived } = await unlockHeaderWith(
    ciphertext,
    opts,
    backend,
    (key, h) =>
      ciphertext.length >= h.length + PREAMBLE_LENGTH
        ? openPreamble(backend, COBBLESTONE_256, key, ciphertext.subarray(h.length, h.length + PREAMBLE_LENGTH), h.bound)
        : undefined,
    (cipher) => cipher.dispose(),
  );
  try {
    const payload = ciphertext.subarray(header.length);
    if (derived === undefined) return await openMessage(backend, COBBLESTONE_256, dataKey, payload, header.bound); // too short: ERR_TRUNCATED
    if ('error' in derived) {
      openedSize(payload.length); // a truncation is reported before a commitment failure, as in openMessage
      throw derived.error;
    }
    return await openPayload(derived.value, payload);
  } finally {
    wipe(dataKey);
  }
}
