/**
 * .ci/run: it runs exactly `npm ci` then `npm test`, prints the closing line last, and exits
 * non-zero on any failure or any skip. Checked with a stand-in `npm` first on PATH (it records
 * its arguments and prints a given closing line), so nothing is installed or run for real.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CI = fileURLToPath(new URL('../.ci/run', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'enseal-ci-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs .ci/run with a fake npm whose `npm test` prints `line` and exits `status`. */
function ciRun(line: string, status: number, ciStatus = 0): { status: number | null; lines: string[]; calls: string[] } {
  const calls = join(dir, `calls-${Math.random().toString(36).slice(2)}`);
  const npm = join(dir, 'npm');
  writeFileSync(
    npm,
    `#!/usr/bin/env bash
echo "$*" >> "${calls}"
if [ "$1" = ci ]; then exit ${ciStatus}; fi
echo "some vitest output"
printf '%s\\n' ${JSON.stringify(line)}
exit ${status}
`,
  );
  chmodSync(npm, 0o755);
  const r = spawnSync('bash', [CI], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` } });
  let recorded = '';
  try {
    recorded = readFileSync(calls, 'utf8');
  } catch {
    // npm was never called
  }
  return { status: r.status, lines: r.stdout.trimEnd().split('\n'), calls: recorded.trimEnd().split('\n') };
}

describe('.ci/run', () => {
  it('runs npm ci then npm test, and passes a clean run', () => {
    const r = ciRun('tests: 12 passed, 0 failed, 0 skipped', 0);
    expect(r.calls).toEqual(['ci --no-audit --no-fund', 'test']);
    expect(r.lines.at(-1)).toBe('tests: 12 passed, 0 failed, 0 skipped');
    expect(r.status).toBe(0);
  });

  it('fails on a skip even when npm test succeeded', () => {
    const r = ciRun('tests: 12 passed, 0 failed, 3 skipped', 0);
    expect(r.lines.at(-1)).toBe('tests: 12 passed, 0 failed, 3 skipped');
    expect(r.status).toBe(1);
  });

  it('fails on a failure, with the closing line last', () => {
    const r = ciRun('tests: 11 passed, 1 failed, 0 skipped', 1);
    expect(r.lines.at(-1)).toBe('tests: 11 passed, 1 failed, 0 skipped');
    expect(r.status).not.toBe(0);
  });

  it('reports one failure when npm test ends without a closing line (e.g. the pretest build failed)', () => {
    const r = ciRun('build failed', 1);
    expect(r.lines.at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
    expect(r.status).not.toBe(0);
  });

  it('stops after a failed npm ci', () => {
    const r = ciRun('tests: 1 passed, 0 failed, 0 skipped', 0, 1);
    expect(r.calls).toEqual(['ci --no-audit --no-fund']);
    expect(r.lines.at(-1)).toBe('tests: 0 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });
});
