/**
 * Where an image says it comes from: the org.opencontainers.image.* annotations and labels
 * (SOURCE_DATE_EPOCH, git, nabla.json / package.json), and the SBOM attached as an OCI 1.1
 * referrer in the layout's index.json and the referrers tag's index.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openContainersAnnotations } from '../../src/build/compose.js';
import { gitSource, withoutCredentials } from '../../src/config/provenance.js';
import { resolveBuildConfig } from '../../src/config/resolve.js';
import { buildImage } from '../../src/image/oci.js';
import { layoutFiles } from '../../src/image/publishers/oci-layout.js';
import { attach, listedReferrers, referrerDescriptor, referrersIndex, referrersTag, withReferrer } from '../../src/image/referrers.js';
import { ConfigError } from '../../src/util/errors.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { testToolchains } from '../helpers/toolchains.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const folder = (files: Record<string, string>) => {
  const dir = tempDir('nabla-provenance-');
  dirs.push(dir);
  return writeFiles(dir, files);
};
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { encoding: 'utf8' }).trim();

describe('git: the source URL, the commit, a changed tree', () => {
  it('drops credentials from a remote URL, keeps scp-like ones, publishes no local path', () => {
    expect(withoutCredentials('https://user:ghp_secret@github.com/team/app.git')).toBe('https://github.com/team/app.git');
    expect(withoutCredentials('ssh://git@example.com:2222/team/app.git')).toBe('ssh://example.com:2222/team/app.git');
    expect(withoutCredentials('git@github.com:team/app.git')).toBe('git@github.com:team/app.git');
    expect(withoutCredentials('/home/me/src/app')).toBeUndefined();
    expect(withoutCredentials('file:///home/me/src/app')).toBeUndefined();
  });

  it('reads origin and HEAD; only the app folder\'s own changes make it "modified"', () => {
    const repo = folder({ 'app/main.c': 'int main(void){return 0;}\n', 'docs/README': 'x\n' });
    git(repo, 'init', '-q');
    git(repo, 'remote', 'add', 'upstream', 'https://other.example/fork.git');
    git(repo, 'remote', 'add', 'origin', 'https://ci:token@git.example/team/app.git');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'first');
    const head = git(repo, 'rev-parse', 'HEAD');
    const app = path.join(repo, 'app');
    expect(gitSource(app)).toEqual({ url: 'https://git.example/team/app.git', revision: head, modified: false });
    fs.writeFileSync(path.join(repo, 'docs', 'README'), 'changed\n'); // outside the app
    expect(gitSource(app).modified).toBe(false);
    fs.writeFileSync(path.join(app, 'new.c'), ''); // untracked, in the app
    expect(gitSource(app)).toMatchObject({ revision: head, modified: true });
  });

  it('says nothing outside a repository, or in one without a commit', () => {
    expect(gitSource(folder({ 'a.c': '' }))).toEqual({});
    const empty = folder({ 'a.c': '' });
    git(empty, 'init', '-q');
    expect(gitSource(empty)).toEqual({});
  });
});

describe('org.opencontainers.image.* from SOURCE_DATE_EPOCH, git and nabla.json / package.json', () => {
  const resolve = (dir: string, env: NodeJS.ProcessEnv = {}) => resolveBuildConfig(dir, {}, { cwd: dir, env, toolchains: testToolchains(folder({})) });

  it('fills created, source, revision, version, licenses and base.name', () => {
    const repo = folder({ 'hello.c': '', 'nabla.json': JSON.stringify({ version: '2.0.0', license: 'Apache-2.0 OR MIT' }) });
    git(repo, 'init', '-q');
    git(repo, 'remote', 'add', 'origin', 'https://git.example/team/hello.git');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'first');
    const config = resolve(repo, { SOURCE_DATE_EPOCH: '1700000000' });
    expect(openContainersAnnotations(config, 'nabla/toolchain-c:abc')).toEqual({
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.source': 'https://git.example/team/hello.git',
      'org.opencontainers.image.revision': git(repo, 'rev-parse', 'HEAD'),
      'org.opencontainers.image.version': '2.0.0',
      'org.opencontainers.image.licenses': 'Apache-2.0 OR MIT',
      'org.opencontainers.image.base.name': 'nabla/toolchain-c:abc',
    });
  });

  it('takes version and license from package.json when nabla.json has none, and its name for the app', () => {
    const app = folder({ 'index.js': '', 'package.json': JSON.stringify({ name: 'api', version: '1.4.2', license: 'ISC' }) });
    expect(resolve(app).app).toEqual({ name: 'api', version: '1.4.2', license: 'ISC', source: {} });
    const annotations = openContainersAnnotations(resolve(app), 'nabla/toolchain-node:x');
    expect(Object.keys(annotations).sort()).toEqual([
      'org.opencontainers.image.base.name',
      'org.opencontainers.image.created',
      'org.opencontainers.image.licenses',
      'org.opencontainers.image.version',
    ]);
    expect(annotations['org.opencontainers.image.created']).toBe('1980-01-01T00:00:00Z');
  });

  it('refuses a license that is not an SPDX expression, naming the field', () => {
    const app = folder({ 'hello.c': '', 'nabla.json': JSON.stringify({ license: 'GPL v2, see COPYING' }) });
    expect(() => resolve(app)).toThrow(ConfigError);
    expect(() => resolve(app)).toThrow(/field "license"/);
  });
});

describe('the SBOM as a referrer of the image', () => {
  async function image() {
    const built = await buildImage({
      entries: [{ type: 'file', path: '/hello', mode: 0o755, data: Buffer.from('x') }],
      config: { entrypoint: ['/hello'], cmd: [], env: [], workingDir: '/', exposedPorts: [], labels: {} },
      annotations: { 'org.opencontainers.image.created': '1980-01-01T00:00:00Z' },
      sourceDateEpoch: 315532800,
    });
    return attach(built, 'application/vnd.cyclonedx+json', Buffer.from('{"bomFormat":"CycloneDX"}'), { 'org.opencontainers.image.created': '1980-01-01T00:00:00Z' });
  }

  it('the image manifest carries the annotations; the artifact manifest names the image as its subject', async () => {
    const artifact = await image();
    expect(JSON.parse(artifact.manifest.data.toString()).annotations).toEqual({ 'org.opencontainers.image.created': '1980-01-01T00:00:00Z' });
    const sbom = JSON.parse(artifact.sbom!.manifest.data.toString());
    expect(sbom).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cyclonedx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
      layers: [{ mediaType: 'application/vnd.cyclonedx+json', digest: artifact.sbom!.document.digest }],
      subject: { mediaType: artifact.manifest.mediaType, digest: artifact.manifest.digest, size: artifact.manifest.size },
    });
  });

  it('an OCI layout lists the image per tag, then the SBOM, and holds all their blobs', async () => {
    const artifact = await image();
    const files = new Map(layoutFiles(artifact, ['1.0']).map((f) => [f.path, f.data]));
    const index = JSON.parse(files.get('index.json')!.toString());
    expect(index.manifests.map((m: { digest: string; artifactType?: string }) => [m.digest, m.artifactType])).toEqual([
      [artifact.manifest.digest, undefined],
      [artifact.sbom!.manifest.digest, 'application/vnd.cyclonedx+json'],
    ]);
    for (const blob of [artifact.sbom!.manifest, artifact.sbom!.config, artifact.sbom!.document]) {
      expect(files.get(`blobs/sha256/${blob.digest.slice(7)}`)).toEqual(blob.data);
    }
  });

  it('a layout of an image built without -t names it "latest": with the SBOM beside it, skopeo needs a name to pick it', async () => {
    const artifact = await image();
    const index = JSON.parse(layoutFiles(artifact, []).find((f) => f.path === 'index.json')!.data.toString());
    expect(index.manifests.map((m: { digest: string; annotations?: object }) => [m.digest, m.annotations])).toEqual([
      [artifact.manifest.digest, { 'org.opencontainers.image.ref.name': 'latest' }],
      [artifact.sbom!.manifest.digest, { 'dev.nabla.artifact': 'sbom', 'org.opencontainers.image.created': '1980-01-01T00:00:00Z' }],
    ]);
  });

  it('the referrers tag is sha256-<hex> of the image, an index of the SBOM\'s descriptor', async () => {
    const artifact = await image();
    expect(referrersTag(artifact.manifest)).toBe(artifact.manifest.digest.replace('sha256:', 'sha256-'));
    const index = JSON.parse(referrersIndex(withReferrer([], artifact.sbom!)).data.toString());
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{
        mediaType: artifact.sbom!.manifest.mediaType,
        digest: artifact.sbom!.manifest.digest,
        size: artifact.sbom!.manifest.size,
        artifactType: 'application/vnd.cyclonedx+json',
        annotations: { 'dev.nabla.artifact': 'sbom', 'org.opencontainers.image.created': '1980-01-01T00:00:00Z' },
      }],
    });
  });

  describe('adding the SBOM to the referrers another tool listed', () => {
    const INDEX = 'application/vnd.oci.image.index.v1+json';
    const signature = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${'5'.repeat(64)}`,
      size: 701,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ…', 'org.opencontainers.image.created': '2026-12-06T00:00:00Z' },
      platform: { os: 'linux', architecture: 'amd64' }, // a field we do not use: kept as written
    };
    const otherSbom = { mediaType: signature.mediaType, digest: `sha256:${'6'.repeat(64)}`, size: 650, artifactType: 'application/vnd.cyclonedx+json' };
    const earlierOurs = { ...otherSbom, digest: `sha256:${'7'.repeat(64)}`, annotations: { 'dev.nabla.artifact': 'sbom', 'org.opencontainers.image.created': '1979-01-01T00:00:00Z' } };
    const indexOf = (...manifests: unknown[]) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests }));

    it('keeps every other referrer whole and in its order, replaces an earlier SBOM of ours, lists ours last', async () => {
      const artifact = await image();
      const listed = listedReferrers(INDEX, indexOf(signature, earlierOurs, otherSbom));
      const merged = withReferrer(listed, artifact.sbom!);
      expect(merged).toEqual([signature, otherSbom, referrerDescriptor(artifact.sbom!)]);
    });

    it('pushed again, the same SBOM is listed once', async () => {
      const artifact = await image();
      const once = referrersIndex(withReferrer([signature], artifact.sbom!));
      const twice = referrersIndex(withReferrer(listedReferrers(INDEX, once.data), artifact.sbom!));
      expect(twice.digest).toBe(once.digest);
      expect(JSON.parse(twice.data.toString()).manifests).toHaveLength(2);
    });

    it('an empty index is a valid start', () => {
      expect(listedReferrers(INDEX, indexOf())).toEqual([]);
    });

    it('refuses what is not a referrers index, saying why, so the push never overwrites it', () => {
      expect(() => listedReferrers('application/vnd.oci.image.manifest.v1+json', Buffer.from('{}'))).toThrow(
        /^it holds a application\/vnd\.oci\.image\.manifest\.v1\+json, not an image index$/,
      );
      expect(() => listedReferrers(INDEX, Buffer.from('{"manifests": ['))).toThrow(/^its index is not JSON$/);
      expect(() => listedReferrers(INDEX, Buffer.from('null'))).toThrow(/has no list of manifest descriptors/);
      expect(() => listedReferrers(INDEX, Buffer.from('{"manifests": {}}'))).toThrow(/has no list of manifest descriptors/);
      expect(() => listedReferrers(INDEX, indexOf({ digest: 'sha256:00' }))).toThrow(/has no list of manifest descriptors/);
      expect(() => listedReferrers(INDEX, indexOf(signature, null))).toThrow(/has no list of manifest descriptors/);
    });
  });
});
