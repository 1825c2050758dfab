/**
 * `enseal encrypt --key FILE… [--context K=V]… IN OUT`: streaming encryption, one recipient
 * per key file.
 *
 * @module
 */
import { createEncryptStream } from '../node.js';
import type { EncryptCommand } from './args.js';
import { loadKeyFiles } from './keyfile.js';
import { transfer } from './transfer.js';

/**
 * Runs `encrypt`.
 * @param cmd - parsed command
 * @throws CliError `ERR_KEYFILE`; EnsealError; system errors for I/O
 */
export async function encryptCommand(cmd: EncryptCommand): Promise<void> {
  const recipients = await loadKeyFiles(cmd.keys);
  await transfer(cmd.input, cmd.output, () => createEncryptStream({ recipients, context: cmd.context }));
}
