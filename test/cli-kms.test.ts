/**
 * `enseal kms …` on a LocalKms store in the sandbox: create-key, list (table and JSON), rotate,
 * disable and enable, and what they mean for encrypt and decrypt. Key material never appears in
 * any output.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatKeyTable } from '../src/cli/kms-command.js';
import { pseudoRandom } from './helpers.js';
import { Sandbox, expectFailure, expectSuccess, requireBuild, type RunResult } from './cli-harness.js';

let sb: Sandbox;
beforeAll(requireBuild);
beforeEach(() => {
  sb = new Sandbox();
});
afterEach(() => sb.cleanup());

interface ListedKey {
  id: string;
  alias: string | null;
  enabled: boolean;
  primaryVersion: number;
  versions: { version: number; created: string }[];
  created: string;
}

async function createKey(...args: string[]): Promise<string> {
  const r = await sb.run(['kms', 'create-key', ...args]);
  expectSuccess(r);
  sb.secretStore();
  return r.stdout.toString().trim();
}

async function listJson(): Promise<ListedKey[]> {
  const r = await sb.run(['kms', 'list', '--json']);
  expectSuccess(r);
  return JSON.parse(r.stdout.toString()) as ListedKey[];
}

const lines = (r: RunResult): string[] => r.stdout.toString().trimEnd().split('\n');

describe('kms create-key and list', () => {
  it('creates the store (0600) on first use, prints each new id, and lists keys without material', async () => {
    expect(existsSync(sb.at('kms.json'))).toBe(false);
    const a = await createKey('--alias', 'backups');
    const b = await createKey();
    expect(a).toMatch(/^lk-[0-9a-f]{32}$/);
    expect(b).toMatch(/^lk-[0-9a-f]{32}$/);
    expect(b).not.toBe(a);
    expect(statSync(sb.at('kms.json')).mode & 0o777).toBe(0o600);

    const table = await sb.run(['kms', 'list']);
    expectSuccess(table);
    const [head, first, second] = lines(table);
    expect(head).toMatch(/^ID +ALIAS +ENABLED +VERSIONS +CREATED$/);
    expect(first).toMatch(new RegExp(`^${a} +backups +yes +1 +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
    expect(second).toMatch(new RegExp(`^${b} +- +yes +1 +\\d{4}-`));

    const json = await listJson();
    expect(json.map((k) => [k.id, k.alias, k.enabled, k.primaryVersion, k.versions.length])).toEqual([
      [a, 'backups', true, 1, 1],
      [b, null, true, 1, 1],
    ]);
    expect(Object.keys(json[0]!).sort()).toEqual(['alias', 'created', 'enabled', 'id', 'primaryVersion', 'versions']);
    // sb.run already scanned both outputs for the store's master keys (registered by createKey).
    expect(readFileSync(sb.at('kms.json'), 'utf8')).toContain('material');
  });

  it('--store PATH manages another store', async () => {
    const id = (await sb.run(['kms', 'create-key', '--store', 'other.json'])).stdout.toString().trim();
    sb.secretStore(sb.at('other.json'));
    expect(existsSync(sb.at('kms.json'))).toBe(false);
    const r = await sb.run(['kms', 'list', '--json', '--store', 'other.json']);
    expectSuccess(r);
    expect(JSON.parse(r.stdout.toString()).map((k: ListedKey) => k.id)).toEqual([id]);
  });

  it('errors: a taken alias (ERR_KMS_DENIED), an unknown key (ERR_KMS_NOT_FOUND), a malformed alias (ERR_USAGE, no store), no store (ERR_KMS_UNAVAILABLE)', async () => {
    const badAlias = await sb.run(['kms', 'create-key', '--alias', 'lk-nope']);
    expectFailure(badAlias, 'ERR_USAGE', 2);
    expect(existsSync(sb.at('kms.json'))).toBe(false);
    for (const args of [['list'], ['rotate', 'x'], ['disable', 'x'], ['enable', 'x']]) {
      expectFailure(await sb.run(['kms', ...args]), 'ERR_KMS_UNAVAILABLE', 1);
    }
    expect(existsSync(sb.at('kms.json'))).toBe(false);
    await createKey('--alias', 'dup');
    expectFailure(await sb.run(['kms', 'create-key', '--alias', 'dup']), 'ERR_KMS_DENIED', 1);
    expect(await listJson()).toHaveLength(1);
    for (const args of [['rotate', 'nope'], ['disable', 'nope'], ['enable', 'nope']]) {
      expectFailure(await sb.run(['kms', ...args]), 'ERR_KMS_NOT_FOUND', 1);
    }
    for (const args of [[], ['frobnicate'], ['list', 'extra'], ['rotate'], ['rotate', 'a', 'b'], ['list', '--json=yes'], ['create-key', '--store', '']]) {
      expectFailure(await sb.run(['kms', ...args]), 'ERR_USAGE', 2);
    }
  });
});

describe('kms rotate, disable and enable', () => {
  it('rotate: old objects still decrypt, new objects too, and list shows 2 versions', async () => {
    const id = await createKey('--alias', 'data');
    const plain = Buffer.from(pseudoRandom(20_000, 1));
    writeFileSync(sb.at('plain'), plain);
    expectSuccess(await sb.run(['encrypt', '--kms', 'data', 'plain', 'v1.enseal']));
    const rotated = await sb.run(['kms', 'rotate', 'data']);
    expectSuccess(rotated);
    sb.secretStore();
    expect(lines(rotated)).toEqual([expect.stringMatching(new RegExp(`^${id} +data +yes +2 +`))]);
    const [key] = await listJson();
    expect(key!.primaryVersion).toBe(2);
    expect(key!.versions.map((v) => v.version)).toEqual([1, 2]);
    expectSuccess(await sb.run(['encrypt', '--kms', id, 'plain', 'v2.enseal']));
    for (const file of ['v1.enseal', 'v2.enseal']) {
      for (const spec of ['data', 'local']) {
        const r = await sb.run(['decrypt', '--kms', spec, file, '-']);
        expectSuccess(r);
        expect(r.stdout.equals(plain)).toBe(true);
      }
    }
  });

  it('a disabled key fails with ERR_KMS_DISABLED on encrypt and decrypt, and works again once enabled', async () => {
    const id = await createKey('--alias', 'ops');
    const plain = Buffer.from(pseudoRandom(5000, 2));
    writeFileSync(sb.at('plain'), plain);
    expectSuccess(await sb.run(['encrypt', '--kms', 'ops', 'plain', 'sealed']));
    const disabled = await sb.run(['kms', 'disable', id]);
    expectSuccess(disabled);
    expect(lines(disabled)).toEqual([expect.stringMatching(new RegExp(`^${id} +ops +no +1 +`))]);
    expect((await listJson())[0]!.enabled).toBe(false);

    expectFailure(await sb.run(['encrypt', '--kms', 'ops', 'plain', 'again']), 'ERR_KMS_DISABLED', 1);
    for (const spec of ['ops', 'local', id]) {
      const r = await sb.run(['decrypt', '--kms', spec, 'sealed', 'out']);
      expectFailure(r, 'ERR_KMS_DISABLED', 1);
      expect(r.stderr).toContain(id);
    }
    const range = await sb.run(['decrypt', '--kms', 'ops', '--range', '0-9', 'sealed', 'out']);
    expectFailure(range, 'ERR_KMS_DISABLED', 1);
    expect(existsSync(sb.at('again'))).toBe(false);
    expect(existsSync(sb.at('out'))).toBe(false);
    expect(sb.leftovers()).toEqual([]);

    expectSuccess(await sb.run(['kms', 'enable', 'ops']));
    expect((await listJson())[0]!.enabled).toBe(true);
    const r = await sb.run(['decrypt', '--kms', 'ops', 'sealed', '-']);
    expectSuccess(r);
    expect(r.stdout.equals(plain)).toBe(true);
  });

  it('with another usable key, a disabled one does not block decryption; with an unrelated key file, ERR_KMS_DISABLED still names the cause', async () => {
    await createKey('--alias', 'off');
    await createKey('--alias', 'on');
    writeFileSync(sb.at('plain'), 'two keys');
    expectSuccess(await sb.run(['encrypt', '--kms', 'off', '--kms', 'on', 'plain', 'sealed']));
    expectSuccess(await sb.run(['kms', 'disable', 'off']));
    const ok = await sb.run(['decrypt', '--kms', 'local', 'sealed', '-']);
    expectSuccess(ok);
    expect(ok.stdout.toString()).toBe('two keys');
    expectSuccess(await sb.run(['kms', 'disable', 'on']));
    expectSuccess(await sb.run(['keygen', 'aes', '--out', 'k.json']));
    sb.secretBytes(Buffer.from(JSON.parse(readFileSync(sb.at('k.json'), 'utf8')).key, 'base64'));
    expectFailure(await sb.run(['decrypt', '--key', 'k.json', '--kms', 'local', 'sealed', 'out']), 'ERR_KMS_DISABLED', 1);
  });
});

describe('kms list table (unit)', () => {
  it('aligns columns and shows "-" for a key without alias', () => {
    const created = '2026-01-02T03:04:05.000Z';
    const text = formatKeyTable([
      { id: `lk-${'a'.repeat(32)}`, alias: 'x', created, enabled: true, primaryVersion: 1, versions: [{ version: 1, created }] },
      { id: `lk-${'b'.repeat(32)}`, created, enabled: false, primaryVersion: 3, versions: [1, 2, 3].map((version) => ({ version, created })) },
    ]);
    const rows = text.split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[3]).toBe('');
    expect(rows[2]).toBe(`lk-${'b'.repeat(32)}  ${'-'.padEnd(24)}  no       3         ${created}`);
    expect(rows.slice(0, 3).map((r) => r.indexOf('20') > 0 || r.startsWith('ID'))).toEqual([true, true, true]);
  });
});
