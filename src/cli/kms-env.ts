/**
 * Cloud KMS clients configured from the environment, for `--kms aws:…`, `--kms alibaba:…` and
 * `--kms vault:…`:
 *
 * ```
 * aws      AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *          optional AWS_SESSION_TOKEN; endpoint override ENSEAL_AWS_KMS_ENDPOINT
 * alibaba  ALIBABA_CLOUD_REGION_ID, ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
 *          optional ALIBABA_CLOUD_SECURITY_TOKEN; endpoint override ENSEAL_ALIBABA_KMS_ENDPOINT
 * vault    VAULT_ADDR, VAULT_TOKEN, optional VAULT_NAMESPACE; Transit mount
 *          ENSEAL_VAULT_TRANSIT_MOUNT (default "transit"); ENSEAL_VAULT_DERIVED=1 for keys created
 *          with derived=true (the context is bound by key derivation; otherwise it is bound as
 *          AEAD associated data)
 * all      ENSEAL_KMS_ALLOW_INSECURE_HTTP=1 allows plain http: to a loopback host (for tests and
 *          local emulators only); otherwise every endpoint must be https:
 * ```
 * An empty variable counts as unset. A missing one is `ERR_USAGE` naming the variable; values
 * are never printed.
 *
 * @module
 */
import type { KmsClient } from '../keys/kms.js';
import { alibabaKms } from '../kms/alibaba.js';
import { awsKms } from '../kms/aws.js';
import { vaultTransit } from '../kms/vault.js';
import { usageError } from './cli-error.js';

/** The cloud KMSs configured from the environment. */
export type CloudKmsName = 'aws' | 'alibaba' | 'vault';

/** Environment variables, as `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The variable that allows loopback `http:` endpoints (tests and local emulators only). */
export const ALLOW_INSECURE_HTTP_ENV = 'ENSEAL_KMS_ALLOW_INSECURE_HTTP';

const value = (env: Environment, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

function required(env: Environment, flag: string, name: string, alternative?: string): string {
  const v = value(env, name) ?? (alternative === undefined ? undefined : value(env, alternative));
  if (v === undefined) {
    throw usageError(`${flag} needs the environment variable ${name}${alternative === undefined ? '' : ` (or ${alternative})`}`);
  }
  return v;
}

/** Runs a client factory; its TypeError/RangeError (bad region, endpoint…) becomes ERR_USAGE. */
function configure(flag: string, make: () => KmsClient): KmsClient {
  try {
    return make();
  } catch (e) {
    // The library's messages name the option and show only non-secret values (region, origin).
    if (e instanceof TypeError || e instanceof RangeError) throw usageError(`${flag}: ${e.message}`);
    throw e;
  }
}

/**
 * Creates the client of a cloud KMS from the environment.
 * @param kms - which KMS
 * @param env - the environment (default `process.env`)
 * @param flag - how the command line named this KMS, for errors (default `--kms NAME`)
 * @returns the client
 * @throws CliError `ERR_USAGE` naming a missing variable, or for a malformed region or endpoint
 * @example
 * ```ts
 * const client = cloudKmsClient('vault'); // VAULT_ADDR, VAULT_TOKEN
 * ```
 */
export function cloudKmsClient(kms: CloudKmsName, env: Environment = process.env, flag = `--kms ${kms}`): KmsClient {
  const allowInsecureHttp = env[ALLOW_INSECURE_HTTP_ENV] === '1';
  switch (kms) {
    case 'aws': {
      const region = required(env, flag, 'AWS_REGION', 'AWS_DEFAULT_REGION');
      const accessKeyId = required(env, flag, 'AWS_ACCESS_KEY_ID');
      const secretAccessKey = required(env, flag, 'AWS_SECRET_ACCESS_KEY');
      const sessionToken = value(env, 'AWS_SESSION_TOKEN');
      const endpoint = value(env, 'ENSEAL_AWS_KMS_ENDPOINT');
      return configure(flag, () => awsKms({ region, credentials: { accessKeyId, secretAccessKey, sessionToken }, endpoint, allowInsecureHttp }));
    }
    case 'alibaba': {
      const regionId = required(env, flag, 'ALIBABA_CLOUD_REGION_ID');
      const accessKeyId = required(env, flag, 'ALIBABA_CLOUD_ACCESS_KEY_ID');
      const accessKeySecret = required(env, flag, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET');
      const securityToken = value(env, 'ALIBABA_CLOUD_SECURITY_TOKEN');
      const endpoint = value(env, 'ENSEAL_ALIBABA_KMS_ENDPOINT');
      return configure(flag, () => alibabaKms({ regionId, credentials: { accessKeyId, accessKeySecret, securityToken }, endpoint, allowInsecureHttp }));
    }
    case 'vault': {
      const address = required(env, flag, 'VAULT_ADDR');
      const token = required(env, flag, 'VAULT_TOKEN');
      const namespace = value(env, 'VAULT_NAMESPACE');
      const mount = value(env, 'ENSEAL_VAULT_TRANSIT_MOUNT') ?? 'transit';
      const derived = value(env, 'ENSEAL_VAULT_DERIVED');
      if (derived !== undefined && derived !== '0' && derived !== '1') throw usageError(`${flag}: ENSEAL_VAULT_DERIVED expects 1 or 0`);
      return configure(flag, () => vaultTransit({ address, token, namespace, mount, derived: derived === '1', allowInsecureHttp }));
    }
  }
}
