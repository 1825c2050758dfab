/**
 * Bucket policies that deny every request not made over TLS (issue 7 item 6), so that a client
 * misconfigured with `http://` is refused by the store too, not only by enseal's adapters:
 *
 * - Alibaba OSS: `Deny` `oss:*` when `acs:SecureTransport` is `false` (OSS bucket policy
 *   syntax, `Version: "1"`, resources `acs:oss:*:*:bucket` and `acs:oss:*:*:bucket/*`);
 * - S3: `Deny` `s3:*` when `aws:SecureTransport` is `false` (IAM policy language
 *   `2012-10-17`, resources `arn:<partition>:s3:::bucket` and `…/*`).
 *
 * Apply it with `PutBucketPolicy` (`aws s3api put-bucket-policy --policy file://p.json`,
 * `ossutil bucket-policy --method put oss://bucket p.json`).
 *
 * @module
 */

/** Options of {@link httpsOnlyPolicy}. */
export interface HttpsOnlyPolicyOptions {
  /** Which store's policy language. */
  readonly provider: 'oss' | 's3';
  /** The bucket name. */
  readonly bucket: string;
  /** S3 only: the AWS partition (default `aws`; `aws-cn`, `aws-us-gov`). */
  readonly partition?: 'aws' | 'aws-cn' | 'aws-us-gov';
}

const S3_BUCKET = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const OSS_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * The bucket policy (JSON text) that denies non-TLS access to a bucket.
 *
 * @param opts - provider, bucket, S3 partition
 * @returns the policy document as JSON text, ready for `PutBucketPolicy`
 * @throws TypeError for an unknown provider or a bucket name the provider does not allow
 * @example
 * ```ts
 * const policy = httpsOnlyPolicy({ provider: 'oss', bucket: 'photos' });
 * // {"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:*"],…"acs:SecureTransport":["false"]…}]}
 * ```
 */
export function httpsOnlyPolicy(opts: HttpsOnlyPolicyOptions): string {
  const { provider, bucket } = opts ?? ({} as HttpsOnlyPolicyOptions);
  if (provider === 'oss') {
    if (typeof bucket !== 'string' || !OSS_BUCKET.test(bucket)) throw new TypeError('"bucket" expected an OSS bucket name (3-63 of a-z 0-9 -, not starting or ending with -)');
    return JSON.stringify({
      Version: '1',
      Statement: [
        {
          Effect: 'Deny',
          Action: ['oss:*'],
          Principal: ['*'],
          Resource: [`acs:oss:*:*:${bucket}`, `acs:oss:*:*:${bucket}/*`],
          Condition: { Bool: { 'acs:SecureTransport': ['false'] } },
        },
      ],
    });
  }
  if (provider === 's3') {
    if (typeof bucket !== 'string' || !S3_BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
      throw new TypeError('"bucket" expected an S3 bucket name (3-63 of a-z 0-9 . -, not an IP address)');
    }
    const partition = opts.partition ?? 'aws';
    if (!['aws', 'aws-cn', 'aws-us-gov'].includes(partition)) throw new TypeError('"partition" expected aws, aws-cn or aws-us-gov');
    return JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
  }
  const got: unknown = provider;
  throw new TypeError(`"provider" expected 'oss' or 's3', got ${typeof got === 'string' ? JSON.stringify(got.slice(0, 20)) : typeof got}`);
}
