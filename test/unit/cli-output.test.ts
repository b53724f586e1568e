import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';
import { reportError } from '../../src/cli/report.js';
import { CompileError, ConfigError, ExitCode } from '../../src/util/errors.js';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = '';
  (stream as unknown as PassThrough).on('data', (chunk) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('error report', () => {
  it('prints one message with file, field, details and fix, and returns the exit code', () => {
    const out = capture();
    const code = reportError(
      new ConfigError('nabla.json: unknown field "entyr"', { file: '/a/nabla.json', field: 'entyr', hint: 'did you mean "entry"?' }),
      false,
      out.stream,
    );
    expect(code).toBe(ExitCode.usage);
    expect(out.text()).toBe(
      'nabla-build: error: nabla.json: unknown field "entyr"\n  file:  /a/nabla.json\n  field: entyr\n  fix:   did you mean "entry"?\n',
    );
  });

  it('shows a build log tail and where the full log is', () => {
    const out = capture();
    const code = reportError(new CompileError('the app failed to compile', { details: ['  | x.c:1: error', 'full log: /l.log'] }), false, out.stream);
    expect(code).toBe(ExitCode.build);
    expect(out.text()).toContain('  | x.c:1: error\n  full log: /l.log\n');
  });

  it('an unexpected error is an internal error with exit 1', () => {
    const out = capture();
    expect(reportError(new TypeError('boom'), false, out.stream)).toBe(ExitCode.failure);
    expect(out.text()).toMatch(/^nabla-build: internal error: boom\n/);
  });
});

describe('plain progress', () => {
  it('numbers steps, prefixes their logs and reports DONE/FAILED with times', async () => {
    const out = capture();
    const progress = createProgress('plain', out.stream);
    await progress.step('toolchain c', async (step) => {
      step.log('Step 1/3 : FROM x');
      step.note('cached');
    });
    await expect(
      progress.step('compile', async () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    const lines = out.text().split('\n');
    expect(lines[0]).toBe('#1 toolchain c');
    expect(lines[1]).toBe('#1 Step 1/3 : FROM x');
    expect(lines[2]).toBe('#1 cached');
    expect(lines[3]).toMatch(/^#1 DONE \d+\.\ds {2}cached$/);
    expect(lines[4]).toBe('#2 compile');
    expect(lines[5]).toMatch(/^#2 FAILED \d+\.\ds$/);
  });

  it('quiet prints nothing', async () => {
    const out = capture();
    const progress = createProgress('quiet', out.stream);
    await progress.step('x', async (step) => step.log('y'));
    progress.info('z');
    expect(out.text()).toBe('');
  });

  it('the live view redraws steps with a mark and elapsed time', async () => {
    const out = capture();
    const progress = createProgress('tty', out.stream);
    await progress.step('write image', async (step) => step.note('sha256:abc'));
    progress.close();
    expect(out.text()).toMatch(/✔.* write image {2}sha256:abc .*\d+\.\ds/);
  });
});
