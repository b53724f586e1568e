/**
 * The Engine on a Docker daemon, through dockerode: the only module that touches it.
 * dockerode is loaded when a command first connects, so `--help` and `--executor local`
 * (a builder image has no dockerode) never load it.
 */
import { PassThrough, Readable, type Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { EnvironmentError } from '../util/errors.js';
import type { Container, ContainerSecurity, ContainerSpec, Engine, ImageBuildOptions, ImageInfo, ImageRuntimeConfig, PublishedPort } from './engine.js';
import { forEachLine, readDaemonStream } from './lines.js';

const DEFAULT_HOST = 'unix:///var/run/docker.sock';

/**
 * Connects to the engine and pings it; a failure becomes one clear message. dockerode
 * finds the engine from DOCKER_HOST (and its TLS variables) itself: `dockerHost` is that
 * value, read by the CLI, and only names the engine in the message.
 */
export async function connectDocker(dockerHost?: string): Promise<Engine> {
  let Docker: typeof Dockerode;
  try {
    Docker = (await import('dockerode')).default;
  } catch (error) {
    throw new EnvironmentError('this nabla-build has no Docker client (a builder image runs --executor local only)', {
      field: '--executor',
      hint: 'use --executor local here, or run nabla-build where it was installed with npm',
      cause: error,
    });
  }
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    throw new EnvironmentError(`cannot reach the Docker engine at ${dockerHost ?? DEFAULT_HOST}: ${(error as Error).message}`, {
      field: 'DOCKER_HOST',
      hint:
        'start Docker (`sudo systemctl start docker`, or `sudo dockerd &`), fix DOCKER_HOST, ' +
        'or build inside a toolchain image with --executor local',
      cause: error,
    });
  }
  return reportingLostConnection(new DockerEngine(docker), dockerHost ?? DEFAULT_HOST);
}

/** Error codes of a connection that broke under a call: dockerd stopped, restarted or was cut off. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ENOENT', 'ECONNABORTED']);

/**
 * The engine (and the containers it makes) with every failed call whose connection broke
 * turned into one message naming the engine, instead of a bare "socket hang up". Outputs are
 * written only after a whole build, so a build cut off here has written none.
 */
function reportingLostConnection<T extends object>(target: T, host: string): T {
  const lost = (error: unknown): unknown => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === undefined || !CONNECTION_LOST.has(code)) return error;
    return new EnvironmentError(`lost the connection to the Docker engine at ${host}: ${(error as Error).message}`, {
      field: 'DOCKER_HOST',
      hint:
        'check that dockerd still runs (`docker info`), then build again (no output was written; a compile ' +
        'container cut off may be left: `docker ps -a --filter label=dev.nabla.build=compile`)',
      cause: error,
    });
  };
  const wrap = (value: unknown): unknown => {
    if (value instanceof DockerContainer) return reportingLostConnection(value, host);
    if (value instanceof Readable) {
      const copy = new PassThrough();
      value.on('error', (error) => copy.destroy(lost(error) as Error));
      return value.pipe(copy);
    }
    return value;
  };
  return new Proxy(target, {
    get(object, key, receiver) {
      const member: unknown = Reflect.get(object, key, receiver);
      if (typeof member !== 'function') return member;
      return (...args: unknown[]) => {
        const result: unknown = member.apply(object, args);
        return result instanceof Promise ? result.then(wrap, (error: unknown) => Promise.reject(lost(error))) : result;
      };
    },
  });
}

export class DockerEngine implements Engine {
  constructor(private readonly docker: Dockerode) {}

  async version(): Promise<{ version: string; apiVersion: string }> {
    const { Version, ApiVersion } = await this.docker.version();
    return { version: Version, apiVersion: ApiVersion };
  }

