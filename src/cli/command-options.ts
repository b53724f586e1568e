/** Flags that more than one command declares: the same names, texts and parsing everywhere. */
import type { Command } from 'commander';

/** For repeatable flags: each use adds one value. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** -t, -o, --load and --push: where the image a command makes goes (`image`: how its help names it). */
export function addOutputOptions(command: Command, image: string): Command {
  return command
    .option('-t, --tag <name:tag>', `name ${image} (repeatable)`, collect)
    .option('-o, --output <spec>', 'type=oci,dest=DIR|FILE.tar | type=docker,dest=FILE.tar | type=dir,dest=DIR (repeatable)', collect)
    .option('--load', `load ${image} into the Docker engine under its -t names`)
    .option('--push', `push ${image} to the registry in its -t names`);
}
