/**
 * An image pulled from a registry into an OCI layout folder, which the rest of nabla-build
 * reads as it reads any other (image/read.ts): the manifest under a tag or digest (for an
 * index, the linux/amd64 entry), its config and layers. Every blob is checked against the
 * digest and size that name it before it is written, the chosen manifest too; nothing is
 * trusted for being served by the registry.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import type { RegistryClient } from './client.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];
/** Each layer is held in memory (up to maxBlob): their number is bounded too. */
const MAX_LAYERS = 256;
/** The platform a nabla unikernel runs. */
const OS = 'linux';
const ARCHITECTURE = 'amd64';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be a sha256 digest');
const descriptor = z.object({ mediaType: z.string().optional(), digest, size: z.number().int().nonnegative() });
const index = z.object({
  manifests: z.array(descriptor.extend({ platform: z.object({ os: z.string(), architecture: z.string() }).passthrough().optional() })),
});
const manifest = z.object({ config: descriptor, layers: z.array(descriptor.extend({ mediaType: z.string() })) });

export interface PulledImage {
  /** The image manifest's digest (of linux/amd64, for an index). */
  digest: string;
  /** The image's config digest: Docker's image ID. */
  configDigest: string;
}

/**
 * Pulls `reference` (a tag, or a digest `sha256:...`) with `client` into `dir`, an empty
 * folder, as an OCI layout. maxBlob: no blob larger is fetched (the caller holds them in memory).
 */
export async function pullImage(client: RegistryClient, repository: string, reference: string, dir: string, maxBlob: number): Promise<PulledImage> {
  const name = `${client.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
  // The source cannot be used as given: a usage error (exit 2), as a broken image file is.
  const fail = (why: string, hint: string) => new ConfigError(`${name}: ${why}`, { field: 'IMAGE', hint });
  const write = (data: Buffer, want: string) => {
    const file = path.join(dir, 'blobs', 'sha256', want.slice('sha256:'.length));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  };
  const verified = (what: string, data: Buffer, want: { digest: string; size?: number }) => {
    const got = sha256(data);
    if (got !== want.digest || (want.size !== undefined && data.length !== want.size)) {
      throw fail(
        `the registry served ${what} that is not what its digest names (${want.digest}, ${want.size ?? '?'} bytes; got ${got}, ${data.length} bytes)`,
        'the registry or something between us and it altered the image: pull again, and check the registry',
      );
    }
    return data;
  };
  const parse = <S extends z.ZodTypeAny>(what: string, data: Buffer, schema: S): z.output<S> => {
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch (error) {
      throw fail(`its ${what} is not JSON (${(error as Error).message})`, 'the registry serves something that is not an OCI image');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw fail(`its ${what} is malformed (${issue.path.join('.') || 'top level'}: ${issue.message})`, 'the registry serves something that is not an OCI image');
    }
    return parsed.data;
  };

  let top = await client.requireManifest(reference, ACCEPT);
  if (reference.startsWith('sha256:')) verified('a manifest', top.data, { digest: reference });
  let manifestDigest = sha256(top.data);
  if (top.mediaType === OCI_INDEX || top.mediaType === DOCKER_LIST) {
    const { manifests } = parse('index', top.data, index);
    const entry = manifests.find((m) => m.platform?.os === OS && m.platform.architecture === ARCHITECTURE);
    if (!entry) {
      const has = manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : 'no platform')).join(', ');
      throw fail(`its index has no ${OS}/${ARCHITECTURE} image (it has: ${has || 'nothing'})`, `nabla unikernels run ${OS}/${ARCHITECTURE} programs: convert an image built for it`);
    }
    top = await client.requireManifest(entry.digest, ACCEPT);
    verified('a manifest', top.data, entry);
    manifestDigest = entry.digest;
  }
  if (top.mediaType !== OCI_MANIFEST && top.mediaType !== DOCKER_MANIFEST) {
    throw fail(`the registry answered a manifest of type "${top.mediaType}"`, 'convert reads OCI and Docker v2 image manifests (not Docker schema 1)');
  }
  const image = parse('manifest', top.data, manifest);
  if (image.layers.length > MAX_LAYERS) {
    throw fail(`its manifest lists ${image.layers.length} layers, more than ${MAX_LAYERS}`, 'no image needs that many (Docker stops at 127): check the registry');
  }
  for (const layer of image.layers) {
    if (!/(^|\.)tar(\+gzip|\.gzip)?$/.test(layer.mediaType)) {
      throw fail(`layer ${layer.digest} is a ${layer.mediaType}`, 'convert reads plain and gzipped tar layers (not zstd): push the image with gzip layers');
    }
  }
  for (const blob of [image.config, ...image.layers]) {
    if (blob.size > maxBlob) throw fail(`blob ${blob.digest} has ${blob.size} bytes, more than ${maxBlob}`, 'convert holds each layer in memory: convert a smaller image');
    write(verified(`blob ${blob.digest.slice(0, 19)}`, await client.getBlob(blob.digest, blob.size), blob), blob.digest);
  }
  write(top.data, manifestDigest);
  const entry = { mediaType: top.mediaType, digest: manifestDigest, size: top.data.length };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }));
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { digest: manifestDigest, configDigest: image.config.digest };
}

const sha256 = (data: Buffer) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
