/** The body of `init`, loaded only when it runs. */
import path from 'node:path';
import { renderTemplate } from '../../init/templates.js';
import { writeNewFiles } from '../../init/write.js';
import { openCatalog } from '../../toolchain/catalog.js';
import { ConfigError } from '../../util/errors.js';
import { packageRoot } from '../../util/paths.js';
import type { GlobalOptions } from '../options.js';
import { notice } from '../progress.js';
import { VERSION } from '../version.js';

export async function runInit(dir: string, flags: { lang: string; server?: boolean }, globals: GlobalOptions): Promise<void> {
  const catalog = openCatalog(globals.toolchainsDir);
  const builders = catalog.list().filter((toolchain) => toolchain.languages.includes(flags.lang));
  if (builders.length === 0) {
    const ready = [...new Set(catalog.list().flatMap((toolchain) => toolchain.languages))].sort();
    throw new ConfigError(`${flags.lang[0]!.toUpperCase()}${flags.lang.slice(1)} support is not built yet: no toolchain of this nabla-build compiles ${flags.lang} apps`, {
      field: '--lang',
      hint: `start with one of: ${ready.join(', ')}`,
    });
  }
  const target = path.resolve(process.cwd(), dir);
  const files = renderTemplate({
    root: path.join(packageRoot(), 'templates'),
    language: flags.lang,
    kind: flags.server ? 'server' : 'hello',
    version: VERSION,
  });
  for (const file of writeNewFiles(target, files)) process.stdout.write(`${path.join(dir, file)}\n`);
  if (globals.progress === 'quiet') return;
  const shown = path.relative(process.cwd(), target) || '.';
  const image = path.basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'app';
  const steps: [string, string][] = [
    [`nabla-build run ${shown}`, `build it and run it${flags.server ? ' (it prints the URL)' : ''}`],
    [`nabla-build build ${shown} --load -t ${image}`, 'or keep the image in Docker'],
    [`docker build -t ${image} ${shown}`, `or with the Dockerfile (first: nabla-build toolchain build ${flags.lang} --with-cli)`],
  ];
  const width = Math.max(...steps.map(([command]) => command.length));
  notice([`a ${flags.lang} ${flags.server ? 'HTTP server' : 'app'} is in ${shown}. Next:`, ...steps.map(([c, why]) => `  ${c.padEnd(width)}   # ${why}`)].join('\n'));
}
