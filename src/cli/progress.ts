/**
 * Progress renderers, all on stderr: a live step view with elapsed times on a TTY
 * (`--progress=tty`), one line per event for CI logs (`--progress=plain`), or nothing
 * (`--quiet`). stdout stays free for the build's result.
 */
import type { Progress, Step } from '../util/progress.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'quiet';

/** The live view on screen, if any: messages from outside a step must go through it. */
let live: LiveProgress | undefined;

/** Prints a line on stderr without breaking a live view (e.g. "interrupted" on Ctrl-C). */
export function notice(message: string): void {
  if (live) live.info(message);
  else process.stderr.write(`${message}\n`);
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Progress & { close(): void } {
  const resolved = mode === 'auto' ? (stream.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain') : mode;
  if (resolved === 'tty') return (live = new LiveProgress(stream));
  if (resolved === 'plain') return new PlainProgress(stream);
  return { step: (_name, work) => work({ log() {}, note() {} }), info() {}, close() {} };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** `#2 compile c app` / `#2 <log line>` / `#2 DONE 3.1s`: greppable, like buildkit's plain mode. */
class PlainProgress implements Progress {
  private next = 1;
  constructor(private readonly out: NodeJS.WriteStream) {}

  async step<T>(name: string, work: (step: Step) => Promise<T>): Promise<T> {
    const id = `#${this.next++}`;
    const started = Date.now();
    let note = '';
    this.out.write(`${id} ${name}\n`);
    const step: Step = {
      log: (line) => this.out.write(`${id} ${line}\n`),
      note: (text) => {
        note = text;
        this.out.write(`${id} ${text}\n`);
      },
    };
    try {
      const result = await work(step);
      this.out.write(`${id} DONE ${seconds(Date.now() - started)}${note ? `  ${note}` : ''}\n`);
      return result;
    } catch (error) {
      this.out.write(`${id} FAILED ${seconds(Date.now() - started)}\n`);
      throw error;
    }
  }

  info(message: string): void {
    this.out.write(`${message}\n`);
  }

  close(): void {}
}

interface LiveStep {
  name: string;
  started: number;
  ended?: number;
  failed?: boolean;
  note: string;
  recent: string[];
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const RECENT_LINES = 4;

/** Redraws the steps in place: finished ones with ✔/✖ and their time, running ones with their last log lines. */
class LiveProgress implements Progress {
  private readonly steps: LiveStep[] = [];
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WriteStream) {}

  async step<T>(name: string, work: (step: Step) => Promise<T>): Promise<T> {
    const live: LiveStep = { name, started: Date.now(), note: '', recent: [] };
    this.steps.push(live);
    this.timer ??= setInterval(() => this.draw(), 100);
    this.draw();
    const step: Step = {
      log: (line) => {
        live.recent.push(line.replace(/\s+$/, ''));
        if (live.recent.length > RECENT_LINES) live.recent.shift();
      },
      note: (text) => {
        live.note = text;
      },
    };
    try {
      return await work(step);
    } catch (error) {
      live.failed = true;
      throw error;
    } finally {
      live.ended = Date.now();
      this.draw();
    }
  }

  info(message: string): void {
    this.clear();
    this.out.write(`${message}\n`);
    this.draw();
  }

  close(): void {
    if (live === this) live = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.drawn = 0; // what is on screen now stays
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\r\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const width = Math.max(40, (this.out.columns ?? 80) - 1);
    const fit = (text: string) => (text.length > width ? text.slice(0, width - 1) + '…' : text);
    const lines: string[] = [];
    this.frame++;
    for (const s of this.steps) {
      const running = s.ended === undefined;
      const icon = running ? `\x1b[36m${SPINNER[this.frame % SPINNER.length]}\x1b[0m` : s.failed ? '\x1b[31m✖\x1b[0m' : '\x1b[32m✔\x1b[0m';
      const time = seconds((s.ended ?? Date.now()) - s.started);
      lines.push(`${icon} ${fit(`${s.name}${s.note ? `  ${s.note}` : ''}`)} \x1b[2m${time}\x1b[0m`);
      if (running) for (const line of s.recent) lines.push(`\x1b[2m  │ ${fit(line)}\x1b[0m`);
    }
    this.clear();
    if (lines.length > 0) this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
