/** type=dir: the image's filesystem unpacked into a folder (e.g. for `COPY --from=build /out/ /`). */
import { untar } from '../../util/untar.js';
import type { ImageArtifact, Publisher } from '../types.js';
import { checkWritable, writeDirAtomic } from './atomic.js';

export class DirPublisher implements Publisher {
  readonly description: string;

  constructor(private readonly dest: string) {
    this.description = `files → ${dest}`;
  }

  async preflight(): Promise<void> {
    checkWritable(this.dest, 'folder');
  }

  async publish(image: ImageArtifact): Promise<string> {
    await writeDirAtomic(this.dest, async (dir) => {
      for (const layer of image.layers) await untar(layer.uncompressed, dir);
    });
    return this.dest;
  }
}
