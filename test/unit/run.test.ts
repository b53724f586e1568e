/**
 * `nabla-build run` against a fake engine: what an image's entrypoint asks for becomes the
 * container's settings and nothing more; a network made for the run is removed; signals
 * reach the app; its exit code comes back.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { containerMemoryMiB, imageNeeds } from '../../src/run/needs.js';
import { parsePublish, runImage, type RunIo } from '../../src/run/run.js';
import { FakeEngine } from '../helpers/fake-engine.js';

const SERVER = ['/nabla/nabla-run', '--mem=128', '--disk=/nabla/rootfs.tar', '--net-from=eth0', '/nabla/server.nabla', '8080'];
const HELLO = ['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '/nabla/hello.nabla', '--mem=1'];

function engineWith(entrypoint: string[], ports: string[] = []): FakeEngine {
  const engine = new FakeEngine();
  engine.addImage('sha256:app', ['app:1']).config = { Entrypoint: entrypoint, WorkingDir: '/app', ExposedPorts: Object.fromEntries(ports.map((p) => [p, {}])) };
  return engine;
}

function io(): RunIo & { notes: string[]; forward?: (signal: NodeJS.Signals) => void } {
  const notes: string[] = [];
  const result: RunIo & { notes: string[]; forward?: (signal: NodeJS.Signals) => void } = {
    notes,
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    note: (text) => notes.push(text),
    forwardSignals: (forward) => {
      result.forward = forward;
      return () => (result.forward = undefined);
    },
  };
  return result;
}

describe('what an image needs', () => {
  it('reads --mem and --net-from from the tender\'s own flags, not the app\'s arguments', () => {
    expect(imageNeeds('x', { Entrypoint: SERVER, ExposedPorts: { '8080/tcp': {} } })).toEqual({ network: true, guestMiB: 128, containerMiB: 144, ports: ['8080/tcp'] });
    expect(imageNeeds('x', { Entrypoint: HELLO })).toEqual({ network: false, guestMiB: 256, containerMiB: 272, ports: [] });
  });

  it('the container limit leaves the guest all its memory, as the tender reckons it', () => {
    expect(containerMemoryMiB(256)).toBe(272);
    expect(containerMemoryMiB(1024)).toBe(1057); // 1057 - (16 + (1057 - 512) / 32) >= 1024
  });

  it('refuses an image that is not a nabla image', () => {
    expect(() => imageNeeds('debian', { Entrypoint: ['/bin/bash'] })).toThrow(/not a nabla image/);
  });

  it('-p: [ip:]host:container[/proto], or one clear error', () => {
    expect(parsePublish('8080:80')).toEqual({ hostIp: '', hostPort: 8080, containerPort: '80/tcp' });
    expect(parsePublish('127.0.0.1:53:53/udp')).toEqual({ hostIp: '127.0.0.1', hostPort: 53, containerPort: '53/udp' });
    expect(() => parsePublish('8080')).toThrow(/not HOST:CONTAINER/);
    expect(() => parsePublish('70000:80')).toThrow(/not HOST:CONTAINER/);
  });
});

describe('runImage', () => {
  it('no network: network none, no capability, nobody, read-only, the memory limit; the exit code comes back', async () => {
    const engine = engineWith(HELLO);
    engine.nextContainer = { output: ['hi'], exitCode: 3 };
    const streams = io();
    expect(await runImage(engine, { image: 'app:1', args: ['a'], publish: [] }, streams)).toBe(3);
    const [container] = engine.containers;
    expect(container!.spec).toMatchObject({ image: 'app:1', cmd: ['a'], network: 'none', workingDir: '/app' });
    expect(container!.spec.security).toEqual({ capabilities: [], devices: [], memoryBytes: 272 << 20, readOnlyRootfs: true, noNewPrivileges: true, user: '65534:65534' });
    expect(container!.removed).toBe(true);
    expect(streams.notes[0]).toBe('docker run --rm --network none --cap-drop ALL --user 65534:65534 --read-only --security-opt no-new-privileges --memory 272m app:1 a');
    expect(streams.forward).toBeUndefined(); // signals are nabla-build's again
  });

  it('a server on an engine without a default bridge: a network of its own, NET_ADMIN and the tun device, its URL; all removed', async () => {
    const engine = engineWith(SERVER, ['8080/tcp']);
    engine.networks.delete('bridge');
    const streams = io();
    expect(await runImage(engine, { image: 'app:1', args: [], publish: [] }, streams)).toBe(0);
    const made = engine.calls.find((c) => c.startsWith('network create '))!.split(' ')[2]!;
    expect(made).toMatch(/^nabla-run-[0-9a-f]{8}$/);
    expect(engine.containers[0]!.spec.network).toBe(made);
    expect(engine.containers[0]!.spec.security).toMatchObject({ capabilities: ['NET_ADMIN'], devices: ['/dev/net/tun'], user: undefined });
    expect(streams.notes).toContain('serving at http://10.0.0.2:8080/');
    expect(engine.calls).toContain(`network rm ${made}`);
  });

  it('-p: published on the host, and that URL printed; Docker\'s bridge used where there is one', async () => {
    const engine = engineWith(SERVER, ['8080/tcp']);
    const streams = io();
    await runImage(engine, { image: 'app:1', args: [], publish: ['127.0.0.1:18080:8080'] }, streams);
    expect(engine.containers[0]!.spec).toMatchObject({ network: 'bridge', publish: [{ hostIp: '127.0.0.1', hostPort: 18080, containerPort: '8080/tcp' }] });
    expect(streams.notes).toContain('serving at http://127.0.0.1:18080/');
    expect(engine.calls.some((c) => c.startsWith('network'))).toBe(false);
  });

  it('signals go to the app; the third Ctrl-C kills it', async () => {
    const engine = engineWith(HELLO);
    const streams = io();
    let release: () => void = () => {};
    engine.nextContainer = { output: [], exitCode: 130 };
    const originalCreate = engine.createContainer.bind(engine);
    engine.createContainer = async (spec) => {
      const container = await originalCreate(spec);
      const start = container.start.bind(container);
      container.start = async (out, err) => {
        await start(out, err);
        return { exited: new Promise<number>((resolve) => (release = () => resolve(130))) };
      };
      return container;
    };
    const running = runImage(engine, { image: 'app:1', args: [], publish: [] }, streams);
    await new Promise((r) => setTimeout(r, 10));
    streams.forward!('SIGTERM');
    streams.forward!('SIGINT');
    streams.forward!('SIGINT');
    streams.forward!('SIGINT');
    release();
    expect(await running).toBe(130);
    expect(engine.containers[0]!.signals).toEqual(['SIGTERM', 'SIGINT', 'SIGINT', 'SIGKILL']);
  });

  it('bad input: no such image, -p for an app without a network', async () => {
    await expect(runImage(engineWith(HELLO), { image: 'nope', args: [], publish: [] }, io())).rejects.toThrow(/Docker has no image "nope"/);
    await expect(runImage(engineWith(HELLO), { image: 'app:1', args: [], publish: ['8080:8080'] }, io())).rejects.toThrow(/has no network/);
  });
});
