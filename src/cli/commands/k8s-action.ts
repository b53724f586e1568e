/** The body of `k8s`, loaded only when it runs. */
import fs from 'node:fs';
import { readImage } from '../../image/read.js';
import { k8sManifests, manifestsYaml } from '../../run/k8s.js';
import { imageNeeds } from '../../run/needs.js';
import { ConfigError } from '../../util/errors.js';
import { engine } from '../engine.js';

export async function printManifests(image: string, flags: { replicas: number; nameAs?: string }): Promise<void> {
  if (fs.existsSync(image) && !flags.nameAs) {
    throw new ConfigError(`${image} is a file: the cluster needs the reference it pulls the image by`, {
      field: '--name-as',
      hint: `add --name-as REGISTRY/NAME:TAG (where you pushed it: nabla-build build --push -t REGISTRY/NAME:TAG)`,
    });
  }
  const config = fs.existsSync(image) ? (await readImage(image)).config.config ?? {} : await fromEngine(image);
  const needs = imageNeeds(image, config);
  process.stdout.write(manifestsYaml(k8sManifests({ image: flags.nameAs ?? image, replicas: flags.replicas, needs })));
}

async function fromEngine(image: string) {
  const info = await (await engine()).inspectImage(image);
  if (!info) {
    throw new ConfigError(`"${image}" is neither a file nor an image Docker knows`, {
      field: 'image',
      hint: 'pass an image in Docker (`docker images`), or an OCI layout folder or tar from `nabla-build build -o type=oci,dest=…`',
    });
  }
  return info.config;
}
