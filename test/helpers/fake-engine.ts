/**
 * A typed stand-in for the container engine (src/engine/engine.ts) in unit tests: images
 * in a map, every call recorded, and failures the way a daemon reports them (the call
 * rejects with the daemon's message). e2e tests use the real engine.
 */
import { Readable } from 'node:stream';
import type { Container, ContainerSpec, Engine, ImageBuildOptions, ImageInfo } from '../../src/engine/engine.js';

type Failing = 'load' | 'build' | 'pull' | 'import' | 'save';
/** What a container prints and exits with; startError: the engine's refusal to start it. */
type ContainerBehaviour = { output: string[]; exitCode: number; archive?: Buffer | Record<string, Buffer>; startError?: string };

export class FakeEngine implements Engine {
  /** Images under each of their names (tags and ID). */
  readonly images = new Map<string, ImageInfo>();
  /** One line per call that changes something: "build nabla/x:1", "tag a nabla/b:c", "load". */
  readonly calls: string[] = [];
  readonly loaded: Buffer[] = [];
  /** What `docker save` of a name gives (a docker archive); an empty stream for others. */
  readonly saved = new Map<string, Buffer>();
  readonly built: { context: Buffer; options: ImageBuildOptions }[] = [];
  readonly containers: FakeContainer[] = [];
  /** The daemon's error message per kind of call; that call then rejects with it. */
  readonly failures = new Map<Failing, string>();
  /** Lines a build, pull or import prints (before its failure, if it fails). */
  output: string[] = [];
  /** What a load leaves in the engine; by default nothing, as if the archive were empty. */
  onLoad: (archive: Buffer) => void = () => {};
  /** What the next container prints, exits with, and has under the path getArchive asks for
   * (one tar for any path, or a tar per path). */
  nextContainer: ContainerBehaviour = { output: [], exitCode: 0 };
  /** The daemon's refusal of a container with bind mounts (a source it does not have); none: accepted. */
  mountError?: string;

  /** Puts an image in the engine under `id` and its repoTags. */
  addImage(id: string, repoTags: string[] = []): ImageInfo {
    const info: ImageInfo = { id, repoTags, repoDigests: [], created: '1970-01-01T00:00:00Z', os: 'linux', architecture: 'amd64', config: {} };
    for (const name of [id, ...repoTags]) this.images.set(name, info);
    return info;
  }

  async version(): Promise<{ version: string; apiVersion: string }> {
    return { version: '0.0-fake', apiVersion: '1.41' };
  }

  async inspectImage(reference: string): Promise<ImageInfo | undefined> {
    return this.images.get(reference);
  }

  async tagImage(image: string, repository: string, tag: string): Promise<void> {
    const info = this.images.get(image);
    if (!info) throw new Error(`No such image: ${image}`);
    this.calls.push(`tag ${image} ${repository}:${tag}`);
    info.repoTags.push(`${repository}:${tag}`);
    this.images.set(`${repository}:${tag}`, info);
  }

  async loadImage(archive: Buffer): Promise<void> {
    this.calls.push('load');
    this.loaded.push(archive);
    this.failIfTold('load');
    this.onLoad(archive);
  }

  async saveImage(reference: string): Promise<NodeJS.ReadableStream> {
    this.calls.push(`save ${reference}`);
    this.failIfTold('save');
    return Readable.from([this.saved.get(reference) ?? Buffer.alloc(0)]);
  }

  async importImage(rootfs: NodeJS.ReadableStream, repository: string, tag: string, onLine: (line: string) => void): Promise<void> {
    for await (const _chunk of rootfs); // a real engine reads it all
    this.calls.push(`import ${repository}:${tag}`);
    this.print(onLine, 'import');
    this.addImage(`sha256:imported-${repository}-${tag}`, [`${repository}:${tag}`]);
  }

  async pullImage(reference: string, onLine: (line: string) => void): Promise<void> {
    this.calls.push(`pull ${reference}`);
    this.print(onLine, 'pull');
    this.addImage(`sha256:pulled-${reference}`, [reference]);
  }

  async buildImage(context: Buffer, options: ImageBuildOptions, onLine: (line: string) => void): Promise<void> {
    this.calls.push(`build ${options.tag}`);
    this.built.push({ context, options });
    this.print(onLine, 'build');
    this.addImage(`sha256:built-${options.tag}`, [options.tag]);
  }

  async createContainer(spec: ContainerSpec): Promise<Container> {
    if (this.mountError && spec.mounts?.length) throw new Error(this.mountError);
    const container = new FakeContainer(`fake${this.containers.length}`.padEnd(64, '0'), spec, this.nextContainer);
    this.containers.push(container);
    return container;
  }

  async removeImage(reference: string): Promise<void> {
    this.calls.push(`rmi ${reference}`);
    this.images.delete(reference);
  }

  /** Networks there are; Docker's default "bridge" unless a test takes it away. */
  readonly networks = new Set<string>(['bridge']);

  async networkExists(name: string): Promise<boolean> {
    return this.networks.has(name);
  }

  async createNetwork(name: string): Promise<void> {
    this.calls.push(`network create ${name}`);
    this.networks.add(name);
  }

  async removeNetwork(name: string): Promise<void> {
    this.calls.push(`network rm ${name}`);
    this.networks.delete(name);
  }

  private print(onLine: (line: string) => void, kind: Failing): void {
    this.output.forEach((line) => onLine(line));
    this.failIfTold(kind);
  }

  private failIfTold(kind: Failing): void {
    const message = this.failures.get(kind);
    if (message !== undefined) throw new Error(message);
  }
}

export class FakeContainer implements Container {
  /** Tars put in, by path. */
  readonly archivesIn: { path: string; tar: Buffer }[] = [];
  started = false;
  killed = false;
  removed = false;

  constructor(
    readonly id: string,
    readonly spec: ContainerSpec,
    private readonly behaviour: ContainerBehaviour,
  ) {}

  async putArchive(tar: Buffer, path: string): Promise<void> {
    this.archivesIn.push({ path, tar });
  }

  async run(onLine: (line: string) => void): Promise<number> {
    if (this.behaviour.startError) throw new Error(this.behaviour.startError);
    this.started = true;
    this.behaviour.output.forEach((line) => onLine(line));
    return this.behaviour.exitCode;
  }

  /** Paths getArchive was asked for, in order. */
  readonly archivesOut: string[] = [];

  async getArchive(path: string): Promise<NodeJS.ReadableStream> {
    this.archivesOut.push(path);
    const { archive } = this.behaviour;
    const tar = Buffer.isBuffer(archive) ? archive : archive?.[path];
    if (!tar) throw new Error(`Could not find the file ${path} in container ${this.id}`);
    return Readable.from([tar]);
  }

  /** Signals sent with kill(), in order. */
  readonly signals: string[] = [];

  async start(stdout: NodeJS.WritableStream): Promise<{ exited: Promise<number> }> {
    this.started = true;
    this.behaviour.output.forEach((line) => stdout.write(`${line}\n`));
    return { exited: Promise.resolve(this.behaviour.exitCode) };
  }

  async address(): Promise<string | undefined> {
    return '10.0.0.2';
  }

  async hostPid(): Promise<number> {
    return 0;
  }

  async kill(signal = 'SIGKILL'): Promise<void> {
    this.killed = true;
    this.signals.push(signal);
  }

  async remove(): Promise<void> {
    this.removed = true;
  }
}
