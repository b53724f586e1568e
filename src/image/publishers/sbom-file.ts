/** --sbom FILE: the image's SBOM (the document its referrer artifact carries) as a file. */
import { OutputError } from '../../util/errors.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { checkWritable, writeFileAtomic } from './atomic.js';

export class SbomFilePublisher implements Publisher {
  readonly description: string;

  constructor(private readonly dest: string) {
    this.description = `sbom → ${dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest, 'file', '--sbom');
  }

  async publish(image: ImageArtifact): Promise<string> {
    if (!image.sbom) throw new OutputError('this image has no SBOM to write', { field: '--sbom', hint: 'a bug: every build makes one' });
    await writeFileAtomic(this.dest, image.sbom.document.data, '--sbom');
    return this.dest;
  }
}
