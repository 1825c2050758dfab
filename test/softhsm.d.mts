/** Path of the SoftHSM2 module, or '' when it is not installed. */
export const SOFTHSM_MODULE: string;
/** Points SoftHSM2 at a fresh token directory under `dir` and initialises a token. */
export function createSoftHsmToken(dir: string, label: string, pin: string): void;
/** Creates a non-extractable AES-256 key on a token. */
export function createTokenAesKey(module: string, token: string, pin: string, label: string): void;
