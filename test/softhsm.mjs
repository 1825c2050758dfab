// SoftHSM2 set-up shared by tests and the provider benchmark: a private token directory and a
// non-extractable AES-256 master key created on the token.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';

/** Where Debian and other systems install the SoftHSM2 module. */
export const SOFTHSM_MODULE =
  [
    process.env.SOFTHSM2_MODULE,
    '/usr/lib/softhsm/libsofthsm2.so',
    '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
    '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  ].find((p) => typeof p === 'string' && existsSync(p)) ?? '';

/**
 * Points SoftHSM2 at a fresh token directory under `dir` (sets SOFTHSM2_CONF for this process)
 * and initialises a token.
 * @param {string} dir - an empty temporary directory
 * @param {string} label - token label
 * @param {string} pin - user PIN
 */
export function createSoftHsmToken(dir, label, pin) {
  if (SOFTHSM_MODULE === '') throw new Error('SoftHSM2 is not installed: apt-get install -y softhsm2 (CI installs it)');
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '5678'], { stdio: 'pipe' });
}

/**
 * Creates a non-extractable AES-256 key (wrap/unwrap/encrypt/decrypt) on a token.
 * @param {string} module - path of the PKCS#11 module
 * @param {string} token - token label
 * @param {string} pin - user PIN
 * @param {string} label - label of the key to create
 */
export function createTokenAesKey(module, token, pin, label) {
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
