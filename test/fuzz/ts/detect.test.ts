/**
 * Fuzzing detection (src/detect) over app folders: any mix of marker files (go.mod,
 * package.json, pyproject.toml, *.c, *.py, a Makefile, cmd/<name>/) and other names, with
 * package.json and go.mod holding broken text, any JSON or edge values. Whatever the
 * folder: a language and an entry the compile can take (a non-empty name without control
 * characters: it goes into NABLA_ENTRY and the image's argv), or a DetectError.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { detectEntry, detectLanguage } from '../../../src/detect/detect.js';
import { LANGUAGES } from '../../../src/detect/languages.js';
import { DetectError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/cli.js';
import { FUZZ_TIMEOUT, fuzz } from './budget.js';

const work = tempDir('nabla-fuzz-detect-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const fileName = fc.oneof(
  fc.constantFrom('go.mod', 'package.json', 'pyproject.toml', 'requirements.txt', 'Makefile', 'makefile', 'main.py', 'app.py', '__main__.py', 'index.js', 'server.js', 'main.go', 'hello.c', 'x.c', 'lib.py'),
  fc.stringMatching(/^[\w .\n\t-]{1,12}(\.(c|go|py|js))?$/).filter((n) => n !== '.' && n !== '..'),
);
const packageJson = fc.oneof(
  fc.record({ main: fc.oneof(fc.string(), fc.constantFrom('', 'server.js', 'a\nb', 'a\u0000b', '../x.js'), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
);
const goMod = fc.oneof(
  fc.tuple(fc.constantFrom('module ', 'module\t', 'module  '), fc.oneof(fc.string(), fc.stringMatching(/^[\w./-]{0,20}$/), fc.constantFrom('example.com/x/v2', 'v3', '/', '.', '-', 'a/'))).map(([m, name]) => `${m}${name}\n\ngo 1.21\n`),
  fc.string(),
);
const folder = fc.record({
  files: fc.uniqueArray(fileName, { maxLength: 6 }),
  packageJson,
  goMod,
  commands: fc.uniqueArray(fc.stringMatching(/^[\w.\n-]{1,8}$/).filter((n) => n !== '.' && n !== '..'), { maxLength: 2 }),
  dirName: fc.oneof(fc.constantFrom('app', 'my app', '---', '.hidden', 'ünï'), fc.stringMatching(/^[\w .-]{1,10}$/).filter((n) => n !== '.' && n !== '..')),
});

let n = 0;
describe('fuzz: language and entry detection', () => {
  it(
    'a language and a usable entry, or a DetectError',
    async () => {
      await fuzz(
        'detect',
        fc.property(folder, ({ files, packageJson, goMod, commands, dirName }) => {
          const dir = path.join(work, `${n++}`, dirName);
          fs.mkdirSync(dir, { recursive: true });
          try {
            for (const f of files) fs.writeFileSync(path.join(dir, f), f === 'package.json' ? packageJson : f === 'go.mod' ? goMod : '');
            for (const c of commands) fs.mkdirSync(path.join(dir, 'cmd', c), { recursive: true });
            const listed = fs.readdirSync(dir).sort();
            let language;
            try {
              language = detectLanguage(dir, listed).language;
            } catch (error) {
              expect(error, String(error)).toBeInstanceOf(DetectError);
              return;
            }
            expect(LANGUAGES).toContain(language);
            for (const lang of LANGUAGES) {
              let entry;
              try {
                entry = detectEntry(dir, lang, listed);
              } catch (error) {
                expect(error, String(error)).toBeInstanceOf(DetectError);
                continue;
              }
              expect(entry.length > 0 && !/[\u0000-\u001f\u007f]/.test(entry), `${lang} entry ${JSON.stringify(entry)}`).toBe(true);
            }
          } finally {
            fs.rmSync(path.dirname(dir), { recursive: true, force: true });
          }
        }),
      );
    },
    FUZZ_TIMEOUT,
  );
});
