/**
 * `pkcs11-aes-kwp`: the data key is imported as a session secret-key object and wrapped by the
 * token with CKM_AES_KEY_WRAP_PAD (AES key wrap with padding, RFC 5649 / NIST SP 800-38F KWP)
 * under an AES master key; unwrapping creates an extractable session object whose CKA_VALUE is
 * read and which is destroyed at once.
 *
 * ```
 * wrapped  KWP(master, data key)   = 40 bytes (32 rounded up to 8, plus the 8-byte AIV block)
 * ```
 * KWP authenticates the key but takes no associated data: the stanza is bound to its object by
 * the header MAC (docs/FORMAT.md §2.4), not by the wrap.
 *
 * @module
 */
import type { Handle } from 'pkcs11js';
import type { Bytes } from '../bytes.js';
import { DATA_KEY_LENGTH } from '../format/limits.js';
import { pkcs11Error } from './errors.js';
import { takeDataKey, toBuffer, type TokenMechanism } from './mechanism.js';
import type { TokenSession } from './session.js';

/** Stanza type of the CKM_AES_KEY_WRAP_PAD mechanism. */
export const PKCS11_AES_KWP_STANZA = 'pkcs11-aes-kwp';

/**
 * The KWP mechanism with the AES master key `master`.
 * @param what - key description for messages (`token/label`)
 * @internal (stripped from the published declarations: they must not need `pkcs11js` types)
 */
export function aesKwpMechanism(ses: TokenSession, master: Handle, what: string): TokenMechanism {
  const { api, lib } = ses.mod;
  const mechanism = { mechanism: api.CKM_AES_KEY_WRAP_PAD };
  // A non-token, extractable generic secret: what C_WrapKey needs, and readable after C_UnwrapKey.
  const sessionKey = [
    { type: api.CKA_CLASS, value: api.CKO_SECRET_KEY },
    { type: api.CKA_KEY_TYPE, value: api.CKK_GENERIC_SECRET },
    { type: api.CKA_TOKEN, value: false },
    { type: api.CKA_PRIVATE, value: true },
    { type: api.CKA_EXTRACTABLE, value: true },
  ];
  return {
    stanzaType: PKCS11_AES_KWP_STANZA,
    wrappedLength: DATA_KEY_LENGTH + 8,
    async wrap(dataKey): Promise<Bytes> {
      const value = toBuffer(dataKey);
      let obj: Handle | undefined;
      try {
        obj = lib.C_CreateObject(ses.handle, [...sessionKey, { type: api.CKA_SENSITIVE, value: true }, { type: api.CKA_VALUE, value }]);
        const out = await lib.C_WrapKeyAsync(ses.handle, mechanism, master, obj, Buffer.alloc(DATA_KEY_LENGTH + 16));
        return new Uint8Array(out) as Bytes;
      } catch (e) {
        throw pkcs11Error(e, `C_WrapKey (CKM_AES_KEY_WRAP_PAD) with "${what}"`);
      } finally {
        value.fill(0);
        if (obj !== undefined) destroy(obj);
      }
    },
    async unwrap(wrapped): Promise<Bytes> {
      let obj: Handle | undefined;
      try {
        obj = await lib.C_UnwrapKeyAsync(ses.handle, mechanism, master, toBuffer(wrapped), [...sessionKey, { type: api.CKA_SENSITIVE, value: false }]);
        const [attr] = lib.C_GetAttributeValue(ses.handle, obj, [{ type: api.CKA_VALUE }]);
        return takeDataKey(attr?.value ?? Buffer.alloc(0), `C_UnwrapKey with "${what}"`);
      } catch (e) {
        throw pkcs11Error(e, `C_UnwrapKey (CKM_AES_KEY_WRAP_PAD) with "${what}"`, true);
      } finally {
        if (obj !== undefined) destroy(obj);
      }
    },
  };

  function destroy(obj: Handle): void {
    try {
      lib.C_DestroyObject(ses.handle, obj);
    } catch {
      // A session object also disappears when the session closes.
    }
  }
}
