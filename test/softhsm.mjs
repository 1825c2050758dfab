// SoftHSM2 set-up shared by tests, the pretest provisioning (test/provision.mjs) and the provider
// benchmark: where SoftHSM2 is, the exact command that installs it, a private token directory and
// a non-extractable AES-256 master key created on the token.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** The exact command that installs SoftHSM2 on Debian/Ubuntu (run as root; `npm test` does it when it can). */
export const SOFTHSM_INSTALL = 'apt-get install -y softhsm2';

/** Where Debian and other systems install the SoftHSM2 module. */
export const SOFTHSM_MODULE_CANDIDATES = [
  process.env.SOFTHSM2_MODULE,
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
].filter((p) => typeof p === 'string' && p !== '');

/**
 * The SoftHSM2 module path, or '' when it is not installed (read when called: provisioning may
 * have just installed it).
 * @returns {string}
 */
export function findSoftHsmModule() {
  return SOFTHSM_MODULE_CANDIDATES.find((p) => existsSync(p)) ?? '';
}

/** Path of the SoftHSM2 module at import time, or '' when it is not installed. */
export const SOFTHSM_MODULE = findSoftHsmModule();

/**
 * Whether `softhsm2-util` is on PATH (the token set-up runs it).
 * @param {string} [path] - the PATH to search (default: this process's)
 * @returns {boolean}
 */
export function hasSoftHsmUtil(path = process.env.PATH ?? '') {
  return path.split(delimiter).some((d) => d !== '' && existsSync(join(d, 'softhsm2-util')));
}

/**
 * Why SoftHSM2 cannot be used here, with the exact command that fixes it; `undefined` when it is
 * installed (the module and `softhsm2-util` on PATH).
 * @returns {string | undefined}
 */
export function softHsmMissing() {
  const module = findSoftHsmModule();
  const util = hasSoftHsmUtil();
  if (module !== '' && util) return undefined;
  const what = [module === '' ? `no libsofthsm2.so in ${SOFTHSM_MODULE_CANDIDATES.join(', ')}` : '', util ? '' : 'no softhsm2-util on PATH']
    .filter(Boolean)
    .join('; ');
  return `SoftHSM2 is not installed (${what}): run \`${SOFTHSM_INSTALL}\` as root (\`npm test\` does it when run as root)`;
}

/**
 * Points SoftHSM2 at a fresh token directory under `dir` (sets SOFTHSM2_CONF for this process)
 * and initialises a token. Fails at once, with the install command, when SoftHSM2 is missing.
 * @param {string} dir - an empty temporary directory
 * @param {string} label - token label
 * @param {string} pin - user PIN
 */
export function createSoftHsmToken(dir, label, pin) {
  const missing = softHsmMissing();
  if (missing !== undefined) throw new Error(missing);
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '5678'], { stdio: 'pipe', timeout: 30_000 });
}

/**
 * Creates a non-extractable AES-256 key (wrap/unwrap/encrypt/decrypt) on a token.
 * @param {string} module - path of the PKCS#11 module
 * @param {string} token - token label
 * @param {string} pin - user PIN
 * @param {string} label - label of the key to create
 */
export function createTokenAesKey(module, token, pin, label) {
  // Loaded here, not at import: the pretest script imports this file before anything runs.
  const pkcs11js = createRequire(import.meta.url)('pkcs11js');
  const lib = new pkcs11js.PKCS11();
  lib.load(module);
  lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token);
  if (slot === undefined) throw new Error(`SoftHSM token "${token}" was not created`);
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
