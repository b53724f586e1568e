/** What `nabla-compile` prints: shown live in the step, kept in a log file for a failure report. */
import { CompileError } from '../util/errors.js';
import { LogFile } from '../util/log-file.js';
import type { Step } from '../util/progress.js';
import type { CompileJob } from './types.js';

export class CompileOutput {
  private readonly log: LogFile;

  constructor(
    private readonly job: CompileJob,
    private readonly step: Step,
    logDir: string,
  ) {
    this.log = new LogFile(logDir, `compile-${job.toolchain}`);
  }

  line(text: string): void {
    this.log.write(text);
    this.step.log(text);
  }

  /** The error for a compile that exited with `exit`: its last lines and where the rest is. */
  failed(exit: number | string): CompileError {
    return new CompileError(`the app failed to compile (nabla-compile exited with ${exit})`, {
      file: this.job.appDir,
      hint: 'fix the errors shown above and build again',
      details: this.log.summary(),
    });
  }

  close(): void {
    this.log.close();
  }
}
