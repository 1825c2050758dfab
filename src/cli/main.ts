/**
 * The `enseal` command line: parses the arguments, runs the command, and turns any failure
 * into stderr lines (`enseal: CODE: message`, then the causes of an `ERR_NO_KEY`, one per
 * line) and an exit status (1: data, crypto, KMS or I/O error; 2: usage or key-file error; 130:
 * passphrase prompt cancelled). A reader that went away (EPIPE) ends the command quietly with
 * status 0. See {@link USAGE} for the commands.
 *
 * `bin/enseal.js` calls {@link main}; this module has no side effect when imported.
 *
 * @module
 */
import { parseArgs } from './args.js';
import { isBrokenPipe, guardStdout } from './broken-pipe.js';
import { HELP_TOPICS, helpText, type HelpTopic } from './command-help.js';
import { decryptCommand } from './decrypt.js';
import { encryptCommand } from './encrypt.js';
import { describeFailure, formatFailure } from './failure.js';
import { inspectCommand } from './inspect.js';
import { keygen } from './keygen.js';
import { keygenRsa } from './keygen-rsa.js';
import { kmsCommand } from './kms-command.js';
import { migrateCommand } from './migrate.js';
import { rewrapCommand } from './rewrap.js';
import { rotateCommand } from './rotate.js';
import { storageCommand } from './storage-commands.js';
import { packageVersion } from './usage.js';

/** Where a usage error points: the command's own help when there is one. */
function usageHint(argv: readonly string[]): string {
  const [command] = argv;
  return (HELP_TOPICS as readonly (string | undefined)[]).includes(command) ? ` (see 'enseal ${command as HelpTopic} --help')` : " (see 'enseal --help')";
}

/** Runs the parsed command. */
async function run(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'migrate') return migrateCommand(argv.slice(1), process.stdout); // parses its own options
  const cmd = parseArgs(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(helpText(cmd.topic));
      return;
    case 'version':
      process.stdout.write(`${packageVersion()}\n`);
      return;
    case 'keygen':
      if (cmd.type === 'aes') await keygen(cmd, process.stdout);
      else await keygenRsa(cmd, process.stdout);
      return;
    case 'encrypt':
      return encryptCommand(cmd);
    case 'decrypt':
      return decryptCommand(cmd);
    case 'rewrap':
      return rewrapCommand(cmd);
    case 'rotate':
      return rotateCommand(cmd);
    case 'inspect':
      return inspectCommand(cmd, process.stdout);
    case 'kms':
      return kmsCommand(cmd, process.stdout);
    case 'put':
    case 'get':
    case 'head':
    case 'ls':
    case 'rm':
    case 'rewrap-object':
      return storageCommand(cmd);
  }
}

/**
 * Runs the command line.
 * @param argv - arguments after the program name (`process.argv.slice(2)`)
 * @returns the exit status: 0 success (or the reader of stdout went away), 1 data/crypto/KMS/
 *   I-O failure, 2 usage or key-file error, 130 cancelled at the passphrase prompt
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  let lateError: unknown;
  guardStdout(process.stdout, (e) => (lateError ??= e)); // stays: an EPIPE may come after we return
  try {
    await run(argv);
    if (lateError !== undefined) throw lateError;
    return 0;
  } catch (e) {
    if (isBrokenPipe(e)) return 0; // the reader has gone: nothing to say, nobody to say it to
    const failure = describeFailure(e);
    process.stderr.write(formatFailure(failure, failure.code === 'ERR_USAGE' ? usageHint(argv) : ''));
    return failure.exitCode;
  }
}
