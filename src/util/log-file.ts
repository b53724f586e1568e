/**
 * The full output of a tool run (toolchain build, app compile), kept in a file so a
 * failure can show its last lines and say where the rest is.
 */
import fs from 'node:fs';
import path from 'node:path';

const TAIL_LINES = 25;

export class LogFile {
  readonly path: string;
  private readonly fd: number;
  private readonly tail: string[] = [];

  /** dir: the folder for logs (made if missing), kept after the run so a failure can be read in full. */
  constructor(dir: string, name: string) {
    fs.mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.path = path.join(dir, `${stamp}-${name}.log`);
    this.fd = fs.openSync(this.path, 'w');
  }

  write(line: string): void {
    fs.writeSync(this.fd, line + '\n');
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** The last lines, then where the full log is: the `details` of a NablaError. */
  summary(): string[] {
    return [...this.tail.map((line) => `  | ${line}`), `full log: ${this.path}`];
  }
}
