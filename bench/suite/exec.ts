/** Runs the tools the bench drives (docker, the CLI) and says what failed, with their last words. */
import { spawn } from 'node:child_process';

export class BenchError extends Error {}

export interface RunOptions {
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Each line of stdout, as it comes (the whole stdout is still returned). */
  onLine?: (line: string) => void;
  /** Ends the process (SIGKILL) after this long, and fails. */
  timeoutMs?: number;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!options.onLine) return;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (error) => reject(new BenchError(`${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (partial && options.onLine) options.onLine(partial);
      if (code === 0) return resolve(stdout);
      const why = signal ? `was killed (${signal}${timer && signal === 'SIGKILL' ? `, after ${options.timeoutMs! / 1000} s` : ''})` : `exited with ${code}`;
      const last = stderr.trim().split('\n').slice(-3).join(' / ');
      reject(new BenchError(`${command} ${args.slice(0, 3).join(' ')} … ${why}${last ? `: ${last}` : ''}`));
    });
  });
}

export const docker = (args: readonly string[], options?: RunOptions) => run('docker', args, options);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
