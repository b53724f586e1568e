/**
 * What nabla-build asks of a container engine, and nothing more. The one real
 * implementation is ./docker.ts (dockerode); everything else takes an Engine, so unit
 * tests pass a typed fake. A method that reads a daemon stream has read all of it and
 * checked every line: it rejects, with the daemon's own words, when the work failed.
 */

export interface Engine {
  version(): Promise<{ version: string; apiVersion: string }>;
  /** The image's metadata, or undefined when the engine has no such image. */
  inspectImage(reference: string): Promise<ImageInfo | undefined>;
  /** Gives `image` the name repository:tag as well. */
  tagImage(image: string, repository: string, tag: string): Promise<void>;
  /** `docker load` of an archive in the `docker save` format (tagged by its RepoTags). */
  loadImage(archive: Buffer): Promise<void>;
  /** `docker save` of one image: a docker-archive tar (manifest.json, config, layer tars). */
  saveImage(reference: string): Promise<NodeJS.ReadableStream>;
  /** `docker import` of a root filesystem tar as repository:tag. */
  importImage(rootfs: NodeJS.ReadableStream, repository: string, tag: string, onLine: (line: string) => void): Promise<void>;
  pullImage(reference: string, onLine: (line: string) => void): Promise<void>;
  /** `docker build` of a context tar that holds its Dockerfile at the top. */
  buildImage(context: Buffer, options: ImageBuildOptions, onLine: (line: string) => void): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<Container>;
  /** Untags (and, when it was the last name, removes) an image; no error if it is gone. */
  removeImage(reference: string): Promise<void>;
  /** Whether the engine has a network of that name ("bridge": Docker's default one). */
  networkExists(name: string): Promise<boolean>;
  /** A bridge network of the engine's choosing subnet, labelled. */
  createNetwork(name: string, labels: Record<string, string>): Promise<void>;
  removeNetwork(name: string): Promise<void>;
}

export interface ImageInfo {
  /** The config digest, "sha256:…". */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: string;
  os: string;
  architecture: string;
  config: ImageRuntimeConfig;
}

/** The run settings of an image config, as the OCI config and Docker both spell them. */
export interface ImageRuntimeConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
}

export interface ImageBuildOptions {
  tag: string;
  buildargs: Record<string, string>;
  labels: Record<string, string>;
  /** Host networking for Dockerfile steps that run apt or npm. */
  hostNetwork: boolean;
  signal?: AbortSignal;
}

export interface ContainerSpec {
  image: string;
  /** Replaces the image's entrypoint (undefined: the image's own). */
  entrypoint?: string[];
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
  labels: Record<string, string>;
  /** none, host, or the name of a network. */
  network: string;
  /** What an app container is given beyond the defaults (an app run by `nabla-build run`). */
  security?: ContainerSecurity;
  /** Container ports ("8080/tcp") published on the host. */
  publish?: PublishedPort[];
  /** Host folders mounted read-write (a compile cache); the engine refuses a source it does not have. */
  mounts?: BindMount[];
  /** The OCI runtime the engine runs it with, by its registered name (undefined: the engine's default). */
  runtime?: string;
}

export interface BindMount {
  source: string;
  target: string;
}

export interface ContainerSecurity {
  /** Capabilities kept; every other one is dropped. */
  capabilities: string[];
  /** Host device paths given to the container at the same path. */
  devices: string[];
  /** The container's memory limit, in bytes. */
  memoryBytes: number;
  readOnlyRootfs: boolean;
  noNewPrivileges: boolean;
  /** uid:gid to run as; undefined: the image's user (root). */
  user?: string;
}

export interface PublishedPort {
  containerPort: string;
  hostIp: string;
  hostPort: number;
}

/** A created container; whoever creates one removes it. */
export interface Container {
  readonly id: string;
  /** Unpacks a tar into the container's filesystem at `path` (before it starts). */
  putArchive(tar: Buffer, path: string): Promise<void>;
  /**
   * Starts the container and passes each line of its stdout and stderr to onLine.
   * Resolves with its exit code once it has exited and all its output has been read.
   */
  run(onLine: (line: string) => void): Promise<number>;
  /** A tar of `path`, whose entries start with path's last component ("out/…"). */
  getArchive(path: string): Promise<NodeJS.ReadableStream>;
  /**
   * Attaches (the app's stdout and stderr, kept apart) and starts the container; resolves once
   * it runs, with the exit code to come (after all its output was written).
   */
  start(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<{ exited: Promise<number> }>;
  /** The container's address on a network, once it runs. */
  address(network: string): Promise<string | undefined>;
  /** The host's pid of the container's first process, once it runs (0 when it has exited). */
  hostPid(): Promise<number>;
  /** Sends a signal (default SIGKILL). */
  kill(signal?: string): Promise<void>;
  /** Removes the container, running or not. */
  remove(): Promise<void>;
}

export async function imageExists(engine: Engine, reference: string): Promise<boolean> {
  return (await engine.inspectImage(reference)) !== undefined;
}
