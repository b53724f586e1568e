/** The SBOM of one image: what collect.ts finds, as CycloneDX 1.5 JSON (cyclonedx.ts says why that format). */
import { collect, type SbomInput } from './collect.js';
import { cyclonedx, CYCLONEDX_MEDIA_TYPE } from './cyclonedx.js';
import { readDebian } from './debian.js';

export { CYCLONEDX_MEDIA_TYPE as SBOM_MEDIA_TYPE };
export type { SbomInput };

export function generateSbom(input: SbomInput): Buffer {
  return cyclonedx(collect(input), input.tool, input.created);
}

/** The facts an executor read from the toolchain image, by path, as SbomInput's Debian and lwIP fields. */
export function toolchainFacts(facts: ReadonlyMap<string, string>): Pick<SbomInput, 'debian' | 'lwipVersion'> {
  const debian = readDebian(facts.get('/var/lib/dpkg/status'), facts.get('/usr/lib/os-release'));
  const init = facts.get('/opt/nabla/lwip/src/include/lwip/init.h') ?? '';
  const part = (name: string) => new RegExp(`#define\\s+LWIP_VERSION_${name}\\s+(\\d+)`).exec(init)?.[1];
  const lwip = [part('MAJOR'), part('MINOR'), part('REVISION')];
  return {
    ...(debian ? { debian } : {}),
    ...(lwip.every((p) => p !== undefined) ? { lwipVersion: lwip.join('.') } : {}),
  };
}
