/**
 * enseal/pkcs11: master keys in an HSM or smart card, through its PKCS#11 module.
 *
 * Needs the optional peer dependency `pkcs11js` (a native addon, Node only): `npm install
 * pkcs11js`. It is loaded when {@link pkcs11Key} is first called; without it that call rejects
 * with `ERR_UNSUPPORTED`. The root `enseal` entry never loads this subpath.
 *
 * @example
 * ```ts
 * import { encrypt, decrypt } from 'enseal';
 * import { pkcs11Key } from 'enseal/pkcs11';
 * const hsm = await pkcs11Key({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'prod',
 *   pin: process.env.HSM_PIN!, keyLabel: 'backup-kek', mechanism: 'aes-gcm' });
 * const sealed = await encrypt(data, { recipients: [hsm] });
 * const plain = await decrypt(sealed, { keys: [hsm] });
 * await hsm.close();
 * ```
 *
 * @module
 */
export { pkcs11Key, type Pkcs11KeyOptions, type Pkcs11KeyProvider, type Pkcs11Mechanism } from './pkcs11/key.js';
export { PKCS11_AES_KWP_STANZA } from './pkcs11/aes-kwp.js';
export { PKCS11_AES_GCM_STANZA } from './pkcs11/aes-gcm.js';
export { PKCS11_RSA_OAEP_SHA1_STANZA } from './pkcs11/rsa-oaep.js';
