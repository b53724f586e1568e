/**
 * `nabla-build run`: one nabla image in a container with exactly what it needs: the network
 * flags only when the tender takes the network, else no privilege at all (user nobody); every
 * other capability dropped, a read-only root, a memory limit that fits --mem. Its output is
 * streamed, signals are handed on, its exit code returned, and everything it made removed.
 */
import crypto from 'node:crypto';
import type { Container, ContainerSecurity, Engine, PublishedPort } from '../engine/engine.js';
import { debug } from '../util/debug.js';
import { ConfigError, EnvironmentError, errorMessage, NablaError } from '../util/errors.js';
import { imageNeeds, NET_CAPABILITY, NOBODY, TUN_DEVICE, type ImageNeeds } from './needs.js';

export interface RunRequest {
  image: string;
  args: string[];
  /** -p [IP:]HOST:CONTAINER[/tcp|udp], as docker run spells them. */
  publish: string[];
  /** A network to join instead of Docker's default one (or one made for this run). */
  network?: string;
  /** Aborted: the app is asked to stop (SIGTERM), as for a restart under --watch. */
  stop?: AbortSignal;
}

export interface RunIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Progress notes: the flags used, where a server is. */
  note: (text: string) => void;
  /**
   * Hands the run a way to pass the signals nabla-build receives to the app; returns the
   * function that stops doing so.
   */
  forwardSignals: (forward: (signal: NodeJS.Signals) => void) => () => void;
}

/** Labels on what a run makes, so a leftover can be found (`docker ps -a --filter label=…`). */
const RUN_LABEL = 'dev.nabla.run';
/** Ctrl-C this many times and the app is killed rather than asked. */
const KILL_AFTER = 3;
const log = debug('run');
const MIB = 1024 * 1024;

export async function runImage(engine: Engine, request: RunRequest, io: RunIo): Promise<number> {
  const info = await engine.inspectImage(request.image);
  if (!info) {
    throw new ConfigError(`Docker has no image "${request.image}"`, {
      field: 'IMAGE',
      hint: 'build it with `nabla-build build DIR --load -t NAME`, or pass the app folder to build and run it',
    });
  }
  const needs = imageNeeds(request.image, info.config);
  const publish = request.publish.map(parsePublish);
  if (!needs.network && (publish.length > 0 || request.network)) {
    throw new ConfigError(`${request.image} has no network (its nabla.json lists no ports), so -p and --network have nothing to reach`, {
      field: publish.length > 0 ? '-p' : '--network',
      hint: 'list the port in nabla.json "ports" and build again',
    });
  }
  const labels = { [RUN_LABEL]: request.image };
  let network = 'none';
  let madeNetwork: string | undefined;
  if (needs.network) {
    network = request.network ?? 'bridge';
    if (!(await engine.networkExists(network))) {
      if (request.network) throw new ConfigError(`Docker has no network "${request.network}"`, { field: '--network', hint: '`docker network ls` lists them' });
      // An engine without its default bridge (dockerd --bridge=none): a network of our own.
      madeNetwork = `nabla-run-${crypto.randomBytes(4).toString('hex')}`;
      await engine.createNetwork(madeNetwork, labels);
      network = madeNetwork;
    }
  }
  const security = securityFor(needs);
  io.note(`docker run ${dockerRunFlags(security, network, publish).join(' ')} ${request.image}${request.args.length ? ' ' + request.args.join(' ') : ''}`);
  let container: Container | undefined;
  try {
    container = await engine.createContainer({
      image: request.image,
      cmd: request.args,
      env: {},
      workingDir: info.config.WorkingDir ?? '/app',
      labels,
      network,
      security,
      publish,
    });
    const running = container;
    let interrupts = 0;
    const stopForwarding = io.forwardSignals((signal) => {
      interrupts = signal === 'SIGINT' ? interrupts + 1 : interrupts;
      const sent = interrupts >= KILL_AFTER ? 'SIGKILL' : signal;
      log(`${signal}: sending ${sent} to the app`);
      // It may have exited already: then there is nothing to do.
      running.kill(sent).catch((error: unknown) => log(`kill ${sent}: ${errorMessage(error)}`));
    });
    const onStop = () => void running.kill('SIGTERM').catch((error: unknown) => log(`kill SIGTERM: ${errorMessage(error)}`));
    request.stop?.addEventListener('abort', onStop);
    try {
      const { exited } = await running.start(io.stdout, io.stderr);
      if (request.stop?.aborted) onStop();
      if (needs.network) await noteUrls(running, network, needs, publish, io.note);
      return await exited;
    } finally {
      stopForwarding();
      request.stop?.removeEventListener('abort', onStop);
    }
  } catch (error) {
    if (error instanceof NablaError) throw error;
    throw new EnvironmentError(`the engine could not run ${request.image}: ${errorMessage(error)}`, {
      hint: needs.network
        ? `the image takes the container's network: the engine must allow --cap-add ${NET_CAPABILITY} and --device ${TUN_DEVICE}`
        : 'check `docker info`, and that the engine can run containers',
      cause: error,
    });
  } finally {
    await container?.remove().catch(() => {});
    if (madeNetwork) await engine.removeNetwork(madeNetwork).catch(() => {});
  }
}

