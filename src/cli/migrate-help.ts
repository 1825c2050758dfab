/**
 * The help of `enseal migrate` (`enseal migrate --help`, `enseal help migrate`), for
 * ./migrate.ts and ./command-help.ts.
 *
 * @module
 */

/** `enseal migrate --help`. */
export const MIGRATE_HELP = `Usage:
  enseal migrate [--oss-rsa-private PEM]... [--oss-kms KEYID]... [--s3ec-rsa-private PEM]...
                 [--s3ec-key KEYFILE]... [--s3ec-kms KEYID]...
                 [--allow-unauthenticated] [--allow-insecure-http]
                 (--key FILE | --kms SPEC | --rsa-public FILE | --passphrase-env VAR)... LOCATION

Converts the Alibaba OSS or AWS S3EC object at LOCATION (s3://, oss://, file:, ./DIR/KEY) to
the enseal format in place, for the recipients given: the new object is written whole before
anything old is removed, a recorded MD5 or the GCM tag is checked before it becomes visible, an
instruction file is deleted last; on failure the old object is untouched. Prints the result as
JSON. OSS (AES-CTR) and S3EC V1 (AES-CBC) content is unauthenticated: converting it needs
--allow-unauthenticated, and whatever a writer of the old object changed is sealed as authentic.

Keys of the old object (at least one):
  --oss-rsa-private PEM   an OSS RSA private key (legacy RSA: PKCS#1 v1.5)
  --oss-kms KEYID         an Alibaba Cloud KMS key that wrapped the OSS object's data key
                          (environment as for --kms alibaba:KEYID)
  --s3ec-rsa-private PEM  an S3EC RSA private key (legacy RSA: OAEP-SHA1)
  --s3ec-key KEYFILE      an S3EC AES-256 key, as a key file (see enseal keygen aes)
  --s3ec-kms KEYID        an AWS KMS key (id, ARN or alias/NAME) that wrapped the S3EC
                          object's data key (environment as for --kms aws:KEYID)
  A KMS key is strict: only objects wrapped under that key are read.
`;
