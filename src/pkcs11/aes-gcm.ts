/**
 * `pkcs11-aes-gcm`: the token encrypts the data key with CKM_AES_GCM under an AES master key,
 * with a random 96-bit IV, a 128-bit tag and the stanza binding as associated data.
 *
 * ```
 * wrapped  iv (12, random) || AES-256-GCM(master, iv, data key, aad) (32) || tag (16)   = 60 bytes
 * aad      "enseal/v1 pkcs11-aes-gcm" || 0x00 || u16 len(key id) || key id || bound header part
 * ```
 * The IV comes from the host CSPRNG (NIST SP 800-38D §8.2.2, random construction); parameters
 * are passed as the v2.40 `CK_GCM_PARAMS` (with `ulIvBits`), which SoftHSM 2.6 expects.
 *
 * @module
 */
import type { Handle } from 'pkcs11js';
import { concat, type Bytes } from '../bytes.js';
import { DATA_KEY_LENGTH } from '../format/limits.js';
import { pkcs11Error } from './errors.js';
import { takeDataKey, toBuffer, type TokenMechanism } from './mechanism.js';
import type { TokenSession } from './session.js';

/** Stanza type of the CKM_AES_GCM mechanism. */
export const PKCS11_AES_GCM_STANZA = 'pkcs11-aes-gcm';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

/**
 * The AES-GCM mechanism with the AES master key `master`.
 * @param what - key description for messages (`token/label`)
 * @internal (stripped from the published declarations: they must not need `pkcs11js` types)
 */
export function aesGcmMechanism(ses: TokenSession, master: Handle, what: string): TokenMechanism {
  const { api, lib } = ses.mod;
  const mechanism = (iv: Uint8Array, aad: Uint8Array) => ({
    mechanism: api.CKM_AES_GCM,
    parameter: { type: api.CK_PARAMS_AES_GCM_v240, iv: toBuffer(iv), ivBits: IV_LENGTH * 8, aad: toBuffer(aad), tagBits: TAG_LENGTH * 8 },
  });
  return {
    stanzaType: PKCS11_AES_GCM_STANZA,
    wrappedLength: IV_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH,
    async wrap(dataKey, aad, random): Promise<Bytes> {
      const iv = random(IV_LENGTH);
      const value = toBuffer(dataKey);
      try {
        lib.C_EncryptInit(ses.handle, mechanism(iv, aad), master);
        const sealed = await lib.C_EncryptAsync(ses.handle, value, Buffer.alloc(DATA_KEY_LENGTH + TAG_LENGTH + 16));
        return concat(iv, sealed);
      } catch (e) {
        throw pkcs11Error(e, `C_Encrypt (CKM_AES_GCM) with "${what}"`);
      } finally {
        value.fill(0);
      }
    },
    async unwrap(wrapped, aad): Promise<Bytes> {
      try {
        lib.C_DecryptInit(ses.handle, mechanism(wrapped.subarray(0, IV_LENGTH), aad), master);
        const out = await lib.C_DecryptAsync(ses.handle, toBuffer(wrapped.subarray(IV_LENGTH)), Buffer.alloc(DATA_KEY_LENGTH + TAG_LENGTH));
        return takeDataKey(out, `C_Decrypt with "${what}"`);
      } catch (e) {
        throw pkcs11Error(e, `C_Decrypt (CKM_AES_GCM) with "${what}"`, true);
      }
    },
  };
}
