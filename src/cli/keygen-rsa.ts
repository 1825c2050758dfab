/**
 * `enseal keygen rsa --out FILE [--bits 2048|3072|4096]`: creates an RSA key pair (public
 * exponent 65537, default 3072 bits) — the private key as PKCS#8 PEM in FILE (mode 0600) and the
 * public key as SPKI PEM in FILE.pub (mode 0644) — both or neither, never overwriting anything,
 * and prints the key id recipients get (`rsaKey`'s default: `sha256:` and 32 hex digits of the
 * SHA-256 of the SPKI DER).
 *
 * @module
 */
import { generateKeyPair } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { wipe } from '../bytes.js';
import { rsaKey } from '../keys/rsa.js';
import type { KeygenRsaCommand } from './args.js';
import { refuseExisting, writeNewFile } from './new-file.js';
import { pemBytes } from './pem.js';

const generate = promisify(generateKeyPair);

/** Suffix of the public key file. */
export const PUBLIC_KEY_SUFFIX = '.pub';

/**
 * Runs `keygen rsa`.
 * @param cmd - parsed command
 * @param stdout - where the key id goes
 * @throws CliError `ERR_EXISTS` when FILE or FILE.pub exists (then neither is created or
 *   changed); system errors for I/O failures
 */
export async function keygenRsa(cmd: KeygenRsaCommand, stdout: NodeJS.WritableStream): Promise<void> {
  const pubPath = `${cmd.out}${PUBLIC_KEY_SUFFIX}`;
  await refuseExisting(cmd.out); // fail before spending seconds on a 4096-bit key
  await refuseExisting(pubPath);
  const { publicKey, privateKey } = await generate('rsa', {
    modulusLength: cmd.bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const privatePem = pemBytes('PRIVATE KEY', privateKey);
  const publicPem = pemBytes('PUBLIC KEY', publicKey);
  const recipient = rsaKey({ publicKey });
  try {
    const id = await recipient.keyId();
    await writeNewFile(cmd.out, privatePem, 0o600);
    try {
      await writeNewFile(pubPath, publicPem, 0o644);
    } catch (e) {
      await rm(cmd.out, { force: true }); // both or neither
      throw e;
    }
    stdout.write(`${id}\n`);
  } finally {
    recipient.dispose();
    wipe(privateKey, privatePem);
  }
}
