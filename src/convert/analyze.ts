/**
 * Before anything is written: what will run and what will not, read from the image alone.
 * The program the image starts (Entrypoint + Cmd, found on the image's PATH), its ELF
 * headers, the libraries it names (DT_NEEDED, found as the loader would) and the symbols
 * they import; a script's first line and its `exec`; the image's setuid files and file
 * capabilities. Also every program on PATH the tender can run, which the image keeps a
 * copy of for `docker run NEW OTHER-PROGRAM`.
 */
import { EM_X86_64, ElfError, isElf, readElf, type ElfInfo } from './elf.js';
import type { FlatImage, FsNode } from './flatten.js';
import { DEFAULT_PATH, listDir, resolvePath, which } from './guestfs.js';

export type Level = 'cannot' | 'warning' | 'note';
export interface Finding {
  level: Level;
  message: string;
}

export interface RunSettings {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user?: string;
  /** The converted image takes the container's network (--ports, or the image's ExposedPorts). */
  network: boolean;
}

export interface Analysis {
  /** What the image runs by default. */
  argv: string[];
  /** The program argv[0] names, its path in the image (no leading '/'), and its ELF. */
  program?: { path: string; elf: ElfInfo; libraries: string[] };
  findings: Finding[];
  /** Programs the tender can run (path in the image → its loader's path, or '' when static). */
  runnable: Map<string, string>;
  /** Other names for them: a path in the image as written (e.g. "usr/bin/python3") → the program's path. */
  aliases: Map<string, string>;
  /** How many programs on PATH it cannot run (scripts, shared libraries, other machines), for the report. */
  notRunnable: number;
  /** Whether the default program can run at all. */
  ok: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'busybox', 'fish', 'tcsh', 'csh']);
const SPAWN = ['fork', 'vfork', 'execve', 'execv', 'execvp', 'execvpe', 'execl', 'execlp', 'execle', 'fexecve', 'posix_spawn', 'posix_spawnp', 'system', 'popen'];
const DLOPEN = ['dlopen', 'dlmopen'];
const IO_URING = ['io_uring_setup', 'io_uring_queue_init', 'io_uring_queue_init_params'];
const RAW_SOCKETS = ['pcap_open_live', 'pcap_create'];
/** Where glibc's loader looks when nothing else says (Debian's multiarch folders first). */
const DEFAULT_LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
const MAX_LIBRARIES = 500;
/** A command line a shell would pass on unchanged: no quotes, variables, globs, pipes or redirections. */
const PLAIN_COMMAND = /^[\w./=:@%+,-]+(?: +[\w./=:@%+,-]+)*$/;

