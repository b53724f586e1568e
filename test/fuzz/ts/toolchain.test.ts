/**
 * Fuzzing toolchain.json (src/toolchain/catalog.ts; a --toolchains-dir may be someone
 * else's folder): a catalog of one to three toolchains whose toolchain.json is broken text,
 * any JSON, or the known fields with edge values ("from" naming one another, itself or
 * nothing; "include" with odd folders). Opening the catalog and asking it for each
 * toolchain's lineage, hash and image gives an answer or a NablaError, never another error
 * (a parse error, a stack overflow), and an `include` never leaves the nabla-build package.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../../src/toolchain/catalog.js';
import { NablaError } from '../../../src/util/errors.js';
import { packageRoot } from '../../../src/util/paths.js';
import { tempDir } from '../../helpers/cli.js';
import { FUZZ_TIMEOUT, fuzz } from './budget.js';

const NAMES = ['a', 'b', 'c'];
const work = tempDir('nabla-fuzz-toolchain-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const either = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: plausible, weight: 6 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
const manifest = fc.record(
  {
    description: either(fc.string()),
    from: either(fc.oneof(fc.constant(null), fc.constantFrom(...NAMES, 'z'))),
    languages: either(fc.array(fc.constantFrom('c', 'go', 'node', 'python', 'cobol'))),
    network: either(fc.constantFrom('none', 'host', 'bridge')),
    passEnv: either(fc.array(fc.stringMatching(/^[A-Za-z_]\w{0,6}$/))),
    include: either(fc.array(fc.oneof(fc.constantFrom('native', 'native/include', 'a/../..', 'native/../..', 'x/..', '..'), fc.stringMatching(/^[a-z0-9][a-z0-9._/-]{0,12}$/)))),
  },
  { requiredKeys: ['description', 'from', 'languages', 'network'] },
);
const text = fc.oneof({ arbitrary: manifest.map((m) => JSON.stringify(m)), weight: 8 }, fc.jsonValue().map((v) => JSON.stringify(v)), fc.string());

let n = 0;
function catalogOf(texts: string[]): string {
  const root = path.join(work, `c${n++}`);
  texts.forEach((t, i) => {
    fs.mkdirSync(path.join(root, NAMES[i]!), { recursive: true });
    fs.writeFileSync(path.join(root, NAMES[i]!, 'Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(root, NAMES[i]!, 'toolchain.json'), t);
  });
  return root;
}

function expectNablaError(error: unknown): void {
  expect(error, `${(error as Error).name}: ${(error as Error).message}`).toBeInstanceOf(NablaError);
  expect((error as Error).message).not.toContain('\n');
}

describe('fuzz: toolchain.json', () => {
  it(
    'a catalog answers, or says what is wrong with a NablaError',
    async () => {
      await fuzz(
        'toolchain.json',
        fc.property(fc.array(text, { minLength: 1, maxLength: 3 }), (texts) => {
          const root = catalogOf(texts);
          try {
            let catalog;
            try {
              catalog = openCatalog(root);
            } catch (error) {
              return expectNablaError(error);
            }
            for (const t of catalog.list()) {
              for (const folder of t.include) {
                const dir = path.resolve(packageRoot(), folder);
                expect(dir.startsWith(packageRoot() + path.sep), `include "${folder}" leaves the package`).toBe(true);
              }
              try {
                const chain = catalog.lineage(t.name);
                expect(chain[chain.length - 1]).toBe(t);
                expect(catalog.image(t.name)).toMatch(/^nabla\/toolchain-[a-c]:[0-9a-f]{16}$/);
                catalog.parentImage(t.name);
              } catch (error) {
                expectNablaError(error);
              }
            }
          } finally {
            fs.rmSync(root, { recursive: true, force: true });
          }
        }),
      );
    },
    FUZZ_TIMEOUT,
  );
});
