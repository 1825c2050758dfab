// Creates a non-extractable AES-256 key on a SoftHSM2 token for bench/providers.mjs.
import pkcs11js from 'pkcs11js';

/**
 * @param {string} module - path of the PKCS#11 module
 * @param {string} token - token label
 * @param {string} pin - user PIN
 * @param {string} label - label of the key to create
 */
export async function createTokenAesKey(module, token, pin, label) {
  const lib = new pkcs11js.PKCS11();
  lib.load(module);
  lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token);
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  lib.C_Login(session, pkcs11js.CKU_USER, pin);
  lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
  ]);
  lib.C_Logout(session);
  lib.C_CloseSession(session);
}
