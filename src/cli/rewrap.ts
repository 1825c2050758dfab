/**
 * `enseal rewrap KEY… [ADD…] [--remove KEYID]… [--legacy] [--kms-discovery] [--kdf K]
 * [--kdf-cost C] [--kms-store P] [--context K=V]… [--force] IN OUT`: changes an object's
 * recipients without touching its payload (`./rotate.ts` re-encrypts under a new data key).
 *
 * The header is read off IN (file or stdin) and unlocked with the keys (checking the header MAC
 * and any expected context); recipients are removed and added; OUT receives the new header and
 * then the payload, piped byte for byte in constant memory. The payload is not decrypted, so it
 * is not authenticated here: a damaged payload stays damaged, and decryption will say so.
 *
 * `--remove KEYID` drops every recipient whose key id is KEYID, or — for a KMS recipient — whose
 * requested key (the id or alias given when it was added, e.g. a LocalKms alias) is KEYID. Each
 * `--remove` must match at least one recipient, so a typo cannot go unnoticed.
 *
 * @module
 */
import { rewrap } from '../envelope/rewrap.js';
import { inspect } from '../envelope/inspect.js';
import type { Stanza } from '../format/header.js';
import { KMS_REQUESTED_PARAM, KMS_STANZA_PREFIX } from '../keys/kms.js';
import type { RewrapCommand } from './args.js';
import { usageError } from './cli-error.js';
import { openInput, openOutput, refuseCiphertextOnTerminal, type Input, type Output } from './io.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import { prepend } from './prepend.js';
import { readHeader } from './read-header.js';
import { quoted } from './terminal-text.js';
import { pipeToOutput } from './transfer.js';

/**
 * Whether `--remove id` selects a recipient.
 * @param stanza - a recipient of the header
 * @param id - the `--remove` value
 * @returns true for its key id, or a KMS recipient's requested key id or alias
 */
export function removes(stanza: Pick<Stanza, 'type' | 'keyId' | 'params'>, id: string): boolean {
  if (stanza.keyId === id) return true;
  return stanza.type.startsWith(KMS_STANZA_PREFIX) && Object.hasOwn(stanza.params, KMS_REQUESTED_PARAM) && stanza.params[KMS_REQUESTED_PARAM] === id;
}

/** A key id for a message: escaped, quoted, and cut short (an ARN may be 2048 bytes). */
const shown = (id: string): string => quoted(id, 80);

/** Refuses a `--remove` that matches no recipient (listing a few key ids, which are not secret). */
function checkRemovals(header: Uint8Array, remove: readonly string[]): void {
  if (remove.length === 0) return;
  const recipients = inspect(header).recipients;
  for (const id of remove) {
    if (!recipients.some((r) => removes(r, id))) {
      const ids = recipients.slice(0, 8).map((r) => shown(r.keyId)).join(', ') + (recipients.length > 8 ? ', ...' : '');
      throw usageError(`--remove ${shown(id)} matches no recipient of IN (key ids: ${ids}; see enseal inspect)`);
    }
  }
}

/**
 * Runs `rewrap`.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_KEYFILE`/`ERR_USAGE`/`ERR_CANCELLED`/`ERR_IO`; EnsealError (`ERR_NO_KEY`,
 *   `ERR_AUTH`, `ERR_CONTEXT`, `ERR_HEADER`, `ERR_TRUNCATED`, KMS errors); system errors for I/O
 */
export async function rewrapCommand(cmd: RewrapCommand, io: Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'> = {}): Promise<void> {
  refuseCiphertextOnTerminal(cmd.output, cmd.force);
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: cmd.kdf, legacyRsa: cmd.legacyRsa, kmsDiscovery: cmd.kmsDiscovery, ...io });
  let input: Input | undefined;
  try {
    const [keys, add] = await loader.load([
      { sources: cmd.keys, role: 'unlock', promptLabel: 'Passphrase' },
      { sources: cmd.add, role: 'recipient', promptLabel: 'New passphrase' },
    ]);
    input = await openInput(cmd.input);
    const header = await readHeader(input.stream);
    checkRemovals(header, cmd.remove);
    const remove = (s: Stanza): boolean => cmd.remove.some((id) => removes(s, id));
    const newHeader = await rewrap(header, { keys: keys!, add: add!, remove, context: cmd.context });
    const output: Output = await openOutput(cmd.output, { followSymlink: cmd.force, refuseTerminal: !cmd.force });
    const stream = input.stream;
    input = undefined; // owned by the pipeline from here
    await pipeToOutput([stream, prepend(newHeader)], output);
  } finally {
    input?.stream.destroy();
    loader.dispose();
  }
}
