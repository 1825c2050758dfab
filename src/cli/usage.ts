/**
 * The `--help` text and the `--version` string.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { LOCATIONS, STORE_ENV } from './storage-help.js';

/** What `enseal --help` prints (also the reference for exit statuses and error codes). */
export const USAGE = `Usage:
  enseal keygen aes --out FILE [--id ID]
  enseal keygen rsa --out FILE [--bits 2048|3072|4096]
  enseal encrypt RECIPIENT... [--kdf KDF] [--kdf-cost LIST] [--kms-store PATH]
                 [--context K=V]... [--force] IN OUT
  enseal decrypt KEY... [--legacy] [--kms-discovery] [--kms-store PATH] [--context K=V]...
                 [--range START-END|START-|-N] [--force] IN OUT
  enseal rewrap KEY... [ADDED...] [--remove KEYID]... [--legacy] [--kms-discovery]
                [--kdf KDF] [--kdf-cost LIST] [--kms-store PATH] [--context K=V]... [--force]
                IN OUT
  enseal rotate KEY... ADDED... [--legacy] [--kms-discovery] [--kdf KDF] [--kdf-cost LIST]
                [--kms-store PATH] [--context K=V]... [--force] IN OUT
  enseal inspect IN | s3://BUCKET/KEY | oss://BUCKET/KEY | ./DIR/KEY
  enseal migrate (--oss-rsa-private PEM | --oss-kms KEYID | --s3ec-key FILE | ...)... RECIPIENT...
                 LOCATION
  enseal kms create-key [--alias ALIAS] [--store PATH]
  enseal kms list [--json] [--store PATH]
  enseal kms rotate|disable|enable KEY [--store PATH]
  enseal put RECIPIENT... [--part-size SIZE] [--concurrency N] [--resume [--state FILE]]
             [--sse SSE [--sse-c-key-file FILE]] [--context K=V]... FILE|- LOCATION
  enseal get KEY... [--range START-END|START-|-N] [--sse SSE-C --sse-c-key-file FILE]
             [--context K=V]... [--force] LOCATION FILE|-
  enseal head [--sse SSE-C --sse-c-key-file FILE] LOCATION
  enseal ls LOCATION
  enseal rm LOCATION...
  enseal rewrap KEY... [ADDED...] [--remove KEYID]... LOCATION   (a stored object, in place)
  (put, get, head, ls, rm and the stored-object rewrap also take --allow-insecure-http)
  enseal help [COMMAND] | --help | -h      (COMMAND --help: that command's help only)
  enseal --version

Recipients (encrypt; each one alone can decrypt; any mix, in this order in the header):
  --key FILE            an AES-256 key file (see keygen aes)
  --kms [local:]KEYID   a key of the local KMS store, by id (lk-...) or alias (an alias
                        named "local" must be written local:local)
  --kms aws:KEYID       an AWS KMS key: key id, key ARN or alias/NAME
  --kms alibaba:KEYID   an Alibaba Cloud KMS key: key id or alias/NAME
  --kms vault:NAME      a HashiCorp Vault Transit key
  --rsa-public FILE     an RSA public key (PEM, DER or JWK; see keygen rsa)
  --passphrase-env VAR  a passphrase, read from the environment variable VAR
  --passphrase          a passphrase, typed twice on the terminal (no echo)
  Each option may be repeated, except --passphrase. At least one recipient is needed.

Keys (decrypt, and the keys that unlock a rewrap or rotate; any one that fits is enough):
  --key FILE, --kms SPEC, --passphrase-env VAR as above; --passphrase asks once;
  --rsa-private FILE    an RSA private key (PEM: PKCS#8 or PKCS#1; DER; JWK)
  --kms local           any key of the local store that a recipient of IN names (discovery)
  --kms aws:|alibaba:|vault:KEYID  only recipients made under that key (strict)
  --kms-discovery       makes each --kms aws:/alibaba:/vault: key unwrap recipients made under
                        ANY key of that KMS the credentials may use (the KEYID then only picks
                        the KMS); use it only when any such key is acceptable
  --legacy              --rsa-private keys also read the legacy RSA stanzas (rsa-oaep-sha1,
                        rsa-pkcs1, written by OSS SDKs); without it they are refused
  A key file (--key, --add-key, --rsa-private) that group or others can access gets a
  warning on stderr (run chmod 600 FILE); it is still used.

Passphrase costs (encrypt, and the passphrases rewrap adds; decryption reads them from IN):
  --kdf argon2id|scrypt|pbkdf2          default argon2id (pbkdf2-sha256 = pbkdf2)
  --kdf-cost m=KiB,t=PASSES,p=LANES     argon2id, default m=131072,t=2,p=1
  --kdf-cost N=COST,r=BLOCK,p=PAR       scrypt, default N=131072,r=8,p=1
  --kdf-cost i=ITERATIONS               pbkdf2 (HMAC-SHA-256), default i=600000
  Omitted costs keep their defaults. Lower costs make a passphrase cheaper to guess: keep
  the defaults unless you must (tests, small devices).

Commands:
  keygen aes  Create a new AES-256 key file (JSON, mode 0600, never overwrites an existing
              file) and print its id. Default id: "aes-" and 16 random hex digits.
  keygen rsa  Create an RSA key pair (exponent 65537, default 3072 bits): the private key as
              PKCS#8 PEM in FILE (mode 0600) and the public key as SPKI PEM in FILE.pub;
              both or neither, never overwriting. Prints the key id recipients get:
              "sha256:" and 32 hex digits of the SHA-256 of the public key (SPKI DER).
  encrypt     Encrypt IN to OUT for every RECIPIENT.
              --context pairs are stored in the header in clear and bound to the ciphertext.
  decrypt     Decrypt and authenticate IN with any of the KEYs. Each --context pair must be
              present in the header with the same value (else ERR_CONTEXT).
              --range START-END writes only plaintext bytes START..END (inclusive, as in
              HTTP; "START-" means to the end; "-N" means the last N bytes, or all of a
              shorter plaintext), reading only the chunks it needs; IN must be a file. A
              START at or past the end, or any range of an empty plaintext, fails with
              ERR_RANGE.
  rewrap      Change the recipients of IN without touching its payload: unlock the header
              with any KEY, remove recipients, add new ones, and write the new header and
              the unchanged payload bytes to OUT (streamed; IN may be "-"). ADDED recipients
              are given as above with "add-": --add-key FILE, --add-kms SPEC,
              --add-rsa-public FILE, --add-passphrase-env VAR, --add-passphrase.
              --remove KEYID drops each recipient with that key id (see inspect), or a KMS
              recipient added under that key id or alias; it must match one. At least one
              --add-... or --remove is needed, and one recipient must remain. The payload is
              not decrypted, so rewrap does not check it. rewrap keeps the data key.
  rotate      Re-encrypt IN under a fresh data key for the ADDED recipients only (at least
              one; IN's recipients are not carried over: give a key again as --add-... to
              keep it), carrying IN's encryption context over. IN is decrypted and every
              chunk authenticated on the way (streamed; IN may be "-"). rotate retires the
              data key; rewrap only changes who can unwrap it.
  inspect     Print the header of IN as JSON: context, recipients' key ids, sizes. Needs no
              key and authenticates nothing. Characters a terminal would interpret (control,
              C1, bidi) are printed as \\uXXXX escapes; the JSON keeps its value.
              A stored object (s3://, oss://, file:, or a DIR/KEY that is not a file) is
              described as headObject does: its format (enseal, OSS, S3EC), sizes, and for
              OSS/S3EC objects which key provider would read it.
  kms         Manage the local KMS store (a file of AES-256 master keys, mode 0600):
              create-key  create a key (the store too, on first use); print its id
              list        print id, alias, enabled, number of versions, creation time
                          (--json: a JSON array); never any key material
              rotate KEY  add a new key version for new objects; old objects still decrypt
              disable KEY refuse encryption and decryption with the key (ERR_KMS_DISABLED)
              enable KEY  allow them again
              KEY is an id or an alias. Anyone who can read the store can decrypt what its
              keys protect: for anything that matters, use a cloud KMS or an HSM.

Local KMS store:
  --kms-store PATH (encrypt, decrypt, rewrap, rotate) or --store PATH (kms), else the file named by
  ENSEAL_KMS_STORE, else ~/.enseal/kms.json.

Cloud KMS configuration (environment; an empty variable counts as unset, and a missing one
is a usage error naming it):
  aws      AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
           optional AWS_SESSION_TOKEN; ENSEAL_AWS_KMS_ENDPOINT overrides the endpoint
  alibaba  ALIBABA_CLOUD_REGION_ID, ALIBABA_CLOUD_ACCESS_KEY_ID,
           ALIBABA_CLOUD_ACCESS_KEY_SECRET, optional ALIBABA_CLOUD_SECURITY_TOKEN;
           ENSEAL_ALIBABA_KMS_ENDPOINT overrides the endpoint
  vault    VAULT_ADDR, VAULT_TOKEN, optional VAULT_NAMESPACE; ENSEAL_VAULT_TRANSIT_MOUNT
           names the Transit mount (default "transit"). The object's encryption context is
           bound to every Vault call: as associated data (AEAD keys such as aes256-gcm96),
           or with ENSEAL_VAULT_DERIVED=1 by key derivation (keys created derived=true)
  Endpoints must be https:. ENSEAL_KMS_ALLOW_INSECURE_HTTP=1 allows plain http: to a
  loopback address (127.0.0.1, localhost, [::1]) only: it exists for tests and local
  emulators; never set it in production.

Passphrases:
  --passphrase reads from the terminal (stdin and stderr must be terminals, and IN cannot
  be "-"); --passphrase-env VAR reads the variable (unset or empty: a usage error). Both
  give the same key for the same text. A wrong passphrase fails with ERR_NO_KEY.

Input and output:
  IN "-" reads stdin; OUT "-" writes stdout.
  A regular-file OUT (new or existing) is written to a temporary file (mode 0600) in the same
  directory and renamed into place only on success: on failure (or Ctrl-C) no OUT file is
  created and an existing one is left as it was. A new OUT therefore has mode 0600.
  An OUT that is a character or block device, a FIFO or a socket is written in place: never
  replaced, truncated or chmod-ed (/dev/null stays /dev/null).
  An OUT that is a symbolic link is refused (ERR_USAGE, naming the link's target); with
  --force the link is followed: its target is written as above (atomically, in the target's
  own directory) and the link stays a link.
  Ciphertext (encrypt, rewrap, rotate) is not written to a terminal: with OUT "-" and stdout
  a terminal, or OUT a terminal device (/dev/tty), they refuse (ERR_USAGE) unless --force.
  With OUT "-" (or a device, FIFO or socket), output goes out as it is produced. If
  decryption fails part-way, stdout may already hold the chunks that authenticated before
  the failure: only the exit status tells whether the output is complete. If the reader goes
  away (enseal decrypt x - | head -c 1), enseal stops quietly with status 0.
  A progress bar is drawn on stderr when stderr is a terminal and IN is a file larger than
  16 MiB.

Key files:
  {"type":"aes256","id":"ID","key":"<standard base64 of 32 bytes>"}
  No other fields are accepted.

Object storage (put, get, head, ls, rm; rewrap of a stored object):
  put encrypts FILE (or stdin) into an object (multipart above --part-size, default 8MiB,
  parts sealed and sent --concurrency at a time, default 4); get decrypts one (--range as for
  decrypt, fetching only the chunks it needs); head prints its unauthenticated facts as JSON;
  ls lists keys under a prefix; rm deletes; rewrap LOCATION rotates its recipients in place
  (a server-side copy where the store can). --resume (put) keeps the upload's state in
  ~/.enseal/uploads/ (or --state FILE) and sends only the missing parts after a crash.
  --sse asks the store for its own encryption as well (oss: AES256, KMS[:KEYID], SM4;
  s3: AES256, aws:kms[:KEYID], SSE-C with --sse-c-key-file FILE). A progress line (bytes,
  rate, time left) is drawn on stderr when it is a terminal. Failures: ERR_NOT_FOUND (no such
  object), ERR_STORE (the store refused or failed), ERR_INSECURE_TRANSPORT, ERR_STATE (a
  saved upload that does not match), ERR_UNSUPPORTED (an SDK is not installed).

${LOCATIONS}
${STORE_ENV}
Exit status:
  0    success
  1    the data or the crypto failed (ERR_AUTH, ERR_NO_KEY, ERR_CONTEXT, ERR_TRUNCATED,
       ERR_HEADER, ERR_RANGE, ...), a KMS failed (ERR_KMS_DISABLED, ERR_KMS_DENIED,
       ERR_KMS_NOT_FOUND, ERR_KMS_UNAVAILABLE), reading or writing failed (ERR_IO), or
       keygen found an existing file (ERR_EXISTS)
  2    the command line is wrong (ERR_USAGE) or a key file is missing, unreadable or
       malformed (ERR_KEYFILE)
  130  passphrase entry was cancelled (ERR_CANCELLED)
  When no key can unwrap the data key only because of one KMS condition (a disabled key,
  an unreachable or refusing KMS), that condition's code is reported instead of ERR_NO_KEY.
  Errors are reported on stderr as one line: "enseal: CODE: message"; an ERR_NO_KEY (or the
  KMS condition reported in its place) is followed by one line per cause, "enseal:   - ...".
  Text from IN (key ids, labels, context) and file names are printed with control and bidi
  characters escaped.
`;

/**
 * The package version, read from package.json (two levels above this module in both src/
 * and dist/).
 * @returns e.g. `0.1.0`
 */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}
