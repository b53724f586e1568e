/** `nabla-build measure IMAGE [--against REF]`: how much of the host kernel an image uses. */
import { InvalidArgumentError, type Command } from 'commander';
import type { GlobalOptions } from '../options.js';

const wholeNumber = (max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return Number(value);
};

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('measure')
    .description('run an image under a trace and count the host system calls and kernel functions its tasks use')
    .argument('<image>', 'an image in Docker: a nabla image, or any other for a reference')
    .option('--against <image-or-command>', 'measure a reference the same way in the same run and print the ratio (an image, e.g. one that runs under runc, or a host command)')
    .option('--requests <n>', 'GETs of the built-in load for an image that serves a TCP port', wholeNumber(100_000), 300)
    .option('--load-cmd <command>', 'the load instead of the GETs: run with sh -c, given MEASURE_HOST, MEASURE_PORT and MEASURE_URL')
    .option('--timeout <seconds>', 'longest run: to first answer for a server, to its exit for the others', wholeNumber(3600), 120)
    .option('--buffer-mb <n>', 'trace buffer per CPU, MiB', wholeNumber(4096), 64)
    .option('--runs <n>', 'runs of the image (and of the reference, interleaved); the run with the median kernel-function figure is reported, with every run\'s figures', wholeNumber(50), 1)
    .option('--runtime <name>', 'the OCI runtime Docker runs the images with, as registered with it (e.g. runsc); default: Docker\'s own')
    .option('--json', 'print one JSON object instead of the table')
    .addHelpText(
      'after',
      `
Examples:
  $ sudo nabla-build measure http-c --against http-c-runc
  $ sudo nabla-build measure py-http --against 'python3 -m http.server 8000' --requests 1000
  $ sudo nabla-build measure hello-c --json | jq .target.syscalls
  $ sudo nabla-build measure py-http --against py-http-runc --runs 5

What it runs: the image with docker run (the flags a nabla image needs; its first TCP port
published on 127.0.0.1 on a free port, on Docker's bridge or a network made for the run),
then the load: --requests sequential GETs of /, one connection each, or --load-cmd; an image
without a port is measured until it exits. --against runs a reference the same way, after it;
a command given there is run on the host and must serve the image's port on 127.0.0.1.

What it counts, for the container's own tasks (its first process and all it forks), from
the moment untrusted code starts (the exec of a plain image's entrypoint; a nabla image's
tender installing its seccomp filter) to the end of the load:
  host syscalls       the distinct system calls the host kernel ran for them (syscall trace
                      events, so calls the filter trapped to the libOS do not count; strace
                      would stop every call and add ptrace's own kernel code to the figure)
  kernel functions    the host attack surface: distinct kernel functions they entered. With
                      the function tracer where the kernel allows it, every one; where it is
                      refused (a kernel in lockdown), the functions on the kernel stacks of all
                      trace events ("event stacks"): a lower bound, to be compared only with
                      figures taken the same way, as --against does.
The function figure moves from run to run (interrupts that land while the tasks run, what the
page cache holds): --runs 5 gives the median run, and every run's figure beside it.
A nabla image's policy is shown from its label (dev.nabla.syscalls) and as its tender prints
it on this host (--print-policy): the host syscalls it made must be among them.

Needs root and tracefs (mounted at /sys/kernel/tracing if it is not). Everything it makes
(its tracefs instance under instances/, containers, a network) is removed on every way out,
Ctrl-C included. Progress goes to stderr, the table (or --json) to stdout.`,
    )
    .action(async (image: string, flags: { against?: string; requests: number; loadCmd?: string; timeout: number; bufferMb: number; runs: number; runtime?: string; json?: boolean }) => {
      await (await import('./measure-action.js')).measureImage(image, flags, globals());
    });
}
