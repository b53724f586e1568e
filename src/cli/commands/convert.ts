/** `nabla-build convert IMAGE`: an existing image, unchanged, run through the tender. */
import type { Command } from 'commander';
import { addOutputOptions, collect } from '../command-options.js';
import type { GlobalOptions } from '../options.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  const command = program
    .command('convert')
    .description('turn an existing image into one whose program runs as a nabla unikernel, unchanged')
    .argument('<image>', 'an image Docker has (docker save; one named HOST/NAME:TAG that Docker lacks is pulled from HOST), an OCI layout folder or tar, a docker-archive tar, or docker://HOST/NAME:TAG (always the registry\'s)');
  addOutputOptions(command, 'the new image')
    .option('--entrypoint <program>', 'run this instead of the image\'s Entrypoint and Cmd: a program, or a JSON array \'["python3","app.py"]\'')
    .option('--mem <size>', 'guest memory, MiB or e.g. 1G (default 256)')
    .option('--ports <list>', 'ports the program serves, e.g. 8000 or 8080,53/udp (repeatable): the unikernel takes the container\'s network', collect)
    .option('--check', 'print only the report of what will not work; exit 2 when the program cannot run')
    .option('--json', 'print the result as one JSON object on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build convert python-app:1.0 --check
  $ nabla-build convert python-app:1.0 --load -t python-app:nabla && docker run --rm python-app:nabla python3 -c 'print(6*7)'
  $ nabla-build convert web:1.0 --ports 8000 --load -t web:nabla
  $ nabla-build convert image.tar --entrypoint '["python3","-m","http.server"]' -o type=oci,dest=out.tar
  $ nabla-build convert docker://127.0.0.1:5000/team/app:1.0 --push -t 127.0.0.1:5000/team/app:nabla

The report goes to stderr (stdout with --check); stdout gets the new image's digest.
Programs the tender runs: x86-64 ELF programs, linked at fixed addresses or position-independent
(PIE), static or with glibc's loader. Not: shell scripts, anything that starts other programs.`,
    )
    .action(async (image: string, flags: Record<string, unknown>) => {
      const { runConvert } = await import('./convert-action.js');
      await runConvert(image, flags, globals());
    });
}
