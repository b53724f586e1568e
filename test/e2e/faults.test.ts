/**
 * Faults raised by the app's own code (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP), under a
 * plain `docker run`: the tender routes them to the libOS, which gives the app's handler
 * what Linux would (siginfo, the faulting registers, its signal stack, SA_* flags and
 * masks) or ends the unikernel with 128 + the signal. A C app (relinked) runs one case per
 * container (test/fixtures/faults-c); a Go program (trap path) recovers nil dereferences,
 * and net/http keeps serving after a handler's panic (test/fixtures/faults-go). Hostile
 * handlers and signal stacks get nothing more of the host: a forbidden call still dies by
 * SIGSYS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { LoadedImages, runImage } from '../helpers/docker.js';

const C_IMAGE = 'nabla-e2e/faults-c:1';
/** The same C app with nabla.json's "heap": "paged" (a C app's heap is flat by default). */
const C_PAGED_IMAGE = 'nabla-e2e/faults-c-paged:1';
const GO_IMAGE = 'nabla-e2e/faults-go:1';
const images = new LoadedImages();
const work = tempDir('nabla-e2e-faults-');

beforeAll(async () => {
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'faults-c');
  await images.build(fixture, C_IMAGE);
  const paged = path.join(work, 'faults-c');
  fs.cpSync(fixture, paged, { recursive: true });
  fs.writeFileSync(path.join(paged, 'nabla.json'), '{"heap": "paged"}\n');
  await images.build(paged, C_PAGED_IMAGE);
  await images.build(path.join(repoRoot, 'test', 'fixtures', 'faults-go'), GO_IMAGE);
});
afterAll(async () => {
  await images.removeAll();
  fs.rmSync(work, { recursive: true, force: true });
});

const run = async (image: string, name: string) => {
  const result = await runImage(image, name);
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
};
const lines = (text: string) => text.split('\n').filter((line) => line !== '');
/** What every handled fault's line ends with, on the signal stack, the signal blocked only while it runs. */
const ON_ALTSTACK = 'on_altstack=1 uc_stack=altstack blocked_in_handler=1 usr1_blocked_in_handler=0 blocked_before=0';

