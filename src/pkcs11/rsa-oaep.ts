/**
 * `pkcs11-rsa-oaep-sha1`: the token encrypts the data key with CKM_RSA_PKCS_OAEP (RSAES-OAEP,
 * RFC 8017 §7.1) under the RSA public key and decrypts it with the private key, both labelled
 * with the key label.
 *
 * ```
 * wrapped  RSAES-OAEP-ENCRYPT(public key, data key), hash SHA-1, MGF1-SHA-1, empty label
 *          = modulus length (256 bytes for RSA-2048)
 * ```
 * SHA-1 because SoftHSM 2.6 implements OAEP with SHA-1/MGF1-SHA-1 only and no label (anything
 * else is CKR_ARGUMENTS_BAD). SHA-1's collision weakness does not affect OAEP (RFC 8017 §7.1
 * and Appendix B.1 only need a one-way hash), but the parameter set is in the stanza type, so a
 * SHA-256 variant can be added for tokens that support it. With no label, the wrap is bound to
 * its object by the header MAC (docs/FORMAT.md §2.4), not by OAEP.
 *
 * @module
 */
import type { Handle } from 'pkcs11js';
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { pkcs11Error } from './errors.js';
import { takeDataKey, toBuffer, type TokenMechanism } from './mechanism.js';
import type { TokenSession } from './session.js';

/** Stanza type of the CKM_RSA_PKCS_OAEP (SHA-1) mechanism. */
export const PKCS11_RSA_OAEP_SHA1_STANZA = 'pkcs11-rsa-oaep-sha1';

/**
 * The RSA-OAEP mechanism with the key pair's handles (either may be absent: a host that only
 * encrypts needs only the public key).
 * @param modulusLength - the key's modulus length in bytes
 * @param what - key description for messages (`token/label`)
 * @internal (stripped from the published declarations: they must not need `pkcs11js` types)
 */
export function rsaOaepMechanism(
  ses: TokenSession,
  keys: { publicKey: Handle | null; privateKey: Handle | null },
  modulusLength: number,
  what: string,
): TokenMechanism {
  const { api, lib } = ses.mod;
  // RFC 8017 §A.2.1 RSAES-OAEP-params: hashAlgorithm SHA-1, maskGenAlgorithm MGF1(SHA-1), pSourceAlgorithm empty
  const mechanism = {
    mechanism: api.CKM_RSA_PKCS_OAEP,
    parameter: { type: api.CK_PARAMS_RSA_OAEP, hashAlg: api.CKM_SHA_1, mgf: api.CKG_MGF1_SHA1, source: 1 /* CKZ_DATA_SPECIFIED */ },
  };
  const missing = (which: string) => new EnsealError('ERR_KMS_DENIED', `no RSA ${which} key "${what}" on the token`);
  return {
    stanzaType: PKCS11_RSA_OAEP_SHA1_STANZA,
    wrappedLength: modulusLength,
    async wrap(dataKey): Promise<Bytes> {
      if (keys.publicKey === null) throw missing('public');
      const value = toBuffer(dataKey);
      try {
        lib.C_EncryptInit(ses.handle, mechanism, keys.publicKey);
        return new Uint8Array(await lib.C_EncryptAsync(ses.handle, value, Buffer.alloc(modulusLength))) as Bytes;
      } catch (e) {
        throw pkcs11Error(e, `C_Encrypt (CKM_RSA_PKCS_OAEP) with "${what}"`);
      } finally {
        value.fill(0);
      }
    },
    async unwrap(wrapped): Promise<Bytes> {
      if (keys.privateKey === null) throw missing('private');
      try {
        lib.C_DecryptInit(ses.handle, mechanism, keys.privateKey);
        const out = await lib.C_DecryptAsync(ses.handle, toBuffer(wrapped), Buffer.alloc(modulusLength));
        return takeDataKey(out, `C_Decrypt with "${what}"`);
      } catch (e) {
        throw pkcs11Error(e, `C_Decrypt (CKM_RSA_PKCS_OAEP) with "${what}"`, true);
      }
    },
  };
}
