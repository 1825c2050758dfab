/**
 * Prints the one-line summary CI greps for, last: `tests: N passed, N failed, N skipped`.
 *
 * Skipped counts every test that did not run: `.skip`, `.todo`, tests skipped because a set-up
 * hook failed, and tests still pending when the run ended. Failed counts failed tests, plus one
 * for each suite or file that failed outside a test (a throwing hook, an import error), plus
 * unhandled errors. CI (.ci/run) fails on any failure and on any skip, so a missing tool cannot
 * pass silently.
 */
import type { Reporter, TestModule } from 'vitest/node';

/** The counts of one run (exported for the reporter's own test). */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Counts the tests of a finished run.
 * @param modules - the test files, as vitest reports them
 * @param errors - unhandled errors of the run (each counts as one failure)
 * @returns passed, failed and skipped counts
 * @example
 * ```ts
 * const { passed, failed, skipped } = countTests(modules, errors);
 * ```
 */
export function countTests(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of modules) {
    let failedHere = 0;
    for (const t of m.children.allTests()) {
      const s = t.result().state;
      if (s === 'passed') c.passed++;
      else if (s === 'failed') failedHere++;
      else c.skipped++; // 'skipped' (skip, todo, a failed beforeAll) or 'pending' (never ran)
    }
    // A failing set-up or tear-down hook is a failure of its own (its tests count as skipped).
    for (const suite of m.children.allSuites()) if (suite.errors().length > 0) failedHere++;
    // A file that failed outside any test or suite (import error, a throwing top-level hook).
    if (m.errors().length > 0 || (m.state() === 'failed' && failedHere === 0)) failedHere++;
    c.failed += failedHere;
  }
  c.failed += errors.length;
  return c;
}

/** The closing line, in the one format CI parses. */
export const summaryLine = (c: Counts): string => `tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    process.stdout.write(`${summaryLine(countTests(modules, errors))}\n`);
  }
}