export function securityFor(needs: ImageNeeds): ContainerSecurity {
  return {
    capabilities: needs.network ? [NET_CAPABILITY] : [],
    devices: needs.network ? [TUN_DEVICE] : [],
    memoryBytes: needs.containerMiB * MIB,
    readOnlyRootfs: true,
    noNewPrivileges: true,
    user: needs.network ? undefined : `${NOBODY}:${NOBODY}`,
  };
}

/** The same run as `docker run` flags, for people and scripts that run images themselves:
 * written from the ContainerSecurity the engine gets, so the two cannot disagree. */
export function dockerRunFlags(security: ContainerSecurity, network: string, publish: PublishedPort[]): string[] {
  return [
    '--rm',
    '--network',
    network,
    '--cap-drop',
    'ALL',
    ...security.capabilities.flatMap((capability) => ['--cap-add', capability]),
    ...security.devices.flatMap((device) => ['--device', device]),
    ...(security.user ? ['--user', security.user] : []),
    ...(security.readOnlyRootfs ? ['--read-only'] : []),
    ...(security.noNewPrivileges ? ['--security-opt', 'no-new-privileges'] : []),
    '--memory',
    `${security.memoryBytes / MIB}m`,
    ...publish.flatMap((p) => ['-p', `${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort}:${p.containerPort}`]),
  ];
}

/** -p [IP:]HOST:CONTAINER[/PROTO]. */
export function parsePublish(spec: string): PublishedPort {
  const match = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(spec);
  const hostPort = Number(match?.[2]);
  const containerPort = Number(match?.[3]);
  if (!match || hostPort < 1 || hostPort > 65535 || containerPort < 1 || containerPort > 65535) {
    throw new ConfigError(`-p ${spec} is not HOST:CONTAINER`, { field: '-p', hint: 'e.g. -p 8080:8080, -p 127.0.0.1:8080:8080 or -p 5353:53/udp' });
  }
  return { hostIp: match[1] ?? '', hostPort, containerPort: `${containerPort}/${match[4] ?? 'tcp'}` };
}

async function noteUrls(container: Container, network: string, needs: ImageNeeds, publish: PublishedPort[], note: (text: string) => void): Promise<void> {
  for (const p of publish.filter((p) => p.containerPort.endsWith('/tcp'))) {
    note(`serving at http://${p.hostIp && p.hostIp !== '0.0.0.0' ? p.hostIp : '127.0.0.1'}:${p.hostPort}/`);
  }
  if (publish.length > 0) return;
  const address = await container.address(network).catch(() => undefined);
  for (const port of needs.ports.filter((p) => p.endsWith('/tcp'))) {
    note(address ? `serving at http://${address}:${port.split('/')[0]}/` : `serving on port ${port} of the container (no address on ${network})`);
  }
  if (needs.ports.length === 0 && address) note(`the unikernel has the address ${address} on ${network}`);
}
