/**
 * `enseal migrate LOCATION`: converts a stored Alibaba OSS or AWS S3EC object to the enseal
 * format in place (`bucket.convertObject`, docs/INTEROP.md §B.4): the new object is written
 * whole before anything old is removed, an MD5 or GCM tag is checked first, an instruction file
 * is deleted last. Prints the result as JSON.
 *
 * ```
 * enseal migrate [--oss-rsa-private PEM]... [--oss-kms KEYID]... [--s3ec-rsa-private PEM]...
 *                [--s3ec-key KEYFILE]... [--s3ec-kms KEYID]... [--allow-unauthenticated] [--allow-insecure-http]
 *                (--key FILE | --kms SPEC | --rsa-public FILE | --passphrase-env VAR)... LOCATION
 * ```
 *
 * Reading the old object uses the interop keyrings (OSS and S3EC RSA keys are legacy RSA, read
 * with `legacy: true`; `--oss-kms` / `--s3ec-kms` are `ossKmsKey` / `s3ecKmsKey` over the
 * Alibaba / AWS KMS client of the environment, strict by key id). Converting OSS or CBC content
 * reads unauthenticated bytes: it needs `--allow-unauthenticated`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { ossKmsKey, ossRsaKey, s3ecAesKey, s3ecKmsKey, s3ecRsaKey, type OssKmsTextClient } from '../interop.js';
import type { KeyProvider } from '../keys/provider.js';
import { encryptedBucket } from '../storage/bucket.js';
import { usageError } from './cli-error.js';
import { RECIPIENT_OPTIONS, keyOptionSpec, keySources } from './key-args.js';
import { KeyLoader } from './key-loader.js';
import { MAX_KEY_FILE_SIZE, parseKeyFile, readLimited } from './keyfile.js';
import { expectPositionals, hasFlag, scan } from './scan.js';
import { openStore } from './storage-client.js';
import { parseLocation } from './storage-url.js';
import { safeJson } from './terminal-text.js';
import { MIGRATE_HELP } from './migrate-help.js';
import { cloudKmsClient } from './kms-env.js';


/**
 * Runs `migrate`.
 * @param args - the arguments after `migrate`
 * @param stdout - where the JSON goes
 * @throws CliError `ERR_USAGE` for a bad command line; EnsealError as `convertObject`
 * @example
 * ```ts
 * await migrateCommand(['--oss-rsa-private', 'oss.pem', '--allow-unauthenticated', '--key', 'k.json', 'oss://b/a.jpg'], process.stdout);
 * ```
 */
export async function migrateCommand(args: readonly string[], stdout: NodeJS.WritableStream): Promise<void> {
  const s = scan('migrate', args, {
    ...keyOptionSpec(RECIPIENT_OPTIONS),
    'oss-rsa-private': 'repeat',
    's3ec-rsa-private': 'repeat',
    's3ec-key': 'repeat',
    'oss-kms': 'repeat',
    's3ec-kms': 'repeat',
    'allow-unauthenticated': 'flag',
    'allow-insecure-http': 'flag',
  });
  if (s.help) {
    stdout.write(MIGRATE_HELP);
    return;
  }
  expectPositionals('migrate', s.positionals, ['LOCATION']);
  const location = parseLocation(s.positionals[0] as string, 'object');
  const recipientSources = keySources(s, RECIPIENT_OPTIONS);
  if (recipientSources.length === 0) throw usageError('migrate needs at least one recipient: --key, --kms, --rsa-public or --passphrase-env');
  const readers: KeyProvider[] = [];
  for (const path of s.options.get('oss-rsa-private') ?? []) readers.push(ossRsaKey({ privateKey: await readFile(path, 'utf8'), legacy: true }));
  for (const path of s.options.get('s3ec-rsa-private') ?? []) readers.push(s3ecRsaKey({ privateKey: await readFile(path, 'utf8'), legacy: true }));
  for (const path of s.options.get('s3ec-key') ?? []) {
    const bytes = await readLimited(path, MAX_KEY_FILE_SIZE);
    try {
      const m = parseKeyFile(bytes, path);
      readers.push(s3ecAesKey({ key: m.key }));
      m.key.fill(0);
    } finally {
      bytes.fill(0);
    }
  }
  // KMS readers are strict (their key id only); the clients come from the environment, as --kms.
  for (const keyId of s.options.get('oss-kms') ?? []) {
    readers.push(ossKmsKey({ client: cloudKmsClient('alibaba', process.env, '--oss-kms') as OssKmsTextClient, keyId }));
  }
  for (const keyId of s.options.get('s3ec-kms') ?? []) readers.push(s3ecKmsKey({ client: cloudKmsClient('aws', process.env, '--s3ec-kms'), keyId }));
  if (readers.length === 0) {
    throw usageError('migrate needs a key for the old object: --oss-rsa-private, --oss-kms, --s3ec-rsa-private, --s3ec-key or --s3ec-kms');
  }
  const loader = new KeyLoader({ kmsStore: undefined, kdf: undefined });
  try {
    const [recipients] = await loader.load([{ sources: recipientSources, role: 'recipient', promptLabel: 'New passphrase' }]);
    const { store } = await openStore(location, { allowInsecureHttp: hasFlag(s, 'allow-insecure-http') });
    const bucket = encryptedBucket(store, { recipients: recipients!, keys: readers });
    const r = await bucket.convertObject(location.key, { to: 'enseal', allowUnauthenticated: hasFlag(s, 'allow-unauthenticated') });
    const { instructionFileError, ...rest } = r;
    stdout.write(`${safeJson({ ...rest, ...(instructionFileError === undefined ? {} : { instructionFileError: String((instructionFileError as Error).message ?? instructionFileError) }) })}\n`);
  } finally {
    loader.dispose();
    for (const k of readers) (k as { dispose?: () => void }).dispose?.();
  }
}
