/**
 * Opens the {@link ObjectStore} a location names, configured from the environment:
 *
 * ```
 * s3://    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN;
 *          AWS_REGION (or AWS_DEFAULT_REGION; default us-east-1 with a custom endpoint);
 *          AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) for an S3-compatible endpoint, which is
 *          then addressed path-style (https://host/BUCKET/KEY)
 * oss://   OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, optional OSS_SESSION_TOKEN;
 *          OSS_REGION (e.g. cn-hangzhou or oss-cn-hangzhou) and/or OSS_ENDPOINT
 * file:    nothing: the folder must exist
 * ```
 * An empty variable counts as unset; a missing one is a usage error naming it. Endpoints must
 * be https:; `--allow-insecure-http` allows http: to a loopback host only (checked here before
 * anything is loaded, and again by the adapters before every request).
 *
 * The SDKs are optional peer dependencies, imported only when an `s3://` or `oss://` location
 * is used; a missing one is `ERR_UNSUPPORTED` with the command that installs it.
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { EnsealError } from '../errors.js';
import type { ObjectStore } from '../storage/store.js';
import { isLoopbackHost } from '../storage/transport.js';
import { CliError, usageError } from './cli-error.js';
import type { Environment } from './kms-env.js';
import type { StorageLocation } from './storage-url.js';
import { quoted } from './terminal-text.js';

/** OSS's user-metadata budget (8 KiB), which the bucket may use for rewrapped headers. */
export const OSS_METADATA_BYTES = 8192;

const value = (env: Environment, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

function required(env: Environment, scheme: string, name: string): string {
  const v = value(env, name);
  if (v === undefined) throw usageError(`${scheme}:// needs the environment variable ${name}`);
  return v;
}

/**
 * Checks an endpoint URL from the environment: https:, or http: to a loopback host with
 * `--allow-insecure-http`.
 * @param text - the URL
 * @param variable - the variable it came from, for messages
 * @param allowInsecureHttp - `--allow-insecure-http`
 * @returns the parsed URL
 * @throws CliError `ERR_USAGE` for a malformed URL; EnsealError `ERR_INSECURE_TRANSPORT` for
 *   http: that is not allowed (nothing has been sent)
 */
export function checkEndpoint(text: string, variable: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${variable} must be an absolute URL, got ${quoted(text, 80)}`);
  }
  if (url.username !== '' || url.password !== '') throw usageError(`${variable} must not contain credentials`);
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') throw usageError(`${variable} must use https:, got ${quoted(url.protocol, 20)}`);
  if (!isLoopbackHost(url.hostname)) {
    throw new EnsealError('ERR_INSECURE_TRANSPORT', `${variable} refused: plain http to ${quoted(url.hostname, 80)} (https: is required; --allow-insecure-http allows http: to a loopback host only)`);
  }
  if (!allowInsecureHttp) {
    throw new EnsealError('ERR_INSECURE_TRANSPORT', `${variable} refused: plain http to ${quoted(url.hostname, 80)} (give --allow-insecure-http to allow http: to this loopback host)`);
  }
  return url;
}

/** Whether an import failed because the package `name` is not installed. */
function isMissingPackage(e: unknown, name: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && e instanceof Error && e.message.includes(name);
}

/**
 * Imports an optional SDK.
 * @param load - the import
 * @param name - the npm package
 * @param scheme - the location scheme that needs it
 * @returns the module
 * @throws EnsealError `ERR_UNSUPPORTED` saying how to install it, when it is missing
 */
async function optionalPeer<T>(load: () => Promise<T>, name: string, scheme: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (isMissingPackage(e, name)) {
      throw new EnsealError('ERR_UNSUPPORTED', `${scheme}:// locations need the optional package ${name}, which is not installed: run npm install ${name} (next to enseal)`);
    }
    throw e;
  }
}