describe('a C app (relinked): its handlers get what Linux gives them', () => {
  it('each fault signal: si_code, si_addr, trapno, err, cr2, on the sigaltstack; a changed rip is where it resumes', async () => {
    const result = await run(C_IMAGE, 'each');
    expect(lines(result.stdout)).toEqual([
      `SIGSEGV si_signo=11 si_code=1 si_addr=0 trapno=14 err=4 cr2=si_addr ${ON_ALTSTACK}`, // SEGV_MAPERR, a user read
      `SIGSEGV si_signo=11 si_code=2 si_addr=text trapno=14 err=7 cr2=si_addr ${ON_ALTSTACK}`, // SEGV_ACCERR, a write
      `SIGFPE si_signo=8 si_code=1 si_addr=ip trapno=0 err=0 ${ON_ALTSTACK}`, // FPE_INTDIV
      `SIGILL si_signo=4 si_code=2 si_addr=ip trapno=6 err=0 ${ON_ALTSTACK}`, // ILL_ILLOPN
      `SIGTRAP si_signo=5 si_code=128 si_addr=0 trapno=3 err=0 ${ON_ALTSTACK}`, // SI_KERNEL (int3)
      `SIGBUS si_signo=7 si_code=1 si_addr=0 trapno=17 err=0 ${ON_ALTSTACK}`, // BUS_ADRALN (EFLAGS.AC)
      'SIGSEGV blocked after: 0',
      'resumed, handled 6',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('without SA_ONSTACK the handler runs on the thread\'s own stack', async () => {
    const result = await run(C_IMAGE, 'no-onstack');
    expect(result.stdout).toContain('on_altstack=0 uc_stack=altstack');
    expect(result.stdout).toContain('resumed, handled 1');
    expect(result.exitCode).toBe(0);
  });

  it('sa_mask is blocked while the handler runs, and the old mask comes back', async () => {
    const result = await run(C_IMAGE, 'sa-mask');
    expect(result.stdout).toContain('usr1_blocked_in_handler=1');
    expect(lines(result.stdout).slice(1)).toEqual(['SIGUSR1 blocked after: 0', 'resumed, handled 1']);
    expect(result.exitCode).toBe(0);
  });

  it('SA_NODEFER: a fault inside the handler nests', async () => {
    const result = await run(C_IMAGE, 'nodefer');
    expect(lines(result.stdout)).toEqual([
      'in the handler, depth 1',
      'in the handler, depth 2',
      expect.stringMatching(/^SIGSEGV si_signo=11 si_code=1 .* blocked_in_handler=0 /),
      expect.stringMatching(/^SIGSEGV si_signo=11 si_code=1 .* blocked_in_handler=0 /),
      'resumed, handled 2',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('a handler without SA_SIGINFO, left by siglongjmp', async () => {
    const result = await run(C_IMAGE, 'no-siginfo');
    expect(lines(result.stdout)).toEqual(['plain handler got 8', 'back in main, SIGFPE blocked: 0']);
    expect(result.exitCode).toBe(0);
  });

  it('SA_RESETHAND: the second fault takes the default action', async () => {
    const result = await run(C_IMAGE, 'resethand');
    expect(lines(result.stdout)).toEqual([expect.stringMatching(/^SIGSEGV si_signo=11 /), 'resumed, handled 1']);
    expect(result.exitCode).toBe(139);
  });

  it('a stack overflow into the main stack\'s guard page reaches a handler on the sigaltstack', async () => {
    const result = await run(C_IMAGE, 'overflow');
    expect(lines(result.stdout)).toEqual([
      'stack overflow: SIGSEGV si_code=2 on_altstack=1',
      'recovered from the overflow, SIGSEGV blocked: 0',
    ]);
    expect(result.exitCode).toBe(0);
  });
});

describe('a C app: where Linux kills, the unikernel dies by the signal', () => {
  it.each([
    ['default-segv', 139],
    ['default-fpe', 136],
    ['default-ill', 132],
    ['default-trap', 133],
    ['default-bus', 135],
    ['default-ignored-segv', 139], // SIG_IGN does not hold for a fault
    ['default-blocked-segv', 139], // nor a blocked signal, handler or not
    ['default-blocked-fpe', 136],
    ['fault-in-handler', 139], // the handler faults with its signal blocked
    ['sa-mask-in-handler', 139], // the handler faults with a signal its sa_mask blocks
    ['overflow-no-onstack', 139], // no stack left for the frame
    ['altstack-unmapped', 139], // a sigaltstack the frame cannot be written to
    ['altstack-text', 139],
    ['altstack-trap-stack', 139], // the libOS's own signal stack: refused
  ])('%s: exit %i, no handler, nothing after', async (name, status) => {
    const result = await run(C_IMAGE, name);
    expect(result.stdout).not.toContain('SURVIVED');
    expect(result.stdout).not.toContain('HANDLER RAN');
    expect(result.stdout).not.toContain('resumed');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(status);
  });

  it('a fault in the handler stops at the first level', async () => {
    const result = await run(C_IMAGE, 'fault-in-handler');
    expect(lines(result.stdout)).toEqual(['in the handler, depth 1']);
  });

  it.each([
    ['fault-in-hypercall-code', '0x10000'], // the libOS's hypercall code, entered by the app with a bad stack
    ['fault-in-libos', '0x10'], // read() into a bad pointer: the libOS's copy faults
  ])('%s: one line naming the libOS, 139, the app\'s handler never runs', async (name, addr) => {
    const result = await run(C_IMAGE, name);
    expect(result.stdout).not.toContain('HANDLER RAN');
    expect(result.stdout).not.toContain('SURVIVED');
    expect(result.stderr).toMatch(
      new RegExp(`^nabla libOS: SIGSEGV \\(address ${addr}\\) at ip 0x[0-9a-f]+ in the libOS's own code: stopping$`),
    );
    expect(result.exitCode).toBe(139);
  });
});

describe('guard pages over memory the app freed (the libOS keeps freed pages for reuse), under a paged heap', () => {
  it('a PROT_NONE mapping over freed pages faults from the next system call on; what is made usable reads zero', async () => {
    const result = await run(C_PAGED_IMAGE, 'guard-over-freed');
    expect(lines(result.stdout)).toEqual([
      'same pages: 1',
      'SIGSEGV at the guard: 1',
      'SIGSEGV at the guard: 1',
      'made usable: 0 bytes not zero',
      'SIGSEGV at the guard: 1',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('threads made and joined one after another: the last one\'s guard page faults', async () => {
    const result = await run(C_PAGED_IMAGE, 'thread-guards');
    expect(lines(result.stdout)).toEqual(['SIGSEGV at the guard: 1']);
    expect(result.exitCode).toBe(0);
  });
});

describe('guard pages under a flat heap (a C app\'s default): what the README says it gives up', () => {
  it('PROT_NONE inside the heap does not fault, and pages made usable again still read zero', async () => {
    const result = await run(C_IMAGE, 'guard-over-freed');
    expect(lines(result.stdout)).toEqual([
      'same pages: 1',
      'NO FAULT at the start',
      'NO FAULT at the end',
      'made usable: 0 bytes not zero',
      'NO FAULT below them',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('a thread\'s guard page does not fault; the main stack\'s guard (outside the heap) still does', async () => {
    const threads = await run(C_IMAGE, 'thread-guards');
    expect(lines(threads.stdout)).toEqual(['NO FAULT below the thread\'s stack']);
    const overflow = await run(C_IMAGE, 'overflow');
    expect(overflow.stdout).toContain('stack overflow: SIGSEGV si_code=2 on_altstack=1');
  });
});

describe('hostile handlers reach no more of the host', () => {
  it('a handler that returns into the hypercall code with a forbidden call dies by SIGSYS', async () => {
    const result = await run(C_IMAGE, 'handler-to-hypercall');
    expect(result.stdout).toBe('trying');
    expect(result.exitCode).toBe(159);
  });

  it('a handler that forges cs, ss and IOPL in its frame resumes as plain 64-bit user code', async () => {
    const result = await run(C_IMAGE, 'handler-forges-frame');
    expect(result.stdout).toBe('resumed: cs=0x33 ss=0x2b iopl=0');
    expect(result.exitCode).toBe(0);
  });
});

describe('a Go program (trap path)', () => {
  const NIL = 'runtime error: invalid memory address or nil pointer dereference';

  it('recover() catches a nil dereference, twice', async () => {
    const result = await run(GO_IMAGE, 'recover');
    expect(lines(result.stdout)).toEqual([`recovered: ${NIL}`, `recovered: ${NIL}`]);
    expect(result.exitCode).toBe(0);
  });

  it('debug.SetPanicOnFault: a bad address is a panic that knows the address', async () => {
    const result = await run(GO_IMAGE, 'panic-on-fault');
    expect(result.stdout).toBe(`recovered: ${NIL} (addr 0x10000)`);
    expect(result.exitCode).toBe(0);
  });

  it('net/http: a handler that dereferences nil fails its request, and the server keeps serving', async () => {
    const result = await run(GO_IMAGE, 'http');
    const out = lines(result.stdout);
    expect(out.filter((line) => line.startsWith('GET '))).toEqual([
      'GET /ok: 200 still serving',
      expect.stringMatching(/^GET \/nil: error (unexpected )?EOF$/),
      'GET /ok: 200 still serving',
      expect.stringMatching(/^GET \/nil: error (unexpected )?EOF$/),
      'GET /ok: 200 still serving',
    ]);
    expect(out.filter((line) => line.startsWith('server: http: panic serving'))).toEqual([
      `server: http: panic serving pipe: ${NIL}`,
      `server: http: panic serving pipe: ${NIL}`,
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('an unrecovered nil dereference prints the signal as Linux gave it and exits 2', async () => {
    const result = await run(GO_IMAGE, 'unrecovered');
    expect(result.stderr).toContain(`panic: ${NIL}`);
    expect(result.stderr).toMatch(/\[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x[0-9a-f]+\]/);
    expect(result.exitCode).toBe(2);
  });
});
