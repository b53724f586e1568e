/**
 * `nabla-build k8s`: a Deployment (and a Service when the app serves ports) that runs a
 * nabla image with what it needs and nothing else: every capability dropped, and only with
 * a network NET_ADMIN added and the node's /dev/net/tun mounted; a read-only root, no
 * privilege escalation, the runtime's default seccomp profile (ours is installed inside it),
 * user nobody when there is no network, and a memory limit that leaves the guest all its --mem.
 */
import type { ImageNeeds } from './needs.js';
import { NET_CAPABILITY, NOBODY, TUN_DEVICE } from './needs.js';

export interface K8sRequest {
  image: string;
  replicas: number;
  needs: ImageNeeds;
}

type Manifest = Record<string, unknown>;

export function k8sManifests({ image, replicas, needs }: K8sRequest): Manifest[] {
  const name = appName(image);
  const labels = { 'app.kubernetes.io/name': name };
  const tcpPorts = needs.ports.map((port) => {
    const [number, protocol] = port.split('/');
    return { number: Number(number), protocol: (protocol ?? 'tcp').toUpperCase() };
  });
  const container: Manifest = {
    name,
    image,
    ...(tcpPorts.length ? { ports: tcpPorts.map((p) => ({ containerPort: p.number, protocol: p.protocol })) } : {}),
    resources: {
      requests: { memory: `${needs.containerMiB}Mi` },
      limits: { memory: `${needs.containerMiB}Mi` },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'], ...(needs.network ? { add: [NET_CAPABILITY] } : {}) },
      seccompProfile: { type: 'RuntimeDefault' },
      ...(needs.network ? {} : { runAsNonRoot: true, runAsUser: NOBODY, runAsGroup: NOBODY }),
    },
    ...(needs.network ? { volumeMounts: [{ name: 'tun', mountPath: TUN_DEVICE }] } : {}),
  };
  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [container],
          // The tender takes the tap from the node's tun device (runc's default device rules allow it).
          ...(needs.network ? { volumes: [{ name: 'tun', hostPath: { path: TUN_DEVICE, type: 'CharDevice' } }] } : {}),
        },
      },
    },
  };
  if (tcpPorts.length === 0) return [deployment];
  const service: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: {
      selector: labels,
      ports: tcpPorts.map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.number}`, port: p.number, targetPort: p.number, protocol: p.protocol })),
    },
  };
  return [deployment, service];
}

/** A DNS-1123 label from the image's repository: registry:5000/team/my_app:1.0 → my-app. */
export function appName(image: string): string {
  const repository = image.split('@')[0]!.replace(/:[^/:]*$/, '');
  const last = repository.split('/').pop() ?? 'app';
  const name = last.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return name || 'app';
}

/** YAML for plain data: maps, lists, strings (quoted as JSON, which YAML reads), numbers, booleans. */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value.map((item) => `\n${indent}- ${toYaml(item, `${indent}  `).replace(/^\n\s*/, '')}`).join('');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return entries
      .map(([key, item]) => {
        const rendered = toYaml(item, `${indent}  `);
        return `\n${indent}${/^[A-Za-z0-9_./-]+$/.test(key) ? key : JSON.stringify(key)}:${rendered.startsWith('\n') ? '' : ' '}${rendered}`;
      })
      .join('');
  }
  if (typeof value === 'string') return /^[A-Za-z][A-Za-z0-9_./-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value) ? value : JSON.stringify(value);
  return String(value);
}

export function manifestsYaml(manifests: Manifest[]): string {
  return manifests.map((m) => toYaml(m).replace(/^\n/, '')).join('\n---\n') + '\n';
}
