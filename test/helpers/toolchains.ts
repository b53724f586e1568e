/** A toolchains folder for unit tests: `base`, and one toolchain per language named after it. */
import { ToolchainCatalog } from '../../src/toolchain/catalog.js';
import { writeFiles } from './cli.js';

export function testToolchains(dir: string, passEnv: Record<string, string[]> = {}): ToolchainCatalog {
  const files: Record<string, string> = {
    'base/toolchain.json': JSON.stringify({ description: 'base', from: null, languages: [], network: 'none' }),
    'base/Dockerfile': 'FROM scratch\n',
  };
  for (const language of ['c', 'go', 'node', 'python']) {
    files[`${language}/toolchain.json`] = JSON.stringify({
      description: language,
      from: 'base',
      languages: [language],
      network: 'none',
      passEnv: passEnv[language] ?? [],
    });
    files[`${language}/Dockerfile`] = 'ARG NABLA_FROM\nFROM ${NABLA_FROM}\n';
  }
  writeFiles(dir, files);
  return new ToolchainCatalog(dir);
}
