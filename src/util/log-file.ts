/**
 * The full output of a tool run (toolchain build, app compile), kept in a file so a
 * failure can show its last lines and say where the rest is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logDir } from './paths.js';

const TAIL_LINES = 25;

export class LogFile {
  readonly path: string;
  private readonly fd: number;
  private readonly tail: string[] = [];

  constructor(name: string) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.path = path.join(logDir(), `${stamp}-${name}.log`);
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
