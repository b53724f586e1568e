/**
 * `nabla-build init`'s templates: every language and kind renders, the CI jobs it writes
 * are valid by their platforms' own schemas, offline (GitHub's workflow parser,
 * @actions/workflow-parser; GitLab's ci.json as gitlab-ci-local ships it, with ajv), and
 * writing never overwrites a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { Ajv } from 'ajv';
import { schema as gitlabSchema } from 'gitlab-ci-local/src/schema/schema.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_MEMORY_MIB } from '../../src/config/resolve.js';
import { renderTemplate, TEMPLATE_KINDS, templateLanguages, type TemplateKind } from '../../src/init/templates.js';
import { writeNewFiles } from '../../src/init/write.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const root = path.join(repoRoot, 'templates');
const render = (language: string, kind: TemplateKind) => renderTemplate({ root, language, kind, version: '9.8.7' });
const text = (files: ReturnType<typeof render>, name: string) => files.find((f) => f.path === name)!.content.toString();

function githubErrors(content: string): string[] {
  const result = parseWorkflow({ name: '.github/workflows/nabla.yml', content }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => e.message);
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validateGitlab = ajv.compile(gitlabSchema as object);
function gitlabErrors(content: string): string[] {
  return validateGitlab(parse(content)) ? [] : (validateGitlab.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message}`);
}

describe('templates', () => {
  it('c, go, node and python each have a hello and a server app; a language is one folder', () => {
    expect(templateLanguages(root)).toEqual(['c', 'go', 'node', 'python']);
    for (const language of templateLanguages(root)) {
      for (const kind of TEMPLATE_KINDS) expect(fs.existsSync(path.join(root, language, kind, 'nabla.json')), `${language}/${kind}`).toBe(true);
    }
  });

  for (const language of ['c', 'go', 'node', 'python']) {
    for (const kind of TEMPLATE_KINDS) {
      it(`${language} ${kind}: the app, nabla.json, Dockerfile, .dockerignore and CI jobs that pass their schemas`, () => {
        const files = render(language, kind);
        const names = files.map((f) => f.path);
        expect(names).toEqual(expect.arrayContaining(['.dockerignore', '.github/workflows/nabla.yml', '.gitlab-ci.yml', 'Dockerfile', 'nabla.json']));
        expect(text(files, 'Dockerfile')).toContain(`FROM nabla/builder-${language}:latest AS build`);
        const nabla = JSON.parse(text(files, 'nabla.json'));
        expect(nabla.ports ?? []).toEqual(kind === 'server' ? [8080] : []);
        for (const ci of ['.github/workflows/nabla.yml', '.gitlab-ci.yml']) {
          const content = text(files, ci);
          expect(content).toContain('npm install --global nabla-build@9.8.7');
          expect(content).not.toMatch(/\{\{[#/]?(hello|server|version)\}\}/); // every mark replaced
          expect(/run "\$IMAGE" -p /.test(content)).toBe(kind === 'server');
        }
        expect(githubErrors(text(files, '.github/workflows/nabla.yml'))).toEqual([]);
        expect(gitlabErrors(text(files, '.gitlab-ci.yml'))).toEqual([]);
        expect(text(files, '.github/workflows/nabla.yml')).toContain('${{ secrets.GITHUB_TOKEN }}'); // GitHub's own marks untouched
      });

      it(`${language} ${kind}: the Dockerfile's ENTRYPOINT and EXPOSE agree with nabla.json (memory, network, args)`, () => {
        const files = render(language, kind);
        const nabla = JSON.parse(text(files, 'nabla.json'));
        const dockerfile = text(files, 'Dockerfile');
        const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
        expect(entrypoint.slice(0, 3)).toEqual(['/nabla/nabla-run', `--mem=${nabla.memory ?? DEFAULT_MEMORY_MIB}`, '--disk=/nabla/rootfs.tar']);
        expect(entrypoint.includes('--net-from=eth0')).toBe(kind === 'server');
        const args: string[] = nabla.args ?? [];
        expect(entrypoint.slice(entrypoint.length - args.length)).toEqual(args);
        expect(dockerfile.match(/^EXPOSE .*$/gm) ?? []).toEqual(kind === 'server' ? ['EXPOSE 8080'] : []);
      });
    }
  }

  it.each(TEMPLATE_KINDS)('node %s: its entry is a file of the app, run by the toolchain\'s newest Node, and it needs no npm registry', (kind) => {
    const files = render('node', kind);
    const entry = JSON.parse(text(files, 'nabla.json')).entry as string;
    expect(files.map((f) => f.path)).toContain(entry);
    const pkg = JSON.parse(text(files, 'package.json'));
    expect(pkg.scripts.start).toBe(`node ${entry}`); // npm start runs what the image runs
    // No dependencies: nabla-compile runs no `npm ci`, so no package-lock.json is needed.
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.engines).toBeUndefined(); // the toolchain's newest Node.js
    expect(JSON.parse(/^ENTRYPOINT (.*)$/m.exec(text(files, 'Dockerfile'))![1]!)).toContain(`/app/${entry}`);
  });

  // One Dockerfile per app rather than one shared with marks: its ENTRYPOINT (and Python's
  // ENV) is what a build of that app makes, which init cannot know without the toolchain.
  // The rest is one text, kept so by this test.
  it('the Dockerfiles are one text but for the language and the image config a build makes (ENV, EXPOSE, ENTRYPOINT)', () => {
    const common = (language: string, kind: TemplateKind) =>
      text(render(language, kind), 'Dockerfile')
        .split('\n')
        .filter((line) => !/^(ENV|EXPOSE|ENTRYPOINT) /.test(line))
        .join('\n')
        .replaceAll(`toolchain build ${language} `, 'toolchain build LANGUAGE ')
        .replaceAll(`builder-${language}`, 'builder-LANGUAGE')
        .replaceAll(`the ${language} toolchain`, 'the LANGUAGE toolchain')
        .replace('ENTRYPOINT and ENV must', 'ENTRYPOINT must'); // Python's also has ENV
    const first = common('c', 'hello');
    expect(first).toContain('FROM nabla/builder-LANGUAGE:latest AS build');
    for (const language of templateLanguages(root)) {
      for (const kind of TEMPLATE_KINDS) expect(common(language, kind), `${language}/${kind}`).toBe(first);
    }
  });

  it('the schema checks can fail: a broken workflow and a broken GitLab job are refused', () => {
    expect(githubErrors('on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    stepz: []\n').length).toBeGreaterThan(0);
    expect(gitlabErrors('job:\n  script: 3\n  when: sometimes\n').length).toBeGreaterThan(0);
  });

  it('a language without templates is refused, naming the languages there are', () => {
    let error: { message: string; hint?: string } | undefined;
    try {
      renderTemplate({ root, language: 'rust', kind: 'hello', version: '1' });
    } catch (caught) {
      error = caught as typeof error;
    }
    expect(error?.message).toMatch(/no hello template for rust/);
    expect(error?.hint).toBe('languages with templates: c, go, node, python');
  });
});

describe('writing a new app', () => {
  it('writes into a new folder, and refuses to overwrite, naming every file that exists, writing nothing', () => {
    const dir = path.join(tempDir('nabla-init-'), 'app');
    const files = render('c', 'hello');
    expect(writeNewFiles(dir, files)).toEqual(files.map((f) => f.path));
    fs.writeFileSync(path.join(dir, 'hello.c'), 'mine');
    fs.rmSync(path.join(dir, 'Dockerfile'));
    fs.rmSync(path.join(dir, '.gitlab-ci.yml'));
    let message = '';
    try {
      writeNewFiles(dir, files);
    } catch (error) {
      message = `${(error as Error).message}\n${(error as { details: string[] }).details.join('\n')}`;
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
    expect(message).toMatch(/4 files of the new app already exist/);
    expect(message).toContain('exists: hello.c');
    expect(message).not.toContain('exists: Dockerfile');
    expect(fs.readFileSync(path.join(dir, 'hello.c'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(dir, 'Dockerfile'))).toBe(false); // nothing written
  });

  it('a file where the folder should be: one clear error', () => {
    const file = path.join(tempDir('nabla-init-'), 'file');
    fs.writeFileSync(file, '');
    expect(() => writeNewFiles(file, render('go', 'hello'))).toThrow(/is not a folder/);
  });
});
