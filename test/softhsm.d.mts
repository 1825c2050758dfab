/** The exact command that installs SoftHSM2 on Debian/Ubuntu (as root). */
export const SOFTHSM_INSTALL: string;
/** Where Debian and other systems install the SoftHSM2 module. */
export const SOFTHSM_MODULE_CANDIDATES: readonly string[];
/** The SoftHSM2 module path, or '' when it is not installed (read when called). */
export function findSoftHsmModule(): string;
/** Path of the SoftHSM2 module at import time, or '' when it is not installed. */
export const SOFTHSM_MODULE: string;
/** Whether `softhsm2-util` is on PATH (default: this process's). */
export function hasSoftHsmUtil(path?: string): boolean;
/** Why SoftHSM2 cannot be used here, with the exact install command; `undefined` when it is installed. */
export function softHsmMissing(): string | undefined;
/** Points SoftHSM2 at a fresh token directory under `dir` and initialises a token; fails at once when SoftHSM2 is missing. */
export function createSoftHsmToken(dir: string, label: string, pin: string): void;
/** Creates a non-extractable AES-256 key on a token. */
export function createTokenAesKey(module: string, token: string, pin: string, label: string): void;
