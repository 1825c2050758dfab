/**
 * RSA key files for `--rsa-public` and `--rsa-private`: PEM (SPKI, PKCS#8 or PKCS#1), DER (SPKI
 * or PKCS#8) or an RSA JWK (JSON). The key is imported at once, so a bad file is reported as
 * `ERR_KEYFILE` before any output exists; messages name the file, never its content.
 *
 * @module
 */
import { fromUtf8, wipe, copyBytes } from '../bytes.js';
import type { RsaKeyInput } from '../backends/backend.js';
import { rsaKey, type RsaKeyProvider } from '../keys/rsa.js';
import { CliError } from './cli-error.js';
import { keyFileModeWarning, warnOnStderr, type Warn } from './key-permissions.js';
import { MAX_KEY_FILE_SIZE, readLimited } from './keyfile.js';
import { quoted } from './terminal-text.js';

/** Which half of the pair a file must hold. */
export type RsaPart = 'public' | 'private';

/** The key in the form `rsaKey` takes: PEM text, a JWK object, or a copy of DER bytes. */
function keyInput(bytes: Uint8Array): RsaKeyInput {
  let text: string | undefined;
  try {
    text = fromUtf8(bytes);
  } catch {
    text = undefined; // binary: DER
  }
  if (text?.includes('-----BEGIN ')) return text;
  if (text?.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as JsonWebKey;
    } catch {
      throw new Error('not JSON'); // replaced by the caller's message
    }
  }
  return copyBytes(bytes);
}

/** Options of {@link loadRsaKeyFile}. */
export interface RsaFileOptions {
  /** `--legacy`: a private key also reads the legacy `rsa-oaep-sha1` and `rsa-pkcs1` stanzas. */
  readonly legacy?: boolean;
  /** Where the permission warning of a private key file goes (default stderr). */
  readonly warn?: Warn;
}

/**
 * Loads an RSA key file as an `rsaKey` provider (with the default `sha256:…` key id). A private
 * key file that group or others can access gets a warning (see `./key-permissions.ts`).
 * @param path - key file path
 * @param part - `public` (a recipient; a private key file also works) or `private` (a key)
 * @param opts - `legacy` (`--legacy`, private keys only), `warn`
 * @returns the provider, its key already imported; `dispose()` it when done
 * @throws CliError `ERR_KEYFILE` when the file cannot be read or holds no usable RSA key
 * @example
 * ```ts
 * const alice = await loadRsaKeyFile('alice.pub', 'public');
 * const bob = await loadRsaKeyFile('bob.pem', 'private', { legacy: true });
 * ```
 */
export async function loadRsaKeyFile(path: string, part: RsaPart, opts: RsaFileOptions = {}): Promise<RsaKeyProvider> {
  const fail = (why: string): CliError => new CliError('ERR_KEYFILE', `RSA key file ${quoted(path)}: ${why}`);
  let bytes: Uint8Array;
  let mode = 0;
  try {
    bytes = await readLimited(path, MAX_KEY_FILE_SIZE, (m) => (mode = m));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw fail(`cannot be read (${typeof code === 'string' ? code : 'error'})`);
  }
  let input: RsaKeyInput;
  try {
    if (bytes.length > MAX_KEY_FILE_SIZE) throw fail(`larger than ${MAX_KEY_FILE_SIZE} bytes`);
    input = keyInput(bytes);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw fail(`not a usable RSA ${part} key (expected PEM, DER or a JWK)`);
  } finally {
    wipe(bytes);
  }
  let provider: RsaKeyProvider | undefined;
  try {
    provider = rsaKey(part === 'public' ? { publicKey: input } : { privateKey: input, legacy: opts.legacy === true });
    await provider.keyId(); // imports the key now
  } catch {
    provider?.dispose();
    // The cause may quote parser internals; the file's content is never shown.
    throw fail(`not a usable RSA ${part} key (expected PEM, DER or a JWK)`);
  } finally {
    if (input instanceof Uint8Array) wipe(input); // the provider keeps its own copy
  }
  const warning = part === 'private' ? keyFileModeWarning(path, mode) : undefined;
  if (warning !== undefined) (opts.warn ?? warnOnStderr)(warning);
  return provider;
}

