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
import { renderTemplate, TEMPLATE_KINDS, templateLanguages } from '../../src/init/templates.js';
import { writeNewFiles } from '../../src/init/write.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const root = path.join(repoRoot, 'templates');
const render = (language: string, kind: 'hello' | 'server') => renderTemplate({ root, language, kind, version: '9.8.7' });
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
  it('c, go and python each have a hello and a server app; a language is one folder', () => {
    expect(templateLanguages(root)).toEqual(['c', 'go', 'python']);
    for (const language of templateLanguages(root)) {
      for (const kind of TEMPLATE_KINDS) expect(fs.existsSync(path.join(root, language, kind, 'nabla.json')), `${language}/${kind}`).toBe(true);
    }
  });

  for (const language of ['c', 'go', 'python']) {
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
    }
  }

  it('the schema checks can fail: a broken workflow and a broken GitLab job are refused', () => {
    expect(githubErrors('on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    stepz: []\n').length).toBeGreaterThan(0);
    expect(gitlabErrors('job:\n  script: 3\n  when: sometimes\n').length).toBeGreaterThan(0);
  });

  it('an unknown kind of app names the languages there are', () => {
    expect(() => renderTemplate({ root, language: 'node', kind: 'hello', version: '1' })).toThrow(/no hello template for node/);
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
