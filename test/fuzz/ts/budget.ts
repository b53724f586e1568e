/**
 * How long each TypeScript fuzz target runs, and one way to run it: fast-check generates
 * inputs until the time is up (NABLA_FUZZ_SECONDS each, default 15), then a failure is
 * reported with fast-check's seed and shrunk counterexample, and a pass prints how many
 * inputs ran. Set NABLA_FUZZ_SEED to replay a failure's seed.
 */
import fc from 'fast-check';

export const FUZZ_SECONDS = Number(process.env.NABLA_FUZZ_SECONDS ?? 15);
/** vitest's timeout for one target: the budget, plus room to shrink a counterexample. */
export const FUZZ_TIMEOUT = (FUZZ_SECONDS + 60) * 1000;

export async function fuzz<Ts extends [unknown, ...unknown[]]>(name: string, property: fc.IAsyncPropertyWithHooks<Ts> | fc.IPropertyWithHooks<Ts>): Promise<void> {
  const started = Date.now();
  const seed = process.env.NABLA_FUZZ_SEED === undefined ? undefined : Number(process.env.NABLA_FUZZ_SEED);
  const details = await fc.check(property as fc.IAsyncPropertyWithHooks<Ts>, {
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: FUZZ_SECONDS * 1000,
    markInterruptAsFailure: false,
    includeErrorInReport: true,
    ...(seed === undefined ? {} : { seed }),
  });
  const report = fc.defaultReportMessage(details);
  if (details.failed) throw new Error(`fuzz ${name}: ${report}`);
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`fuzz ${name}: ${details.numRuns} inputs in ${seconds.toFixed(1)} s (${Math.round(details.numRuns / seconds)}/s), seed ${details.seed}\n`);
}
