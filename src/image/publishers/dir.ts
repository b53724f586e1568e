/** type=dir: the image's files, unpacked into a folder (for `COPY --from=build /out/ /`). */
import type { ImageArtifact, Publisher } from '../types.js';
import { untar } from '../../util/untar.js';
import { checkWritable, writeDirAtomic } from './atomic.js';

export class DirPublisher implements Publisher {
  readonly description: string;

  constructor(private readonly dest: string) {
    this.description = `files → ${this.dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest);
  }

  async publish(image: ImageArtifact): Promise<string> {
    await writeDirAtomic(this.dest, async (dir) => {
      for (const layer of image.layers) await untar(layer.uncompressed, dir);
    });
    return this.dest;
  }
}
