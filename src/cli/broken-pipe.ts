/**
 * A reader that goes away (`enseal decrypt x - | head -c 1`) is not a failure of enseal: the
 * command stops quietly with status 0 — no stack trace, no `enseal: …` line — as `cat` and
 * `gzip -dc` do once their reader is gone. Node ignores SIGPIPE, so the reader's exit shows up
 * as an `EPIPE` error on the write; this module recognises it and keeps an unhandled `EPIPE` on
 * stdout (emitted after the command finished writing) from crashing the process.
 *
 * Nothing unauthenticated reaches the reader either way: decryption releases a chunk only after
 * its tag verified, and a broken pipe only stops the job early.
 *
 * @module
 */

/**
 * Whether an error is a write to a pipe (or socket) whose reader has gone.
 * @param e - what was thrown
 * @returns true for a Node.js system error with code `EPIPE`
 * @example
 * ```ts
 * if (isBrokenPipe(e)) return 0; // the reader has gone
 * ```
 */
export function isBrokenPipe(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 'EPIPE';
}

/**
 * Installs an `error` listener on stdout that swallows `EPIPE` (reported once, to `onOther`,
 * for anything else) so a late broken pipe cannot crash the process with a stack trace.
 * @param stdout - the stream (default `process.stdout`)
 * @param onOther - called with any other stdout error
 * @returns a function that removes the listener
 * @example
 * ```ts
 * const release = guardStdout();
 * try { await run() } finally { release() }
 * ```
 */
export function guardStdout(stdout: NodeJS.WriteStream | NodeJS.WritableStream = process.stdout, onOther: (e: Error) => void = () => undefined): () => void {
  const listener = (e: Error): void => {
    if (!isBrokenPipe(e)) onOther(e);
  };
  stdout.on('error', listener);
  return () => {
    stdout.removeListener('error', listener);
  };
}
