/**
 * The `enseal` command line: parses the arguments, runs the command, and turns any failure
 * into one stderr line `enseal: CODE: message` and an exit status (1: data, crypto, KMS or I/O
 * error; 2: usage or key-file error; 130: passphrase prompt cancelled). See {@link USAGE} for
 * the commands.
 *
 * `bin/enseal.js` calls {@link main}; this module has no side effect when imported.
 *
 * @module
 */
import { parseArgs } from './args.js';
import { decryptCommand } from './decrypt.js';
import { encryptCommand } from './encrypt.js';
import { describeFailure } from './failure.js';
import { inspectCommand } from './inspect.js';
import { keygen } from './keygen.js';
import { keygenRsa } from './keygen-rsa.js';
import { kmsCommand } from './kms-command.js';
import { rewrapCommand } from './rewrap.js';
import { USAGE, packageVersion } from './usage.js';

/**
 * Runs the command line.
 * @param argv - arguments after the program name (`process.argv.slice(2)`)
 * @returns the exit status: 0 success, 1 data/crypto/KMS/I-O failure, 2 usage or key-file
 *   error, 130 cancelled at the passphrase prompt
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const cmd = parseArgs(argv);
    switch (cmd.kind) {
      case 'help':
        process.stdout.write(USAGE);
        break;
      case 'version':
        process.stdout.write(`${packageVersion()}\n`);
        break;
      case 'keygen':
        if (cmd.type === 'aes') await keygen(cmd, process.stdout);
        else await keygenRsa(cmd, process.stdout);
        break;
      case 'encrypt':
        await encryptCommand(cmd);
        break;
      case 'decrypt':
        await decryptCommand(cmd);
        break;
      case 'rewrap':
        await rewrapCommand(cmd);
        break;
      case 'inspect':
        await inspectCommand(cmd, process.stdout);
        break;
      case 'kms':
        await kmsCommand(cmd, process.stdout);
        break;
    }
    return 0;
  } catch (e) {
    const failure = describeFailure(e);
    const hint = failure.code === 'ERR_USAGE' ? " (see 'enseal --help')" : '';
    process.stderr.write(`enseal: ${failure.code}: ${failure.message}${hint}\n`);
    return failure.exitCode;
  }
}
