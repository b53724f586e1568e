/**
 * What build code reports while it works. The CLI supplies a renderer (live TTY view,
 * plain lines for CI logs, or quiet); library code and tests can pass `silentProgress`.
 * Progress and logs go to stderr; stdout carries only results.
 */
export interface Step {
  /** One line of output from a tool the step runs (compiler, Dockerfile step). */
  log(line: string): void;
  /** A short status shown beside the step's name, e.g. "cached" or an image tag. */
  note(text: string): void;
}

export interface Progress {
  /** Runs `work` as a named step, timing it and marking it done or failed. */
  step<T>(name: string, work: (step: Step) => Promise<T>): Promise<T>;
  /** A message that is not a step (warnings, hints). */
  info(message: string): void;
}

const silentStep: Step = { log() {}, note() {} };

export const silentProgress: Progress = {
  step: (_name, work) => work(silentStep),
  info() {},
};
