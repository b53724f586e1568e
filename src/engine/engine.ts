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
  /** `docker import` of a root filesystem tar as repository:tag. */
  importImage(rootfs: NodeJS.ReadableStream, repository: string, tag: string, onLine: (line: string) => void): Promise<void>;
  pullImage(reference: string, onLine: (line: string) => void): Promise<void>;
  /** `docker build` of a context tar that holds its Dockerfile at the top. */
  buildImage(context: Buffer, options: ImageBuildOptions, onLine: (line: string) => void): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<Container>;
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
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
  labels: Record<string, string>;
  network: 'none' | 'host';
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
  kill(): Promise<void>;
  /** Removes the container, running or not. */
  remove(): Promise<void>;
}

export async function imageExists(engine: Engine, reference: string): Promise<boolean> {
  return (await engine.inspectImage(reference)) !== undefined;
}
