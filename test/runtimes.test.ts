/**
 * Real runtimes: the same node:test smoke file (test/runtimes/smoke.test.mjs) runs unchanged in
 * Node, Bun and Deno (installed from npm as dev dependencies) against the built package, and
 * must pass all of its tests in each.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
const SMOKE = 'test/runtimes/smoke.test.mjs';
const EXPECTED_TESTS = 6;

const runtimes: [string, string, string[], RegExp, RegExp][] = [
  ['node', process.execPath, ['--test', SMOKE], /# pass (\d+)/, /# fail (\d+)/],
  ['bun', bin('bun'), ['test', `./${SMOKE}`], /(\d+) pass/, /(\d+) fail/],
  ['deno', bin('deno'), ['test', '-A', '--no-check', SMOKE], /(\d+) passed/, /(\d+) failed/],
];

beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` (npm ci does)');
});

describe('real runtimes', () => {
  for (const [name, exe, args, passRe, failRe] of runtimes) {
    it(`${name}: every smoke test passes`, () => {
      const r = spawnSync(exe, args, { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
      const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      expect(r.error, `${name} could not start: ${String(r.error)}`).toBeUndefined();
      expect(out, out).toMatch(new RegExp(`runtime=${name} backends=`));
      expect(Number(passRe.exec(out)?.[1]), out).toBe(EXPECTED_TESTS);
      expect(Number(failRe.exec(out)?.[1] ?? 0), out).toBe(0);
      expect(r.status, out).toBe(0);
    });
  }
});
