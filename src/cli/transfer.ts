/**
 * Runs one streaming job: IN → (progress bar) → transform → OUT, with `pipeline` for
 * backpressure (constant memory) and error propagation. OUT is committed only when every
 * stage succeeded, and aborted otherwise.
 *
 * @module
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openInput, openOutput, type Output, type OutputOptions } from './io.js';
import { progressStream, shouldShowProgress } from './progress.js';

/**
 * Pipes `source` into `output` and commits it, or aborts it on any failure.
 * @param stages - the source and any transforms
 * @param output - an opened output (owned: committed or aborted here)
 * @throws whatever a stage threw (after aborting the output)
 */
export async function pipeToOutput(stages: readonly (Readable | Duplex)[], output: Output): Promise<void> {
  try {
    await pipeline([...stages, output.stream] as (Readable | Writable)[]);
    await output.commit();
  } catch (e) {
    await output.abort();
    throw e;
  }
}

/**
 * Streams IN through a transform to OUT.
 * @param inPath - file path or `-`
 * @param outPath - file path or `-`
 * @param makeTransform - creates the transform once IN and OUT are open
 * @param outputOptions - how OUT is opened (`followSymlink` for `--force`)
 * @throws EnsealError from the transform; CliError and system errors for I/O
 */
export async function transfer(inPath: string, outPath: string, makeTransform: () => Duplex, outputOptions: OutputOptions = {}): Promise<void> {
  const input = await openInput(inPath);
  let output: Output;
  try {
    output = await openOutput(outPath, outputOptions);
  } catch (e) {
    input.stream.destroy();
    throw e;
  }
  const stages: (Readable | Duplex)[] = [input.stream];
  if (input.size !== undefined && shouldShowProgress(process.stderr.isTTY, input.size)) {
    stages.push(progressStream(input.size, (text) => process.stderr.write(text)));
  }
  stages.push(makeTransform());
  await pipeToOutput(stages, output);
}
