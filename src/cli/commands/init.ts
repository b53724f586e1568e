/** `nabla-build init [dir] --lang c|go|python|node [--server]`: a starter app. */
import { Option, type Command } from 'commander';
import { LANGUAGES } from '../../detect/languages.js';
import type { GlobalOptions } from '../options.js';

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('init')
    .description('write a starter app: source, nabla.json, a multi-stage Dockerfile, .dockerignore, GitHub and GitLab CI jobs')
    .argument('[dir]', 'the folder to write it in (made if missing; nothing in it is ever overwritten)', '.')
    .addOption(new Option('--lang <language>', 'the app\'s language').choices(LANGUAGES).makeOptionMandatory())
    .option('--server', 'an HTTP server on port 8080 instead of a program that prints hello')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build init hello --lang c && nabla-build run hello
  $ nabla-build init api --lang go --server && nabla-build run api   # prints the URL it serves at
  $ nabla-build init web --lang node --server  # node:http only: no npm install, no lockfile
  $ nabla-build init . --lang python          # into the current folder

stdout lists the files written. A file that already exists stops it before anything is
written (exit 2), with the list of them.`,
    )
    .action(async (dir: string, flags: { lang: string; server?: boolean }) => {
      await (await import('./init-action.js')).runInit(dir, flags, globals());
    });
}
