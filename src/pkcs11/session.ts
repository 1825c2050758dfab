/**
 * One PKCS#11 session on the token with a given label, logged in as the user, with every call
 * serialized: a session runs one cryptographic operation at a time (PKCS#11 v2.40 §5.2: an
 * `*Init` starts the operation the next call finishes), so operations are queued.
 *
 * @module
 */
import type { Handle } from 'pkcs11js';
import { EnsealError } from '../errors.js';
import { ckrName, pkcs11Error } from './errors.js';
import type { LoadedModule } from './module.js';

/** The largest number of objects a key search collects (two means "ambiguous"). */
const MAX_MATCHES = 2;

/** A logged-in session whose calls run one at a time. */
export class TokenSession {
  /** The module the session belongs to. */
  readonly mod: LoadedModule;
  /** The session handle. */
  readonly handle: Handle;
  /** The token's label (for messages). */
  readonly tokenLabel: string;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Use {@link openTokenSession}. */
  constructor(mod: LoadedModule, handle: Handle, tokenLabel: string) {
    this.mod = mod;
    this.handle = handle;
    this.tokenLabel = tokenLabel;
  }

  /**
   * Runs `fn` after every operation queued before it has settled.
   * @throws EnsealError `ERR_STATE` once the session is closed
   */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(() => {
      if (this.#closed) throw new EnsealError('ERR_STATE', `PKCS#11 session on token "${this.tokenLabel}" is closed`);
      return fn();
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Finds the one object of class `cls` and key type `keyType` labelled `label`.
   * @returns its handle, or `null` when there is none
   * @throws EnsealError `ERR_KMS_DENIED` when several objects match (ambiguous label)
   */
  findKey(cls: number, keyType: number, label: string): Handle | null {
    const { api, lib } = this.mod;
    const template = [
      { type: api.CKA_CLASS, value: cls },
      { type: api.CKA_KEY_TYPE, value: keyType },
      { type: api.CKA_LABEL, value: label },
    ];
    let found: Handle[];
    try {
      lib.C_FindObjectsInit(this.handle, template);
      try {
        found = lib.C_FindObjects(this.handle, MAX_MATCHES);
      } finally {
        lib.C_FindObjectsFinal(this.handle);
      }
    } catch (e) {
      throw pkcs11Error(e, `search for key "${label}" on token "${this.tokenLabel}"`);
    }
    if (found.length > 1) throw new EnsealError('ERR_KMS_DENIED', `more than one key labelled "${label}" on token "${this.tokenLabel}"`);
    return found[0] ?? null;
  }

  /** Waits for queued operations, then closes the session (idempotent). */
  async close(): Promise<void> {
    await this.run(() => undefined).catch(() => undefined);
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.mod.lib.C_CloseSession(this.handle);
    } catch {
      // The token may already be gone; nothing to do.
    }
  }
}

/**
 * Opens a read-only session (enough for session objects and for using keys) on the token
 * labelled `tokenLabel`, and logs the user in.
 *
 * PKCS#11 login state belongs to the application (v2.40 §5.5 `C_Login`): if another session of
 * this process is already logged in, `CKR_USER_ALREADY_LOGGED_IN` is success and the PIN is not
 * checked again.
 * @throws EnsealError `ERR_KMS_UNAVAILABLE` when no token has that label, `ERR_KMS_DENIED` for an
 *   ambiguous label or a refused login (wrong or locked PIN)
 */
export function openTokenSession(mod: LoadedModule, tokenLabel: string, pin: string): TokenSession {
  const { api, lib } = mod;
  let slots: Handle[];
  try {
    // Token labels are 32 bytes padded with blanks (v2.40 §3.2 CK_TOKEN_INFO).
    slots = lib.C_GetSlotList(true).filter((slot) => lib.C_GetTokenInfo(slot).label.replace(/[ \0]+$/, '') === tokenLabel);
  } catch (e) {
    throw pkcs11Error(e, `listing the tokens of "${mod.path}"`);
  }
  if (slots.length === 0) throw new EnsealError('ERR_KMS_UNAVAILABLE', `no token labelled "${tokenLabel}" in PKCS#11 module "${mod.path}"`);
  if (slots.length > 1) throw new EnsealError('ERR_KMS_DENIED', `more than one token labelled "${tokenLabel}" in PKCS#11 module "${mod.path}"`);
  let handle: Handle;
  try {
    handle = lib.C_OpenSession(slots[0] as Handle, api.CKF_SERIAL_SESSION);
  } catch (e) {
    throw pkcs11Error(e, `opening a session on token "${tokenLabel}"`);
  }
  try {
    lib.C_Login(handle, api.CKU_USER, pin);
  } catch (e) {
    if (ckrName(e) !== 'CKR_USER_ALREADY_LOGGED_IN') {
      try {
        lib.C_CloseSession(handle);
      } catch {
        // keep the login error
      }
      throw pkcs11Error(e, `login to token "${tokenLabel}"`);
    }
  }
  return new TokenSession(mod, handle, tokenLabel);
}