export function analyze(image: FlatImage, run: RunSettings): Analysis {
  const { nodes } = image;
  const env = new Map(run.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const pathVar = env.get('PATH') ?? DEFAULT_PATH;
  const cwd = run.workingDir || '/';
  const findings: Finding[] = [];
  const say = (level: Level, message: string) => findings.push({ level, message });
  const argv = [...run.entrypoint, ...run.cmd];
  const result: Analysis = { argv, findings, runnable: new Map(), aliases: new Map(), notRunnable: 0, ok: false };

  const cannot = new Set<string>();
  // Every program on PATH the tender can run: ELF64 x86-64, linked at fixed addresses or a PIE, its loader in the image.
  for (const dir of pathVar.split(':').filter((d) => d.startsWith('/'))) {
    for (const name of listDir(nodes, dir)) {
      const found = which(nodes, `${dir}/${name}`, '', '/');
      if (!found) continue;
      if (runnableProgram(nodes, found.path, found.node, result)) addAlias(result, `${dir}/${name}`, found.path);
      else cannot.add(found.path);
    }
  }

  result.notRunnable = cannot.size;
  if (argv.length === 0) {
    say('cannot', 'the image names no program to run (no Entrypoint and no Cmd): give one with --entrypoint');
    return result;
  }
  const command = argv[0]!;
  const found = which(nodes, command, pathVar, cwd);
  if (!found || found.node.type !== 'file') {
    say('cannot', `${command}: not found ${command.includes('/') ? `(from ${cwd})` : `in PATH (${pathVar})`}, or not an executable file`);
    return result;
  }
  const data = found.node.data;
  const where = `/${found.path}`;
  if (!isElf(data)) {
    explainScript(data, where, argv, say);
    return result;
  }
  const base = found.path.slice(found.path.lastIndexOf('/') + 1);
  if (SHELLS.has(base) || SHELLS.has(command.slice(command.lastIndexOf('/') + 1))) {
    const inline = argv.indexOf('-c') > 0 ? argv[argv.indexOf('-c') + 1] : undefined;
    say('cannot', `${command} (${where}) is a shell: it runs commands by starting other programs (fork/exec), which a unikernel cannot do${suggestFromShell(inline)}`);
    return result;
  }
  let elf: ElfInfo;
  try {
    elf = readElf(data);
  } catch (error) {
    say('cannot', `${where}: a broken ELF file (${(error as ElfError).message})`);
    return result;
  }
  if (elf.bits === 32) say('cannot', `${where} is a 32-bit program: the tender runs 64-bit x86-64 programs only`);
  else if (elf.machine !== EM_X86_64) say('cannot', `${where} is built for another architecture (ELF machine ${elf.machine}), not x86-64`);
  else if (!runsAsProgram(elf)) {
    say('cannot', `${where} is ${elf.type === 'dyn' ? 'a shared library (ET_DYN, neither the PIE flag nor a loader)' : 'not an executable'}: the tender runs programs (ET_EXEC, or a PIE), not this`);
  } else if (elf.interp && resolvePath(nodes, elf.interp)?.node.type !== 'file') {
    say('cannot', `${where} asks for the loader ${elf.interp}, which is not in the image`);
  }
  const libraries = elf.bits === 64 && elf.interp ? findLibraries(nodes, elf, env, say) : [];
  result.program = { path: found.path, elf, libraries: libraries.map((l) => l.name) };
  checkImports(elf, libraries, where, say);
  if (image.setuid.includes(found.path)) {
    say(
      'warning',
      `${where} is setuid/setgid: the bit is dropped; it runs as the container's user, and nothing in the unikernel changes privilege`,
    );
  }
  if (image.capabilities.includes(found.path)) {
    say(
      'warning',
      `${where} has file capabilities (e.g. cap_net_raw for raw sockets): dropped; raw sockets do not exist in the unikernel`,
    );
  }
  if (run.network && run.user && !/^(0|root)(:|$)/.test(run.user)) {
    say('warning', `the image runs as user "${run.user}": the tender needs root for NET_ADMIN to take the container's network; run with --user 0 (it drops every capability before the program starts)`);
  }
  if (image.setuid.length > 0) {
    say(
      'note',
      `${image.setuid.length} setuid/setgid file(s) (${image.setuid.slice(0, 3).map((p) => `/${p}`).join(', ')}${image.setuid.length > 3 ? ', …' : ''}): bits dropped, they would change nothing`,
    );
  }
  result.ok = !findings.some((f) => f.level === 'cannot');
  if (result.ok) {
    runnableProgram(nodes, found.path, found.node, result);
    addAlias(result, command.startsWith('/') ? command : command.includes('/') ? `${cwd}/${command}` : '', found.path);
  }
  return result;
}

/** Whether the tender can run this file; when it can, records it (and its loader) in result. */
function runnableProgram(nodes: ReadonlyMap<string, FsNode>, path: string, node: FsNode, result: Analysis): boolean {
  if (result.runnable.has(path)) return true;
  if (node.type !== 'file' || !isElf(node.data)) return false;
  let elf: ElfInfo;
  try {
    elf = readElf(node.data);
  } catch {
    return false;
  }
  if (elf.bits !== 64 || elf.machine !== EM_X86_64 || !runsAsProgram(elf)) return false;
  if (!elf.interp) {
    result.runnable.set(path, '');
    return true;
  }
  const loader = resolvePath(nodes, elf.interp);
  if (loader?.node.type !== 'file') return false;
  result.runnable.set(path, loader.path);
  addAlias(result, elf.interp, loader.path);
  return true;
}

/** Linked at fixed addresses, or a PIE, which the tender places itself (beside the libOS). */
function runsAsProgram(elf: ElfInfo): boolean {
  return elf.type === 'exec' || (elf.type === 'dyn' && elf.pie);
}

function addAlias(result: Analysis, written: string, path: string): void {
  const alias = written.split('/').filter((p) => p !== '' && p !== '.').join('/');
  if (alias !== '' && alias !== path && !alias.split('/').includes('..')) result.aliases.set(alias, path);
}

interface Library {
  name: string;
  path: string;
  elf: ElfInfo;
}

/** The libraries the loader would load, breadth first, as it searches them. */
function findLibraries(nodes: ReadonlyMap<string, FsNode>, program: ElfInfo, env: Map<string, string>, say: (l: Level, m: string) => void): Library[] {
  const configured = ldSoConf(nodes);
  const fromEnv = (env.get('LD_LIBRARY_PATH') ?? '').split(':').filter((d) => d.startsWith('/'));
  const found: Library[] = [];
  const seen = new Set<string>();
  const queue: { name: string; from: ElfInfo; fromPath: string }[] = program.needed.map((name) => ({ name, from: program, fromPath: '' }));
  while (queue.length > 0 && found.length < MAX_LIBRARIES) {
    const { name, from, fromPath } = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const origin = fromPath.slice(0, fromPath.lastIndexOf('/')) || '/';
    const runpath = from.runpath.map((dir) => dir.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin));
    const dirs = name.includes('/') ? [''] : [...fromEnv, ...runpath, ...configured, ...DEFAULT_LIBRARY_DIRS];
    let hit: { path: string; elf: ElfInfo } | undefined;
    for (const dir of dirs) {
      const file = resolvePath(nodes, dir === '' ? name : `${dir}/${name}`);
      if (file?.node.type !== 'file' || !isElf(file.node.data)) continue;
      try {
        const elf = readElf(file.node.data);
        if (elf.bits === 64 && elf.machine === EM_X86_64) hit = { path: file.path, elf };
      } catch {
        continue;
      }
      if (hit) break;
    }
    if (!hit) {
      say('cannot', `the library ${name} is not in the image (the loader would stop)`);
      continue;
    }
    found.push({ name, ...hit });
    for (const next of hit.elf.needed) queue.push({ name: next, from: hit.elf, fromPath: `/${hit.path}` });
  }
  return found;
}

