/**
 * `encrypt` / `decrypt` of a whole object without a promise, when every primitive of the call is
 * synchronous: a backend with a synchronous HMAC and AES-GCM key factory (node:crypto:
 * `SYNC_HMAC`, `SYNC_AES_GCM`, src/backends/sync.ts) and providers with a synchronous wrap or
 * unwrap (`aesKey` with GCM stanzas: `SYNC_WRAP`, `SYNC_UNWRAP`, src/keys/provider.ts). Same
 * bytes, random draws (data key, each recipient's, salt), checks and errors, in the same order,
 * as the asynchronous path in oneshot.ts; any other call returns `undefined` having done
 * nothing, and runs there.
 *
 * Per message, the data key keys one HMAC-SHA-512 (its padded key blocks computed once) from
 * which both the header MAC key (FORMAT.md §2.4) and the payload keys (C2SP §"Key derivation")
 * are expanded: the two uses share the PRK and differ only in their info strings.
 *
 * @module
 */
import { wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { syncAesGcmOf, syncHmacOf, type KeyedHmac } from '../backends/sync.js';
import { EnsealError } from '../errors.js';
import { COBBLESTONE_256, PREAMBLE_LENGTH, SALT_LENGTH, deriveMessageKeysSync, openPreambleSync, openedSize, type MessageKeys } from '../format/cobblestone.js';
import { headerMacSync, verifyHeaderMacSync } from '../format/header-mac.js';
import { decodeHeader, encodeBound, encodeHeaderBodyViewOfBound } from '../format/header.js';
import { HEADER_MAC_LENGTH } from '../format/limits.js';
import { openPayloadSync, sealPayloadInto } from '../format/message.js';
import { NEEDS_ASYNC, checkProviders, unwrapDataKeySync, wrapDataKeySync, type WrapContext } from '../keys/provider.js';
import type { DecryptOptions, EncryptOptions } from './options.js';

/**
 * `encrypt` on the calling thread with no promise, when the backend and every recipient allow.
 * @param plaintext - checked bytes
 * @param opts - encrypt options (validated here as `sealHeader` does)
 * @param backend - the call's backend
 * @param payloadLength - `sealedSize(plaintext.length)`
 * @returns the enseal object, or `undefined` (nothing drawn, nothing wrapped) when some part of
 *   the call is asynchronous
 * @throws as `encrypt`
 * @example
 * ```ts
 * const sealed = encryptSync(pt, opts, backend, sealedSize(pt.length)) ?? (await encryptHere(pt, opts, backend));
 * ```
 */
export function encryptSync(plaintext: Uint8Array, opts: EncryptOptions, backend: CryptoBackend, payloadLength: number): Bytes | undefined {
  const hmac = syncHmacOf(backend);
  const makeGcm = syncAesGcmOf(backend);
  if (hmac === undefined || makeGcm === undefined) return undefined;
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with recipients');
  checkProviders(opts.recipients, 'recipients');
  const context = opts.context ?? {};
  const bound = encodeBound(context); // validates the context before any provider is called
  const ctx: WrapContext = { aad: bound, encryptionContext: context, backend };
  const wrapped = wrapDataKeySync(opts.recipients, ctx);
  if (wrapped === undefined) return undefined;
  const { dataKey, stanzas } = wrapped;
  let keyed: KeyedHmac | undefined;
  let keys: MessageKeys | undefined;
  try {
    const salt = backend.randomBytes(SALT_LENGTH); // after the recipients' draws, as in oneshot.ts
    const view = encodeHeaderBodyViewOfBound(bound, stanzas); // the context as encoded once above; copied into `out` at once
    const out = new Uint8Array(view.length + HEADER_MAC_LENGTH + payloadLength);
    out.set(view, 0);
    const body = out.subarray(0, view.length);
    keyed = hmac('SHA-512', dataKey);
    out.set(headerMacSync(hmac, keyed, body), body.length);
    keys = deriveMessageKeysSync(COBBLESTONE_256, keyed, makeGcm, salt, bound);
    void sealPayloadInto(keys, plaintext, salt, out, body.length + HEADER_MAC_LENGTH); // synchronous: a SyncGcm key; disposes the keys
    return out;
  } finally {
    keyed?.dispose();
    keys?.cipher.dispose(); // idempotent: already disposed unless an error came first
    wipe(dataKey);
  }
}

/**
 * `decrypt` on the calling thread with no promise, when the backend and every key allow. The
 * order of checks and errors is that of oneshot.ts (docs/FORMAT.md §2.5): header, context,
 * unwrap, header MAC, payload length, commitment, then each chunk.
 * @param ciphertext - checked bytes
 * @param opts - checked decrypt options
 * @param backend - the call's backend
 * @returns the plaintext, or `undefined` (no data key kept) when some part of the call is
 *   asynchronous (a key-wrap stanza, a provider without a synchronous unwrap)
 * @throws as `decrypt`
 * @example
 * ```ts
 * const plain = decryptSync(ct, opts, backend) ?? (await decryptHere(ct, opts, backend));
 * ```
 */
export function decryptSync(ciphertext: Uint8Array, opts: DecryptOptions, backend: CryptoBackend): Bytes | undefined {
  const hmac = syncHmacOf(backend);
  const makeGcm = syncAesGcmOf(backend);
  if (hmac === undefined || makeGcm === undefined) return undefined;
  // Borrowed mac input (no copy): the mac is verified below, within this synchronous call, and
  // the header does not outlive it.
  const header = decodeHeader(ciphertext, true);
  if (opts.context !== undefined) {
    for (const [k, v] of Object.entries(opts.context)) {
      if (!Object.hasOwn(header.context, k) || header.context[k] !== v) {
        throw new EnsealError('ERR_CONTEXT', `encryption context does not match the expected value of "${k}"`);
      }
    }
  }
  const ctx: WrapContext = { aad: header.bound, encryptionContext: header.context, backend };
  const dataKey = unwrapDataKeySync(header.recipients, opts.keys, ctx);
  if (dataKey === NEEDS_ASYNC) return undefined;
  let keyed: KeyedHmac | undefined;
  try {
    keyed = hmac('SHA-512', dataKey);
    verifyHeaderMacSync(hmac, keyed, header);
    const payload = ciphertext.subarray(header.length);
    openedSize(payload.length); // a truncation is reported before a commitment failure
    const cipher = openPreambleSync(COBBLESTONE_256, keyed, makeGcm, payload.subarray(0, PREAMBLE_LENGTH), header.bound);
    keyed.dispose();
    return openPayloadSync(cipher, payload); // disposes the cipher
  } finally {
    keyed?.dispose();
    wipe(dataKey);
  }
}
