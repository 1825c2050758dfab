/**
 * The progress bar: percentage of IN read and throughput, redrawn on stderr at most 10 times
 * a second and erased at the end. Shown only when stderr is a terminal and IN is a regular
 * file larger than 16 MiB ({@link shouldShowProgress}).
 *
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Inputs up to this size (16 MiB) get no progress bar. */
export const PROGRESS_MIN_SIZE = 16 * 1024 * 1024;
/** Minimum time between two redraws (at most 10 per second). */
export const PROGRESS_INTERVAL_MS = 100;
/** Returns the cursor to column 0 and erases the line. */
export const CLEAR_LINE = '\r\x1b[K';

/**
 * Whether to draw a progress bar.
 * @param isTTY - whether stderr is a terminal (`process.stderr.isTTY`)
 * @param size - IN's size if it is a regular file, else `undefined`
 * @returns true only for a terminal and a regular file larger than 16 MiB
 */
export function shouldShowProgress(isTTY: boolean | undefined, size: number | undefined): boolean {
  return isTTY === true && size !== undefined && size > PROGRESS_MIN_SIZE;
}

/**
 * One progress line (without control characters).
 * @param done - bytes read so far
 * @param total - IN's size
 * @param elapsedMs - time since the start
 * @returns e.g. `enseal:  42.0%  123.4 MB/s`
 */
export function formatProgress(done: number, total: number, elapsedMs: number): string {
  const percent = total > 0 ? Math.min(100, (done / total) * 100) : 100;
  const mbPerSecond = elapsedMs > 0 ? done / 1e6 / (elapsedMs / 1000) : 0;
  return `enseal: ${percent.toFixed(1).padStart(5)}% ${mbPerSecond.toFixed(1).padStart(7)} MB/s`;
}

/**
 * A pass-through stream that counts the bytes going through it and draws the progress line.
 * @param total - IN's size
 * @param write - where to draw (e.g. `(s) => process.stderr.write(s)`)
 * @param now - clock in milliseconds (injectable for tests)
 * @returns the stream; the line is erased when it ends or is destroyed
 */
export function progressStream(total: number, write: (text: string) => void, now: () => number = Date.now): Transform {
  const started = now();
  let done = 0;
  let lastDraw = started; // first draw after one interval: quick jobs draw nothing
  let drawn = false;
  const clear = (): void => {
    if (drawn) write(CLEAR_LINE);
    drawn = false;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
      done += chunk.length;
      const t = now();
      if (t - lastDraw >= PROGRESS_INTERVAL_MS) {
        write(`\r${formatProgress(done, total, t - started)}\x1b[K`);
        lastDraw = t;
        drawn = true;
      }
      cb(null, chunk);
    },
    flush(cb: TransformCallback): void {
      clear();
      cb();
    },
    destroy(err: Error | null, cb: (error: Error | null) => void): void {
      clear();
      cb(err);
    },
  });
}
