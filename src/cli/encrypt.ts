/**
 * `enseal encrypt RECIPIENT… [--kdf K] [--kdf-cost C] [--kms-store P] [--context K=V]…
 * [--force] IN OUT`: streaming encryption, one recipient per key option, in command-line order
 * (the first one generates the data key when it is a KMS). Ciphertext is not written to a
 * terminal without `--force`.
 *
 * @module
 */
import { createEncryptStream } from '../node.js';
import type { EncryptCommand } from './args.js';
import { refuseCiphertextOnTerminal } from './io.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import { transfer } from './transfer.js';

/**
 * Runs `encrypt`.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_KEYFILE`/`ERR_USAGE`/`ERR_CANCELLED`/`ERR_IO`; EnsealError (including
 *   KMS errors); system errors for I/O
 */
export async function encryptCommand(cmd: EncryptCommand, io: Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'> = {}): Promise<void> {
  refuseCiphertextOnTerminal(cmd.output, cmd.force);
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: cmd.kdf, ...io });
  try {
    const [recipients] = await loader.load([{ sources: cmd.recipients, role: 'recipient', promptLabel: 'Passphrase' }]);
    await transfer(cmd.input, cmd.output, () => createEncryptStream({ recipients: recipients!, context: cmd.context }), { followSymlink: cmd.force, refuseTerminal: !cmd.force });
  } finally {
    loader.dispose();
  }
}
