/**
 * The help of the storage commands (`enseal put --help`, …) and the stored-object form of
 * `rewrap`, for ./command-help.ts; the whole reference is in ./usage.ts.
 *
 * @module
 */
import type { StorageTopic } from './storage-args.js';

/** Object locations, and how they differ from plain files. */
export const LOCATIONS = `Locations:
  s3://BUCKET/KEY       an S3 or S3-compatible bucket (KEY: everything after the first "/")
  oss://BUCKET/KEY      an Alibaba Cloud OSS bucket
  ./DIR/KEY, /DIR/KEY, file:DIR/KEY
                        a local folder (DIR must exist); DIR//KEY splits at the first "//"
                        so KEY may hold "/" (./backups//2026/db.tar), else KEY is the last
                        path component. A bare relative path (dir/key) is not a location.
`;

/** Environment and transport of s3:// and oss://. */
export const STORE_ENV = `Store configuration (environment; an empty variable counts as unset):
  s3://   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN, AWS_REGION
          (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an
          S3-compatible endpoint (then addressed path-style)
  oss://  OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, optional OSS_SESSION_TOKEN, OSS_REGION
          (cn-hangzhou or oss-cn-hangzhou) and/or OSS_ENDPOINT
  Endpoints must be https:. --allow-insecure-http allows http: to a loopback host
  (127.0.0.1, localhost, [::1]) only, for tests and local emulators (ERR_INSECURE_TRANSPORT
  otherwise, before anything is sent). s3:// needs the package @aws-sdk/client-s3 and oss://
  the package ali-oss (optional: npm install @aws-sdk/client-s3 / npm install ali-oss).
`;

const SSE_PUT = `  --sse SSE             server-side encryption by the store as well, oss://: AES256, KMS,
                        KMS:KEYID, SM4; s3://: AES256, aws:kms, aws:kms:KEYID, SSE-C
  --sse-c-key-file FILE the SSE-C customer key (32 bytes, raw or base64); give it again to
                        get, head and rewrap (--sse SSE-C --sse-c-key-file FILE)
`;

const SSE_READ = `  --sse SSE-C --sse-c-key-file FILE   the SSE-C key the object was stored with
`;

/** Help of each storage command. */
export const STORAGE_HELP: Readonly<Record<StorageTopic, string>> = {
  put: `Usage:
  enseal put RECIPIENT... [--part-size SIZE] [--concurrency N] [--resume [--state FILE]]
             [--sse SSE [--sse-c-key-file FILE]] [--context K=V]... [--kdf KDF]
             [--kdf-cost LIST] [--kms-store PATH] [--allow-insecure-http] FILE|- LOCATION

Encrypts FILE (or stdin) for every RECIPIENT (as for encrypt) and stores it at LOCATION: one
PUT up to the part size, else a multipart upload of parts sealed and sent in parallel, each
an exact number of 16 KiB chunks, byte-identical to enseal encrypt output. The object key is
bound into the encryption context. Prints the location, size and parts on stdout.

Options:
  --part-size SIZE      plaintext bytes per part (default 8MiB; suffixes K/KiB, M/MiB,
                        G/GiB), raised to the store's minimum (s3: 5 MiB, oss: 100 KiB)
  --concurrency N       parts in flight at once, 1..64 (default 4)
  --resume              keep the upload's state as parts complete and resume a saved one:
                        after a crash or a kill, the same command with --resume sends only
                        the missing parts (FILE must be the same bytes, else ERR_STATE). A
                        recipient must also unwrap (--key, --kms, --passphrase-env).
                        Without --resume any failure aborts the upload (nothing is left), and
                        an interrupted upload of the same object saved in the default place
                        is discarded (its parts aborted).
  --state FILE          where --resume keeps the state (default ~/.enseal/uploads/ID.json;
                        upload id, wrapped header, salt, part ETags: never a plaintext key)
${SSE_PUT}  --context K=V         encryption context pair (repeatable)
  --allow-insecure-http http: to a loopback endpoint (tests, emulators)

${LOCATIONS}
${STORE_ENV}
A progress line (bytes, rate, time left) is drawn on stderr when stderr is a terminal.
`,
  get: `Usage:
  enseal get KEY... [--range START-END|START-|-N] [--sse SSE-C --sse-c-key-file FILE]
             [--context K=V]... [--legacy] [--kms-discovery] [--kms-store PATH] [--force]
             [--allow-insecure-http] LOCATION FILE|-

Reads and decrypts the object at LOCATION with any of the KEYs (as for decrypt) into FILE
(written atomically, as decrypt's OUT) or stdout. Plaintext is released chunk by chunk, only
after each chunk authenticated.

Options:
  --range START-END     only plaintext bytes START..END (inclusive); START- to the end; -N
                        the last N bytes. A range fetches only the chunks it needs: at most
                        two ranged GETs unless it reaches the end of the object.
${SSE_READ}  --context K=V         required encryption context pair (repeatable)
  --force               follow a symbolic link FILE (write its target)
  --allow-insecure-http http: to a loopback endpoint (tests, emulators)

${LOCATIONS}
${STORE_ENV}
A progress line (bytes, rate, time left) is drawn on stderr when stderr is a terminal.
`,
  head: `Usage:
  enseal head [--sse SSE-C --sse-c-key-file FILE] [--allow-insecure-http] LOCATION

Prints what the store and the object's header say, as JSON: plaintext size, stored size, user
metadata, context, recipients' key ids, the store's server-side encryption. Needs no key and
authenticates nothing ("authenticated": false). Text from the store is printed with control
and bidi characters escaped.

${LOCATIONS}
${STORE_ENV}`,
  ls: `Usage:
  enseal ls [--allow-insecure-http] LOCATION

Lists the objects whose key starts with LOCATION's key (s3://BUCKET/PREFIX, oss://BUCKET,
./DIR, ./DIR//PREFIX), one per line: stored bytes, last modification (ISO 8601, or -), key.
Keys are printed with control and bidi characters escaped (\\xNN, \\uXXXX; a backslash as \\\\).

${LOCATIONS}
${STORE_ENV}`,
  rm: `Usage:
  enseal rm [--allow-insecure-http] LOCATION...

Deletes each object. Deleting an object that does not exist succeeds.

${LOCATIONS}
${STORE_ENV}`,
};

/** The stored-object form of `rewrap`, appended to its help. */
export const REWRAP_OBJECT_HELP = `Stored objects:
  enseal rewrap KEY... [ADDED...] [--remove KEYID]... [--sse SSE-C --sse-c-key-file FILE]
                [--allow-insecure-http] LOCATION
  With one argument written s3://, oss:// or file:, rewrap changes the recipients of that
  stored object in place: a server-side copy with the new, authenticated header in metadata
  where the store can copy (no payload byte passes through enseal), else a streamed rewrite
  that passes on each chunk only after it authenticated. With IN OUT it rewrites a file.
`;
