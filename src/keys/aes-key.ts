/**
 * Customer-managed AES-256 master key, wrapping the data key with AES-256-GCM (docs/FORMAT.md
 * §4.1, which also says why GCM rather than RFC 3394 key wrap).
 *
 * ```
 * stanza type  "aes256-gcm", key id = the key's id, no params
 * wrapped      nonce (12, random) || AES-256-GCM(cmk, nonce, data key, aad) (32 + 16 tag)
 * aad          "enseal/v1 aes256-gcm" || 0x00 || u16 len(key id) || key id || bound header part
 * ```
 *
 * @module
 */
import { assertBytes, concat, utf8, utf8Strict, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { MAX_KEY_ID_LENGTH } from '../format/limits.js';
import type { KeyProvider, Stanza, WrapContext } from './provider.js';

/** Stanza type written by {@link aesKey}. */
export const AES_GCM_STANZA = 'aes256-gcm';
const WRAPPED_LENGTH = 12 + 32 + 16;
const AAD_LABEL = utf8('enseal/v1 aes256-gcm');

/** Options of {@link aesKey}. */
export interface AesKeyOptions {
  /** Key id stored in the stanza (not secret): how decryption finds the right key. */
  id: string;
  /** The 32-byte AES-256 master key. It is copied; the provider never sends it anywhere. */
  key: Uint8Array;
}

function aadFor(id: Bytes, ctx: WrapContext): Bytes {
  return concat(AAD_LABEL, Uint8Array.of(0, id.length >>> 8, id.length & 0xff), id, ctx.aad);
}

/** The provider {@link aesKey} returns: a {@link KeyProvider} that can forget its key. */
export interface AesKeyProvider extends KeyProvider {
  /** Wipes the provider's copy of the master key; later wrap/unwrap calls throw `ERR_STATE`. */
  dispose(): void;
}

/**
 * A key provider for a customer-managed AES-256 key.
 *
 * @param opts - `{ id, key }`; the CLI's key files hold the same (key as base64)
 * @returns a provider usable in `recipients` (encrypt) and `keys` (decrypt)
 * @throws TypeError/RangeError for a missing id or a key that is not 32 bytes
 * @example
 * ```ts
 * const k = aesKey({ id: 'backup-2026', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const ct = await encrypt(data, { recipients: [k] });
 * ```
 */
export function aesKey(opts: AesKeyOptions): AesKeyProvider {
  if (typeof opts?.id !== 'string' || opts.id.length === 0) throw new TypeError('"id" expected a non-empty string');
  const idBytes = utf8Strict(opts.id, '"id"');
  if (idBytes.length > MAX_KEY_ID_LENGTH) throw new RangeError(`"id" expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${idBytes.length}`);
  assertBytes(opts.key, 'key', 32);
  const key = opts.key.slice();
  const id = opts.id;
  let disposed = false;
  const live = (): Uint8Array => {
    if (disposed) throw new EnsealError('ERR_STATE', `key "${id}" was disposed`);
    return key;
  };

  return {
    description: `${AES_GCM_STANZA}:${id}`,
    async wrap(dataKey, ctx): Promise<Stanza> {
      const aead = await ctx.backend.aesGcm(live());
      try {
        const nonce = ctx.backend.randomBytes(12);
        const sealed = await aead.seal(nonce, dataKey, aadFor(idBytes, ctx));
        return { type: AES_GCM_STANZA, keyId: id, params: {}, wrapped: concat(nonce, sealed) };
      } finally {
        aead.dispose();
      }
    },
    async unwrap(stanza, ctx): Promise<Bytes | null> {
      if (stanza.type !== AES_GCM_STANZA || stanza.keyId !== id) return null;
      if (stanza.wrapped.length !== WRAPPED_LENGTH || Object.keys(stanza.params).length !== 0) {
        throw new EnsealError('ERR_HEADER', `${AES_GCM_STANZA} stanza for key "${id}" is malformed`);
      }
      const aead = await ctx.backend.aesGcm(live());
      try {
        return await aead.open(stanza.wrapped.subarray(0, 12), stanza.wrapped.subarray(12), aadFor(idBytes, ctx));
      } catch (e) {
        if (e instanceof EnsealError && e.code === 'ERR_AUTH') {
          throw new EnsealError('ERR_AUTH', `data key wrapped for "${id}" failed authentication (wrong key material, or a modified header)`);
        }
        throw e;
      } finally {
        aead.dispose();
      }
    },
    dispose(): void {
      disposed = true;
      key.fill(0);
    },
  };
}