  async inspectImage(reference: string): Promise<ImageInfo | undefined> {
    let info: Dockerode.ImageInspectInfo;
    try {
      info = await this.docker.getImage(reference).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
    return {
      id: info.Id,
      repoTags: info.RepoTags ?? [],
      repoDigests: info.RepoDigests ?? [],
      created: info.Created,
      os: info.Os,
      architecture: info.Architecture,
      config: runtimeConfig(info.Config),
    };
  }

  async tagImage(image: string, repository: string, tag: string): Promise<void> {
    await this.docker.getImage(image).tag({ repo: repository, tag });
  }

  async loadImage(archive: Buffer): Promise<void> {
    await readDaemonStream(await this.docker.loadImage(Readable.from([archive]), { quiet: true }), () => {});
  }

  async saveImage(reference: string): Promise<NodeJS.ReadableStream> {
    return this.docker.getImage(reference).get();
  }

  async importImage(rootfs: NodeJS.ReadableStream, repository: string, tag: string, onLine: (line: string) => void): Promise<void> {
    await readDaemonStream(await this.docker.importImage(rootfs, { repo: repository, tag }), onLine);
  }

  async pullImage(reference: string, onLine: (line: string) => void): Promise<void> {
    await readDaemonStream(await this.docker.pull(reference), onLine);
  }

  async buildImage(context: Buffer, options: ImageBuildOptions, onLine: (line: string) => void): Promise<void> {
    const stream = await this.docker.buildImage(Readable.from([context]), {
      t: options.tag,
      buildargs: options.buildargs,
      labels: options.labels,
      ...(options.hostNetwork ? { networkmode: 'host' } : {}),
      forcerm: true,
      pull: false,
      abortSignal: options.signal,
    });
    await readDaemonStream(stream, onLine);
  }

  async createContainer(spec: ContainerSpec): Promise<Container> {
    const container = await this.docker.createContainer({
      Image: spec.image,
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      Cmd: spec.cmd,
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      WorkingDir: spec.workingDir,
      Labels: spec.labels,
      ...(spec.security?.user ? { User: spec.security.user } : {}),
      ExposedPorts: Object.fromEntries((spec.publish ?? []).map((p) => [p.containerPort, {}])),
      HostConfig: {
        NetworkMode: spec.network,
        ...(spec.runtime ? { Runtime: spec.runtime } : {}),
        ...(spec.security ? securityConfig(spec.security) : {}),
        ...(spec.publish?.length ? { PortBindings: portBindings(spec.publish) } : {}),
        // Mounts, not Binds: a missing source is an error, never a folder made for it on the engine's host.
        ...(spec.mounts?.length ? { Mounts: spec.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target })) } : {}),
      },
    });
    return new DockerContainer(container);
  }

  async removeImage(reference: string): Promise<void> {
    try {
      await this.docker.getImage(reference).remove();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  async networkExists(name: string): Promise<boolean> {
    try {
      await this.docker.getNetwork(name).inspect();
      return true;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return false;
      throw error;
    }
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<void> {
    await this.docker.createNetwork({ Name: name, Driver: 'bridge', Labels: labels, CheckDuplicate: true });
  }

  async removeNetwork(name: string): Promise<void> {
    await this.docker.getNetwork(name).remove();
  }
}

function securityConfig(security: ContainerSecurity): Dockerode.HostConfig {
  return {
    CapDrop: ['ALL'],
    CapAdd: security.capabilities,
    Devices: security.devices.map((device) => ({ PathOnHost: device, PathInContainer: device, CgroupPermissions: 'rwm' })),
    Memory: security.memoryBytes,
    ReadonlyRootfs: security.readOnlyRootfs,
    SecurityOpt: security.noNewPrivileges ? ['no-new-privileges'] : [],
  };
}

function portBindings(publish: PublishedPort[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of publish) (bindings[p.containerPort] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return bindings;
}

class DockerContainer implements Container {
  readonly id: string;

  constructor(private readonly container: Dockerode.Container) {
    this.id = container.id;
  }

  async putArchive(tar: Buffer, path: string): Promise<void> {
    await this.container.putArchive(Readable.from([tar]), { path });
  }

  async run(onLine: (line: string) => void): Promise<number> {
    // Attached before the start, so no early line is lost.
    const attached = await this.container.attach({ stream: true, stdout: true, stderr: true });
    const lines = new PassThrough();
    this.container.modem.demuxStream(attached, lines, lines);
    const streamed = forEachLine(lines, onLine);
    try {
      await this.container.start();
      const { StatusCode: status } = (await this.container.wait()) as { StatusCode: number };
      return status;
    } finally {
      (attached as Duplex).destroy();
      lines.end();
      await streamed;
    }
  }

  getArchive(path: string): Promise<NodeJS.ReadableStream> {
    return this.container.getArchive({ path });
  }

  async start(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<{ exited: Promise<number> }> {
    const attached = await this.container.attach({ stream: true, stdout: true, stderr: true });
    const out = new PassThrough();
    const err = new PassThrough();
    out.pipe(stdout, { end: false });
    err.pipe(stderr, { end: false });
    this.container.modem.demuxStream(attached, out, err);
    const ended = new Promise<void>((resolve) => attached.on('end', resolve).on('close', resolve).on('error', () => resolve()));
    await this.container.start();
    const exited = (async () => {
      const { StatusCode: status } = (await this.container.wait()) as { StatusCode: number };
      // The attach stream ends after the last byte of output; wait for it briefly.
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2000).unref())]);
      (attached as Duplex).destroy();
      out.end();
      err.end();
      return status;
    })();
    return { exited };
  }

  async address(network: string): Promise<string | undefined> {
    const info = await this.container.inspect();
    return info.NetworkSettings.Networks[network]?.IPAddress || undefined;
  }

  async hostPid(): Promise<number> {
    return (await this.container.inspect()).State.Pid;
  }

  async kill(signal?: string): Promise<void> {
    await this.container.kill(signal ? { signal } : {});
  }

  async remove(): Promise<void> {
    await this.container.remove({ force: true });
  }
}

/** Docker's inspect answer has nulls (and may have a string Entrypoint) where the OCI config has nothing. */
function runtimeConfig(config: Partial<Dockerode.ImageInspectInfo['Config']> | null | undefined): ImageRuntimeConfig {
  const list = (value: string | string[] | null | undefined) => (value == null ? undefined : Array.isArray(value) ? value : [value]);
  return {
    Entrypoint: list(config?.Entrypoint),
    Cmd: list(config?.Cmd),
    Env: config?.Env ?? undefined,
    WorkingDir: config?.WorkingDir || undefined,
    ExposedPorts: config?.ExposedPorts ?? undefined,
    Labels: config?.Labels ?? undefined,
  };
}
