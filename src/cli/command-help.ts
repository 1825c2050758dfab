/**
 * The help of each subcommand: `enseal decrypt --help` (or `-h`, or `enseal help decrypt`)
 * prints the decrypt section only — its synopsis, what it does and its options — and exits 0.
 * `enseal --help` prints the whole reference ({@link USAGE}).
 *
 * @module
 */
import { USAGE } from './usage.js';
import { STORAGE_TOPICS, type StorageTopic } from './storage-args.js';
import { REWRAP_OBJECT_HELP, STORAGE_HELP } from './storage-help.js';
import { MIGRATE_HELP } from './migrate-help.js';

/** The subcommands that have their own help. */
export type HelpTopic = 'keygen' | 'encrypt' | 'decrypt' | 'rewrap' | 'rotate' | 'inspect' | 'migrate' | 'kms' | StorageTopic;

/** `enseal help [TOPIC]`, `--help`, `-h`, `enseal COMMAND --help`. */
export interface HelpCommand {
  kind: 'help';
  /** The subcommand whose help is wanted; `undefined`: everything. */
  topic?: HelpTopic;
}

/** Every {@link HelpTopic}. */
export const HELP_TOPICS: readonly HelpTopic[] = ['keygen', 'encrypt', 'decrypt', 'rewrap', 'rotate', 'inspect', 'migrate', 'kms', ...STORAGE_TOPICS];

const RECIPIENTS = `Recipients (each one alone can decrypt; any mix, in this order in the header):
  --key FILE            an AES-256 key file (see enseal keygen aes)
  --kms [local:]KEYID   a key of the local KMS store, by id (lk-...) or alias
  --kms aws:KEYID       an AWS KMS key: key id, key ARN or alias/NAME
  --kms alibaba:KEYID   an Alibaba Cloud KMS key: key id or alias/NAME
  --kms vault:NAME      a HashiCorp Vault Transit key
  --rsa-public FILE     an RSA public key (PEM, DER or JWK)
  --passphrase-env VAR  a passphrase, read from the environment variable VAR
  --passphrase          a passphrase, typed twice on the terminal (no echo)
`;

const KEYS = `Keys (any one that fits is enough):
  --key FILE, --kms [local:|aws:|alibaba:|vault:]KEYID, --passphrase-env VAR as for
  encrypt; --passphrase asks once;
  --rsa-private FILE    an RSA private key (PEM: PKCS#8 or PKCS#1; DER; JWK)
  --kms local           any key of the local store that a recipient of IN names
  --legacy              --rsa-private keys also read legacy RSA stanzas (rsa-oaep-sha1,
                        rsa-pkcs1: OSS SDK objects); refused without it
  --kms-discovery       each --kms aws:/alibaba:/vault: key unwraps recipients made under ANY
                        key of that KMS the credentials may use (default: only the named key)
`;

const KDF = `Passphrase costs (for passphrases written as recipients):
  --kdf argon2id|scrypt|pbkdf2 (or pbkdf2-sha256)   default argon2id
  --kdf-cost m=KiB,t=PASSES,p=LANES | N=COST,r=BLOCK,p=PAR | i=ITERATIONS
`;

const COMMON = `  --kms-store PATH      the local KMS store (default $ENSEAL_KMS_STORE, else ~/.enseal/kms.json)
  --context K=V         encryption context pair (repeatable)
`;

const OUTPUT = `OUT: "-" is stdout. A regular file (or a new one) is written to a temporary file and renamed
into place on success; a device, FIFO or socket is written in place; a symbolic link is refused
unless --force (then its target is written and the link stays).
`;