/** The folders /etc/ld.so.conf names, with its include lines (globs of the form DIR/*.conf). */
function ldSoConf(nodes: ReadonlyMap<string, FsNode>): string[] {
  const dirs: string[] = [];
  const read = (path: string, depth: number) => {
    const file = resolvePath(nodes, path);
    if (file?.node.type !== 'file' || depth > 4) return;
    for (const raw of file.node.data.toString('utf8').split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const include = /^include\s+(\S+)$/.exec(line);
      if (include) {
        const pattern = include[1]!.startsWith('/') ? include[1]! : `/etc/${include[1]}`;
        const slash = pattern.lastIndexOf('/');
        const glob = new RegExp(`^${pattern.slice(slash + 1).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
        for (const name of listDir(nodes, pattern.slice(0, slash) || '/')) if (glob.test(name)) read(`${pattern.slice(0, slash)}/${name}`, depth + 1);
      } else if (line.startsWith('/')) {
        dirs.push(line);
      }
    }
  };
  read('/etc/ld.so.conf', 0);
  return dirs;
}

function checkImports(program: ElfInfo, libraries: Library[], where: string, say: (l: Level, m: string) => void): void {
  // What the program or one of its libraries takes from another: libc defines these, so
  // its own exports do not count, only who calls them.
  const users = (names: readonly string[]) => {
    const hits: string[] = [];
    const take = (elf: ElfInfo, who: string) => {
      const used = names.filter((n) => elf.imports.includes(n));
      if (used.length > 0) hits.push(`${who} (${used.join(', ')})`);
    };
    take(program, where);
    for (const library of libraries) take(library.elf, library.name);
    return hits;
  };
  const spawn = users(SPAWN);
  if (spawn.length > 0) {
    say(
      'warning',
      `may start other programs: ${spawn.join('; ')}. Starting a process fails with ENOSYS in the unikernel (subprocess, os.system, child_process)`,
    );
  }
  const uring = users(IO_URING);
  if (uring.length > 0 || libraries.some((l) => l.name.startsWith('liburing'))) {
    say(
      'warning',
      `uses io_uring${uring.length ? `: ${uring.join('; ')}` : ' (liburing)'}: io_uring_setup fails with ENOSYS; programs that fall back to epoll work`,
    );
  }
  const raw = users(RAW_SOCKETS);
  if (raw.length > 0 || libraries.some((l) => l.name.startsWith('libpcap'))) {
    say(
      'warning',
      `captures packets (libpcap${raw.length ? `: ${raw.join('; ')}` : ''}): raw sockets do not exist in the unikernel (EAFNOSUPPORT/EPERM)`,
    );
  }
  const dl = users(DLOPEN);
  if (dl.length > 0) {
    say(
      'note',
      `loads shared objects at run time: ${dl.join('; ')}. They load through the loader from the image's files, as on Linux (a .so that starts processes or needs the missing calls above fails as they do)`,
    );
  }
}

function explainScript(data: Buffer, where: string, argv: string[], say: (l: Level, m: string) => void): void {
  const text = data.subarray(0, 64 * 1024).toString('utf8');
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(text);
  if (!shebang) {
    say('cannot', `${where} is neither an ELF program nor a script with #!`);
    return;
  }
  const interpreter = shebang[1]!.endsWith('/env') && shebang[2] ? shebang[2] : shebang[1]!;
  const name = interpreter.slice(interpreter.lastIndexOf('/') + 1);
  if (SHELLS.has(name)) {
    const execLine = [...text.matchAll(/^\s*exec\s+(.+?)\s*$/gm)].map((m) => m[1]!).pop();
    const suggestion =
      execLine === undefined
        ? ''
        : /^"?\$@"?$/.test(execLine)
          ? argv.length > 1
            ? `; it ends by running its arguments (exec "$@"): convert with --entrypoint '${JSON.stringify(argv.slice(1))}' to run that program itself`
            : ''
          : suggestFromExec(execLine, argv);
    say('cannot', `${where} is a shell script (#!${shebang[1]}): running it needs ${name}, which starts other programs (fork/exec), and a unikernel cannot${suggestion || `; convert with --entrypoint naming the program the script starts`}`);
    return;
  }
  say('cannot', `${where} is a script for ${interpreter}: the tender runs ELF programs, not #! lines; convert with --entrypoint '${JSON.stringify([interpreter, where, ...argv.slice(1)])}'`);
}

/** A script's last `exec PROGRAM [ARGS] "$@"`: that program, with the image's arguments. */
function suggestFromExec(line: string, argv: string[]): string {
  const withArgs = /^(.*?)\s+"?\$(@|\*)"?$/.exec(line);
  if (!withArgs) return suggestFromShell(line);
  const head = withArgs[1]!.trim();
  if (!PLAIN_COMMAND.test(head)) return '';
  return `; it ends with \`exec ${line}\`: convert with --entrypoint '${JSON.stringify([...head.split(/ +/), ...argv.slice(1)])}' to run that program itself`;
}

/** `; convert with --entrypoint '["python3","app.py"]'` for a plain command line, else ''. */
function suggestFromShell(command: string | undefined): string {
  if (command === undefined) return '';
  const plain = command.trim().replace(/^exec\s+/, '');
  if (!PLAIN_COMMAND.test(plain)) return '';
  return `; convert with --entrypoint '${JSON.stringify(plain.split(/ +/))}' to run that program itself`;
}
