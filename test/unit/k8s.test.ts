/**
 * `nabla-build k8s`: the manifests validate against the Kubernetes OpenAPI schemas
 * (kubernetes-models, offline), and carry exactly the securityContext the image needs.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { appName, k8sManifests, manifestsYaml } from '../../src/run/k8s.js';
import { imageNeeds } from '../../src/run/needs.js';

const server = imageNeeds('srv', {
  Entrypoint: ['/nabla/nabla-run', '--mem=128', '--disk=/nabla/rootfs.tar', '--net-from=eth0', '/nabla/server.nabla', '8080'],
  ExposedPorts: { '8080/tcp': {} },
});
const hello = imageNeeds('hello', { Entrypoint: ['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '/nabla/hello.nabla'] });

/** The YAML as kubectl reads it, each document validated by its kind's schema. */
function validated(yaml: string): Record<string, any>[] {
  return parseAllDocuments(yaml).map((doc) => {
    expect(doc.errors).toEqual([]);
    const object = doc.toJS() as Record<string, any>;
    if (object.kind === 'Deployment') new Deployment(object as never).validate();
    else if (object.kind === 'Service') new Service(object as never).validate();
    else throw new Error(`unexpected kind ${object.kind}`);
    return object;
  });
}

describe('k8s manifests', () => {
  it('a server: a valid Deployment and Service; NET_ADMIN added, all else dropped, the tun device mounted', () => {
    const [deployment, service] = validated(manifestsYaml(k8sManifests({ image: 'registry.example:5000/team/My_Api:1.0', replicas: 3, needs: server })));
    expect(deployment!.spec.replicas).toBe(3);
    const pod = deployment!.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe('registry.example:5000/team/My_Api:1.0');
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.resources.limits.memory).toBe('144Mi'); // --mem=128 and the tender's 16 MiB
    expect(container.volumeMounts).toEqual([{ name: 'tun', mountPath: '/dev/net/tun' }]);
    expect(pod.volumes).toEqual([{ name: 'tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } }]);
    expect(service!.spec.ports).toEqual([{ name: 'tcp-8080', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    expect(service!.spec.selector).toEqual(deployment!.spec.selector.matchLabels);
    expect(deployment!.metadata.name).toBe('my-api');
  });

  it('no network: no capability at all, user nobody, no volume, no Service', () => {
    const documents = validated(manifestsYaml(k8sManifests({ image: 'hello:1', replicas: 1, needs: hello })));
    expect(documents).toHaveLength(1);
    const container = documents[0]!.spec.template.spec.containers[0];
    expect(container.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, readOnlyRootFilesystem: true });
    expect(container.resources.limits.memory).toBe('272Mi');
    expect(documents[0]!.spec.template.spec.volumes).toBeUndefined();
  });

  it('the schema check can fail: a field of the wrong type is refused (the schemas, like the API server, let unknown fields through: the exact objects are pinned above)', () => {
    const [deployment] = k8sManifests({ image: 'hello:1', replicas: 1, needs: hello }) as Record<string, any>[];
    const broken = structuredClone(deployment!);
    broken.spec.template.spec.containers[0].securityContext.capabilities.add = 'NET_ADMIN';
    expect(() => new Deployment(broken as never).validate()).toThrow();
    const renamed = structuredClone(deployment!);
    renamed.spec.replicas = 'three';
    expect(() => new Deployment(renamed as never).validate()).toThrow();
  });

  it('names: a DNS label from the repository', () => {
    expect(appName('registry:5000/team/my_app:1.0')).toBe('my-app');
    expect(appName('hello')).toBe('hello');
    expect(appName('x/y@sha256:abc')).toBe('y');
    expect(appName('___')).toBe('app');
  });

  it('YAML quoting: strings that YAML would read as something else are quoted', () => {
    const yaml = manifestsYaml([{ a: 'true', b: '8080', c: 'plain', d: 'has: colon', e: [] }]);
    expect(parseAllDocuments(yaml)[0]!.toJS()).toEqual({ a: 'true', b: '8080', c: 'plain', d: 'has: colon', e: [] });
  });
});
