/** The checks of `doctor`, each with what to do when it fails. */
import fs from 'node:fs';
import { imageExists } from '../../engine/engine.js';
import { findDebianMirror, hasTool } from '../../toolchain/bootstrap.js';
import { BASE_IMAGE, openCatalog } from '../../toolchain/catalog.js';
import { EnvironmentError, errorMessage } from '../../util/errors.js';
import { hostHasFsgsbase } from '../../util/host.js';
import { engine } from '../engine.js';

interface Check {
  name: string;
  /** Required checks fail the command; the others only warn. */
  required: boolean;
  run(): Promise<string>; // what was found; throws with the fix
}

class Problem extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
  }
}

export async function doctor(toolchainsDir?: string): Promise<void> {
  const catalog = openCatalog(toolchainsDir);
  const checks: Check[] = [
    {
      name: 'node',
      required: true,
      run: async () => {
        const major = Number(process.versions.node.split('.')[0]);
        if (major < 20) throw new Problem(`Node ${process.versions.node}`, 'install Node 20 or newer');
        return `Node ${process.versions.node}`;
      },
    },
    {
      name: 'docker engine',
      required: true,
      run: async () => {
        const docker = await engine().catch((error: unknown) => {
          throw new Problem(errorMessage(error), 'start dockerd (see README, "Set up a machine") or set DOCKER_HOST');
        });
        const { version, apiVersion } = await docker.version();
        return `Docker ${version} (API ${apiVersion})`;
      },
    },
    {
      name: 'base image',
      required: true,
      run: async () => {
        if (!(await imageExists(await engine(), BASE_IMAGE))) {
          throw new Problem(`${BASE_IMAGE} is missing`, 'run `sudo nabla-build toolchain bootstrap`');
        }
        return BASE_IMAGE;
      },
    },
    ...catalog.list().map(
      (t): Check => ({
        name: `toolchain ${t.name}`,
        required: false,
        run: async () => {
          const image = catalog.image(t.name);
          if (!(await imageExists(await engine(), image))) {
            throw new Problem(`${image} not built yet`, `it is built on first use, or now with \`nabla-build toolchain build ${t.name}\``);
          }
          return image;
        },
      }),
    ),
    {
      name: 'debootstrap',
      required: false,
      run: async () => {
        if (!(await hasTool('debootstrap'))) throw new Problem('not installed', 'apt-get install debootstrap (needed by `toolchain bootstrap`)');
        const mirror = findDebianMirror('/etc/apt');
        return mirror ? `mirror from apt sources: ${mirror}` : 'no bookworm mirror in apt sources: pass --mirror to bootstrap';
      },
    },
    {
      name: 'fsgsbase',
      required: false,
      // Information, not a requirement: the tender picks the way this host allows.
      run: async () =>
        hostHasFsgsbase()
          ? 'available: thread switches make no host call'
          : 'not on this host: thread switches use one more pinned host call, arch_prctl(ARCH_SET_FS)',
    },
    {
      name: 'seccomp',
      required: true,
      run: async () => {
        const status = fs.readFileSync('/proc/self/status', 'utf8');
        if (!/^Seccomp:/m.test(status)) throw new Problem('the kernel has no seccomp', 'use a kernel built with CONFIG_SECCOMP_FILTER');
        return 'available';
      },
    },
  ];

  let failed = 0;
  for (const check of checks) {
    try {
      process.stdout.write(`✔ ${check.name.padEnd(16)} ${await check.run()}\n`);
    } catch (error) {
      const fix = error instanceof Problem ? error.fix : 'see README.md';
      process.stdout.write(`${check.required ? '✖' : '!'} ${check.name.padEnd(16)} ${errorMessage(error)}\n    fix: ${fix}\n`);
      if (check.required) failed++;
    }
  }
  if (failed > 0) {
    throw new EnvironmentError(`${failed} required check${failed > 1 ? 's' : ''} failed`, { hint: 'apply the fixes above' });
  }
}
