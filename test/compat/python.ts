/**
 * CPython's regression tests both ways. runc: Debian's python3.11 in a plain container
 * (python-runc.Dockerfile, with Debian's libpython3.11-testsuite). nabla: the python
 * toolchain's CPython 3.11 (built from Debian's source of the same version), in an image
 * built by nabla-build from an app folder holding runner.py and that same test package.
 * Both run runner.py over the same files, one module per container.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { buildHelperImage, buildNablaImage, copyFromImage, imageExists, imageId, repoRoot, runContainer, shortHash, toolchainImage } from './docker.js';
import { parsePython } from './parse.js';
import type { Side, SuiteRun } from './results.js';

const here = path.join(repoRoot, 'test', 'compat');
const BASE_IMAGE = 'nabla/debian:bookworm';
/** Guest memory for the unikernel; under runc the container has no limit. */
const MEMORY = '1024M';
/** What the nabla image's Env sets for every Python app (toolchains/python/nabla-compile), given to runc too. */
const PYTHON_ENV = ['PYTHONPATH=/app', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONUNBUFFERED=1'];

export interface PythonImages {
  runc: string;
  nabla: string;
  /** The app folder, mounted as /app under runc. */
  appDir: string;
  /** Test files left out because they do not compile (deliberately: bad_coding*.py, badsyntax_*.py). */
  leftOut: string[];
}

/**
 * Makes (or reuses) both images. The nabla image's tag hashes the python toolchain's tag,
 * the runc image and runner.py, so a change to any of them builds it again.
 */
export async function preparePython(work: string, log: (line: string) => void, rebuild: boolean): Promise<PythonImages> {
  const dockerfile = path.join(here, 'python-runc.Dockerfile');
  const runc = `nabla-compat/python-runc:${shortHash(fs.readFileSync(dockerfile, 'utf8'), await imageId(BASE_IMAGE))}`;
  log(`python: runc image ${runc} (Debian's python3.11 and libpython3.11-testsuite)`);
  await buildHelperImage(dockerfile, runc, { NABLA_FROM: BASE_IMAGE }, path.join(work, 'python-runc-build.log'));

  const appDir = path.join(work, 'python-app');
  const runner = fs.readFileSync(path.join(here, 'runner.py'), 'utf8');
  const toolchain = await toolchainImage('python');
  const nabla = `nabla-compat/python:${shortHash(toolchain, await imageId(runc), runner, MEMORY)}`;
  // The app folder is the nabla image's source and runc's /app: made again unless it is this one.
  const stamp = `${appDir}.made-for`;
  const leftOutFile = `${appDir}.left-out`;
  if (rebuild || !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== nabla) {
    log('python: the app folder: the test package copied out of the runc image, runner.py');
    fs.rmSync(appDir, { recursive: true, force: true });
    fs.mkdirSync(appDir, { recursive: true });
    await copyFromImage(runc, '/usr/lib/python3.11/test', path.join(appDir, 'test'));
    const leftOut = await removeUncompilable(runc, appDir);
    fs.writeFileSync(path.join(appDir, 'runner.py'), runner);
    fs.writeFileSync(path.join(appDir, 'nabla.json'), JSON.stringify({ language: 'python', entry: 'runner.py', memory: MEMORY }, null, 2) + '\n');
    fs.writeFileSync(leftOutFile, leftOut.join('\n') + '\n');
    fs.writeFileSync(stamp, nabla);
  }
  if (rebuild || !(await imageExists(nabla))) {
    log(`python: nabla image ${nabla}: nabla-build build`);
    await buildNablaImage(appDir, nabla, path.join(work, 'python-nabla-build.log'));
  } else {
    log(`python: nabla image ${nabla} (built before)`);
  }
  return { runc, nabla, appDir, leftOut: fs.readFileSync(leftOutFile, 'utf8').split('\n').filter(Boolean) };
}

/**
 * The suite holds files that are broken on purpose (tests read them as data); nabla-build
 * checks an app's syntax and refuses them, so they are left out, on both sides. Debian's
 * precompiled __pycache__ folders go too: each side compiles the sources itself.
 */
async function removeUncompilable(runcImage: string, appDir: string): Promise<string[]> {
  const script = [
    'import os, py_compile, shutil',
    'for root, dirs, files in os.walk("test"):',
    '    for d in [d for d in dirs if d == "__pycache__"]: shutil.rmtree(os.path.join(root, d))',
    '    dirs[:] = [d for d in dirs if d != "__pycache__"]',
    '    for f in files:',
    '        if f.endswith(".py"):',
    '            p = os.path.join(root, f)',
    '            try: py_compile.compile(p, cfile="/tmp/x.pyc", doraise=True)',
    '            except py_compile.PyCompileError: print(p)',
  ].join('\n');
  const result = await execa('docker', ['run', '--rm', '--network', 'none', '-v', `${appDir}:/src`, '-w', '/src', runcImage, 'python3.11', '-c', script]);
  const bad = result.stdout.split('\n').filter(Boolean).sort();
  for (const file of bad) fs.rmSync(path.join(appDir, file));
  return bad;
}

export async function runPython(images: PythonImages, side: Side, module: string, timeoutSeconds: number): Promise<SuiteRun> {
  const args =
    side === 'nabla'
      ? ['--network', 'none', images.nabla, module]
      : ['--network', 'none', '-v', `${images.appDir}:/app:ro`, '-w', '/app', ...PYTHON_ENV.flatMap((e) => ['-e', e]), images.runc, 'python3.11', '/app/runner.py', module];
  return parsePython(side, module, await runContainer(args, timeoutSeconds));
}