const TOPICS: Readonly<Record<HelpTopic, string>> = {
  ...STORAGE_HELP,
  migrate: MIGRATE_HELP,
  keygen: `Usage:
  enseal keygen aes --out FILE [--id ID]
  enseal keygen rsa --out FILE [--bits 2048|3072|4096]

keygen aes creates an AES-256 key file (JSON, mode 0600) and prints its id (default "aes-"
and 16 random hex digits). keygen rsa creates FILE (PKCS#8 PEM, 0600) and FILE.pub (SPKI PEM)
and prints the key id recipients get ("sha256:" and 32 hex digits). Neither ever overwrites.
`,
  encrypt: `Usage:
  enseal encrypt RECIPIENT... [--kdf KDF] [--kdf-cost LIST] [--kms-store PATH]
                 [--context K=V]... [--force] IN OUT

Encrypts IN to OUT for every RECIPIENT. --context pairs are stored in the header in clear and
bound to the ciphertext.

${RECIPIENTS}
${KDF}
Options:
${COMMON}  --force               write ciphertext to stdout even when it is a terminal; follow a
                        symbolic link OUT

${OUTPUT}`,
  decrypt: `Usage:
  enseal decrypt KEY... [--legacy] [--kms-discovery] [--kms-store PATH] [--context K=V]...
                 [--range START-END|START-|-N] [--force] IN OUT

Decrypts and authenticates IN with any of the KEYs. Each --context pair must be present in the
header with the same value (else ERR_CONTEXT). Plaintext is released only chunk by chunk after
each chunk authenticated; with OUT "-" a failure part-way may leave an authenticated prefix on
stdout (the exit status says whether it is complete).

${KEYS}
Options:
${COMMON}  --range START-END     only plaintext bytes START..END (inclusive, as in HTTP Range)
  --range START-        from START to the end
  --range -N            the last N bytes (all of them when the plaintext is shorter)
                        A range reads only the chunks it needs; IN must be a file.
  --force               follow a symbolic link OUT (write its target)

${OUTPUT}`,
  rewrap: `Usage:
  enseal rewrap KEY... [ADDED...] [--remove KEYID]... [--legacy] [--kms-discovery]
                [--kdf KDF] [--kdf-cost LIST] [--kms-store PATH] [--context K=V]... [--force]
                IN OUT

rewrap changes who can decrypt, keeping the same data key and payload: it unlocks the header
with any KEY, removes and adds recipients, and copies the payload bytes unchanged (not
decrypted, so not checked). rotate (enseal rotate --help) re-encrypts under a new data key.

ADDED recipients are the recipient options with "add-": --add-key FILE, --add-kms SPEC,
--add-rsa-public FILE, --add-passphrase-env VAR, --add-passphrase.
--remove KEYID drops each recipient with that key id (see inspect), or a KMS recipient added
under that key id or alias; it must match one. At least one --add-... or --remove is needed,
and one recipient must remain.

${KEYS}
${KDF}
Options:
${COMMON}  --force               write ciphertext to stdout even when it is a terminal; follow a
                        symbolic link OUT

${OUTPUT}
${REWRAP_OBJECT_HELP}`,
  rotate: `Usage:
  enseal rotate KEY... ADDED... [--legacy] [--kms-discovery] [--kdf KDF] [--kdf-cost LIST]
                [--kms-store PATH] [--context K=V]... [--force] IN OUT

rotate re-encrypts IN under a fresh data key for the ADDED recipients only (the old recipients
and the old data key are gone from OUT), keeping the encryption context; it decrypts and
authenticates every chunk on the way (streamed, constant memory). rewrap (enseal rewrap --help)
only changes recipients and keeps the data key.

ADDED recipients (at least one) are the recipient options with "add-": --add-key FILE,
--add-kms SPEC, --add-rsa-public FILE, --add-passphrase-env VAR, --add-passphrase. A key that
should stay a recipient is given again as --add-...

${KEYS}
${KDF}
Options:
${COMMON}  --force               write ciphertext to stdout even when it is a terminal; follow a
                        symbolic link OUT

${OUTPUT}`,
  inspect: `Usage:
  enseal inspect IN
  enseal inspect s3://BUCKET/KEY | oss://BUCKET/KEY | file:DIR//KEY | ./DIR/KEY

Prints the header of IN as JSON: context, recipients' key ids, sizes. Needs no key and
authenticates nothing. Characters a terminal would interpret are printed as \\uXXXX escapes.
For a stored object (a DIR/KEY that is not an existing file is a folder store's object) it
prints what headObject says: the format (enseal, oss, oss-legacy, s3ec-v1/v2/v3), sizes, user
metadata and, for OSS and S3EC objects, the content cipher, wrap algorithm and which key
provider would read it; never key bytes. Store credentials as for get and head.
`,
  kms: `Usage:
  enseal kms create-key [--alias ALIAS] [--store PATH]
  enseal kms list [--json] [--store PATH]
  enseal kms rotate|disable|enable KEY [--store PATH]

Manages the local KMS store (a file of AES-256 master keys, mode 0600): create-key creates a
key (and the store on first use) and prints its id; list prints id, alias, enabled, versions,
creation time (--json: a JSON array), never key material; rotate adds a key version for new
objects; disable refuses the key (ERR_KMS_DISABLED); enable allows it again. KEY is an id or an
alias. --store PATH, else $ENSEAL_KMS_STORE, else ~/.enseal/kms.json.
`,
};

/**
 * The help text for a topic.
 * @param topic - a subcommand, or `undefined` for the whole reference
 * @returns the text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(helpText('decrypt'));
 * ```
 */
export function helpText(topic: HelpTopic | undefined): string {
  return topic === undefined ? USAGE : TOPICS[topic];
}