async function s3(loc: StorageLocation, env: Environment, allowInsecureHttp: boolean): Promise<ObjectStore> {
  const endpointVar = value(env, 'AWS_ENDPOINT_URL_S3') !== undefined ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
  const endpointText = value(env, endpointVar);
  const endpoint = endpointText === undefined ? undefined : checkEndpoint(endpointText, endpointVar, allowInsecureHttp);
  const region = value(env, 'AWS_REGION') ?? value(env, 'AWS_DEFAULT_REGION') ?? (endpoint === undefined ? undefined : 'us-east-1');
  if (region === undefined) throw usageError('s3:// needs the environment variable AWS_REGION (or AWS_DEFAULT_REGION)');
  const accessKeyId = required(env, 's3', 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = required(env, 's3', 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = value(env, 'AWS_SESSION_TOKEN');
  const { S3Client } = await optionalPeer(() => import('@aws-sdk/client-s3'), '@aws-sdk/client-s3', 's3');
  const { s3Store } = await import('../storage/s3.js');
  const client = new S3Client({
    region,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) },
    ...(endpoint === undefined ? {} : { endpoint: endpoint.href.replace(/\/$/, ''), forcePathStyle: true }),
  });
  return s3Store({ client, bucket: loc.bucket, allowInsecureHttp: endpoint?.protocol === 'http:' });
}

async function oss(loc: StorageLocation, env: Environment, allowInsecureHttp: boolean): Promise<ObjectStore> {
  const endpointText = value(env, 'OSS_ENDPOINT');
  const endpoint = endpointText === undefined ? undefined : checkEndpoint(endpointText, 'OSS_ENDPOINT', allowInsecureHttp);
  const regionText = value(env, 'OSS_REGION');
  if (regionText === undefined && endpoint === undefined) throw usageError('oss:// needs the environment variable OSS_REGION (or OSS_ENDPOINT)');
  const region = regionText === undefined ? undefined : regionText.startsWith('oss-') ? regionText : `oss-${regionText}`;
  const accessKeyId = required(env, 'oss', 'OSS_ACCESS_KEY_ID');
  const accessKeySecret = required(env, 'oss', 'OSS_ACCESS_KEY_SECRET');
  const stsToken = value(env, 'OSS_SESSION_TOKEN');
  const { default: OSS } = await optionalPeer(() => import('ali-oss'), 'ali-oss', 'oss');
  const { ossStore } = await import('../storage/oss.js');
  const client = new OSS({
    bucket: loc.bucket,
    accessKeyId,
    accessKeySecret,
    ...(stsToken === undefined ? {} : { stsToken }),
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint: endpoint.origin }),
    secure: endpoint === undefined || endpoint.protocol === 'https:',
  });
  return ossStore({ client, allowInsecureHttp: endpoint?.protocol === 'http:' });
}

async function folder(loc: StorageLocation): Promise<ObjectStore> {
  const st = await stat(loc.bucket).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) throw new CliError('ERR_IO', `the folder ${quoted(loc.bucket)} of ${quoted(loc.text)} does not exist or is not a directory`);
  const { fsStore } = await import('../storage/fs.js');
  return fsStore(loc.bucket);
}

/**
 * Opens the store of a location.
 * @param loc - the location
 * @param opts - `--allow-insecure-http` and the environment (default `process.env`)
 * @returns the store; for oss, its metadata budget too
 * @throws CliError `ERR_USAGE` (a missing variable), `ERR_IO` (a missing folder); EnsealError
 *   `ERR_INSECURE_TRANSPORT`, `ERR_UNSUPPORTED` (an SDK is not installed)
 * @example
 * ```ts
 * const { store } = await openStore(parseLocation('s3://photos/cat.jpg', 'object'), { allowInsecureHttp: false });
 * ```
 */
export async function openStore(loc: StorageLocation, opts: { allowInsecureHttp: boolean; env?: Environment }): Promise<{ store: ObjectStore; maxMetadataBytes?: number }> {
  const env = opts.env ?? process.env;
  switch (loc.scheme) {
    case 's3':
      return { store: await s3(loc, env, opts.allowInsecureHttp) };
    case 'oss':
      return { store: await oss(loc, env, opts.allowInsecureHttp), maxMetadataBytes: OSS_METADATA_BYTES };
    case 'file':
      return { store: await folder(loc) };
  }
}
