/**
 * Fuzzing the build's input at the edge (src/config): nabla.json through
 * resolveBuildConfig (JSON text that is no JSON, any JSON value, and objects of the known
 * fields with plausible or arbitrary values), and the flags parsed beside it (-t names,
 * --output specs). Whatever the input: a frozen BuildConfig whose fields keep what the
 * image and the tender need (memory the tender accepts, ports it can expose, variable
 * names, an absolute workdir), or a NablaError with a one-line message.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOutputSpec } from '../../../src/config/output-spec.js';
import { parseReference } from '../../../src/config/reference.js';
import { resolveBuildConfig, type BuildConfig } from '../../../src/config/resolve.js';
import { openCatalog } from '../../../src/toolchain/catalog.js';
import { NablaError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/cli.js';
import { FUZZ_TIMEOUT, fuzz } from './budget.js';

const app = tempDir('nabla-fuzz-config-');
fs.writeFileSync(path.join(app, 'hello.c'), 'int main(void) { return 0; }\n');
const catalog = openCatalog();
afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

/** The tender refuses --mem outside [8, 65536] MiB (native/include/nabla_abi.h). */
const MEM_MAX_MIB = 64 * 1024;

/** A value for a known field: mostly a shape the schema takes (with edge values), now and then anything. */
const either = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: plausible, weight: 6 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
const word = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const nablaJson = fc.record(
  {
    entry: either(fc.oneof(word, fc.string({ minLength: 1 }), fc.constantFrom('a\u0000b', 'a\nb'))),
    language: either(fc.constantFrom('c', 'c', 'c', 'go', 'rust')),
    toolchain: either(fc.constantFrom('c', 'c', 'c', 'go', 'C', '../c')),
    args: either(fc.array(fc.oneof(fc.string(), fc.constant('a\u0000b')))),
    env: either(fc.dictionary(fc.oneof(word, fc.string()), fc.string())),
    workdir: either(fc.string().map((s) => `/${s}`)),
    ports: either(fc.array(fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.stringMatching(/^\d{1,6}(\/(tcp|udp|sctp))?$/)))),
    network: either(fc.constantFrom('container', 'none', 'host')),
    memory: either(
      fc.oneof(fc.integer(), fc.integer({ min: 0, max: 100000 }), fc.double(), fc.stringMatching(/^\d{1,24}\s?(M|Mi|MiB|MB|G|Gi|GiB|GB|K|m|gb)?$/)),
    ),
    files: either(fc.record({ include: either(fc.array(fc.string({ minLength: 1 }))), exclude: either(fc.array(fc.string({ minLength: 1 }))) }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const text = fc.oneof(
  nablaJson.map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
);

function resolve(json: string): BuildConfig | Error {
  fs.writeFileSync(path.join(app, 'nabla.json'), json);
  try {
    return resolveBuildConfig(app, {}, { cwd: app, env: {}, toolchains: catalog });
  } catch (error) {
    return error as Error;
  }
}

function expectNablaError(error: Error): void {
  expect(error, `${error.name}: ${error.message}`).toBeInstanceOf(NablaError);
  expect(error.message).not.toContain('\n');
}

describe('fuzz: nabla.json and the build flags', () => {
  it(
    'nabla.json: a BuildConfig the image and the tender can use, or a NablaError',
    async () => {
      await fuzz(
        'nabla.json',
        fc.property(text, (json) => {
          const got = resolve(json);
          if (got instanceof Error) return expectNablaError(got);
          expect(Object.isFrozen(got)).toBe(true);
          // The entry, args, env and workdir become argv, environment and a path in the image: C strings.
          expect(typeof got.entry === 'string' && got.entry.length > 0 && !/[\u0000-\u001f\u007f]/.test(got.entry), `entry ${JSON.stringify(got.entry)}`).toBe(true);
          for (const s of [...got.args, ...Object.values(got.env), got.workdir]) expect(s.includes('\u0000'), `NUL in ${JSON.stringify(s)}`).toBe(false);
          expect(Number.isSafeInteger(got.memoryMiB) && got.memoryMiB >= 16 && got.memoryMiB <= MEM_MAX_MIB, `memory ${got.memoryMiB} MiB from ${json}`).toBe(true);
          for (const port of got.ports) {
            const m = /^(\d+)\/(tcp|udp)$/.exec(port);
            expect(m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535, `port "${port}" from ${json}`).toBe(true);
          }
          for (const [name, value] of Object.entries(got.env)) expect(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && typeof value === 'string').toBe(true);
          expect(got.workdir.startsWith('/')).toBe(true);
          expect(got.args.every((a) => typeof a === 'string')).toBe(true);
          expect(['container', 'none']).toContain(got.network);
        }),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    '-t names and --output specs: parsed, or a NablaError',
    async () => {
      const name = fc.oneof(fc.string(), fc.stringMatching(/^([a-z0-9.:-]{1,12}\/)?[a-z0-9._\/-]{1,20}(:[\w.-]{1,12})?$/));
      const spec = fc.oneof(fc.string(), fc.stringMatching(/^(type=(oci|docker|dir|load|x),?)?(dest=[\w./-]{0,12},?)?([a-z]{1,4}=[\w]{0,4})?$/));
      await fuzz(
        'flags',
        fc.property(name, spec, (tag, output) => {
          try {
            const ref = parseReference(tag);
            expect(ref.repository.length > 0 && ref.tag.length > 0).toBe(true);
          } catch (error) {
            expectNablaError(error as Error);
          }
          try {
            const out = parseOutputSpec(output, app);
            expect(['oci', 'docker', 'dir']).toContain(out.type);
          } catch (error) {
            expectNablaError(error as Error);
          }
        }),
      );
    },
    FUZZ_TIMEOUT,
  );
});
