/** `nabla-build k8s IMAGE [--replicas N]`: Kubernetes manifests for a nabla image. */
import { InvalidArgumentError, type Command } from 'commander';
import type { GlobalOptions } from '../options.js';

const replicas = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) > 1000) throw new InvalidArgumentError('a whole number from 0 to 1000');
  return Number(value);
};

export function register(program: Command, globals: () => GlobalOptions): void {
  program
    .command('k8s')
    .description('print a Deployment (and a Service for its ports) that runs a nabla image with what it needs')
    .argument('<image>', 'an image in Docker, or an OCI layout folder or tar, as the cluster will pull it')
    .option('--replicas <n>', 'pods to run', replicas, 1)
    .option('--name-as <reference>', 'the image reference the cluster pulls (default: IMAGE)')
    .addHelpText(
      'after',
      `
Examples:
  $ nabla-build k8s registry.example/team/api:1.0 | kubectl apply -f -
  $ nabla-build k8s out/image.tar --name-as registry.example/team/api:1.0 --replicas 3

The pod drops every capability, runs with a read-only root, no privilege escalation and the
runtime's default seccomp profile, and its memory limit leaves the unikernel all its --mem.
An image with a network also gets NET_ADMIN (the tender uses it before the app starts, then
holds no capability) and the node's /dev/net/tun as a hostPath volume: that needs a
namespace whose Pod Security level is "privileged" (README: Networking, In Kubernetes).`,
    )
    .action(async (image: string, flags: { replicas: number; nameAs?: string }) => {
      globals();
      await (await import('./k8s-action.js')).printManifests(image, flags);
    });
}
