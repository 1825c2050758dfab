/**
 * Discovery: the explicit, unwrap-only opt-in of `kms({ client, discovery })` (see `./kms.ts`).
 * It claims every stanza of its client type that the client can own (`ownsKeyId`) and, with a
 * filter, whose key is in the listed AWS accounts/regions (`keyScope`), and decrypts it under the
 * stanza's own key id. It has no key, so it cannot be a recipient.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import type { GeneratedDataKey, KeyProvider, Stanza, WrapContext } from './provider.js';
import type { KmsClient } from './kms-client.js';
import { decryptStanza, type KmsCallLedger } from './kms-unwrap.js';

/** A validated discovery filter (both lists optional, each non-empty when present). */
export interface DiscoveryScope {
  /** Accepted accounts (AWS 12-digit ids). */
  readonly accounts?: readonly string[];
  /** Accepted regions. */
  readonly regions?: readonly string[];
}

const ACCOUNT_RE = /^\d{12}$/;
const REGION_RE = /^[a-z]{2}(?:-[a-z0-9]+)+$/;

function checkList(v: unknown, name: string, re: RegExp, example: string): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) throw new TypeError(`"discovery.${name}" expected a non-empty array, got ${escapeControl(JSON.stringify(v) ?? String(v))}`);
  for (const x of v) {
    if (typeof x !== 'string' || !re.test(x)) throw new TypeError(`"discovery.${name}" expected entries such as ${example}, got ${escapeControl(JSON.stringify(x) ?? String(x))}`);
  }
  return [...v] as string[];
}

/**
 * Validates the `discovery` option.
 * @param v - the option as given
 * @param client - the client (a filter needs its `keyScope`)
 * @returns `undefined` for strict (`undefined` or `false`), else the filter (empty for `true`)
 * @throws TypeError for anything else, a malformed list, or a filter the client cannot apply
 * @example
 * ```ts
 * discoveryOf({ accounts: ['111122223333'] }, awsClient); // { accounts: ['111122223333'] }
 * discoveryOf(undefined, client); // undefined: strict
 * ```
 */
export function discoveryOf(v: unknown, client: KmsClient): DiscoveryScope | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('"discovery" expected true or { accounts?, regions? }');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'accounts' && k !== 'regions');
  if (unknown.length > 0) throw new TypeError(`"discovery" has unknown option ${escapeControl(unknown[0])} (expected accounts, regions)`);
  const accounts = checkList(o.accounts, 'accounts', ACCOUNT_RE, '"111122223333"');
  const regions = checkList(o.regions, 'regions', REGION_RE, '"eu-west-1"');
  if ((accounts !== undefined || regions !== undefined) && typeof client.keyScope !== 'function') {
    throw new TypeError(`"discovery" accounts/regions need key ids that name an account and region (AWS key ARNs); "${escapeControl(client.type)}" key ids do not: use discovery: true`);
  }
  return { ...(accounts === undefined ? {} : { accounts }), ...(regions === undefined ? {} : { regions }) };
}

/**
 * The unwrap-only provider of `kms({ client, discovery })`.
 * @param client - the KMS client
 * @param type - the stanza type (`kms-<client type>`)
 * @param filter - the validated filter
 * @returns a provider whose `wrap`/`generateDataKey` throw a TypeError
 * @example
 * ```ts
 * const any = discoveryProvider(client, 'kms-aws', {});
 * ```
 */
export function discoveryProvider(client: KmsClient, type: string, filter: DiscoveryScope): KeyProvider {
  const restricted = filter.accounts !== undefined || filter.regions !== undefined;
  const ledger: KmsCallLedger = new WeakMap();
  const scopes = [filter.accounts === undefined ? '' : `accounts ${filter.accounts.join(',')}`, filter.regions === undefined ? '' : `regions ${filter.regions.join(',')}`].filter((x) => x !== '');
  const description = `${type}:*${scopes.length === 0 ? '' : ` (${scopes.join('; ')})`}`;
  const refuse = (): never => {
    throw new TypeError(`${description}: a discovery provider only unwraps; name a key to encrypt: kms({ client, keyId })`);
  };

  const accepts = async (keyId: string): Promise<boolean> => {
    if (keyId === '') return false;
    if (client.ownsKeyId !== undefined && (await client.ownsKeyId(keyId)) !== true) return false;
    if (!restricted) return true;
    const scope = client.keyScope?.(keyId);
    if (scope === undefined) return false;
    if (filter.accounts !== undefined && !filter.accounts.includes(scope.account)) return false;
    return filter.regions === undefined || filter.regions.includes(scope.region);
  };

  return {
    description,
    async generateDataKey(): Promise<GeneratedDataKey> {
      return refuse();
    },
    async wrap(): Promise<Stanza> {
      return refuse();
    },
    async unwrap(stanza: Stanza, ctx: WrapContext): Promise<Uint8Array | null> {
      const { type: stanzaType, keyId, params, wrapped } = stanza;
      if (stanzaType !== type || typeof keyId !== 'string' || !(await accepts(keyId))) return null;
      return decryptStanza(client, type, `${type}:${escapeControl(keyId)}`, keyId, params, wrapped, ctx, ledger);
    },
  };
}
