/** --watch: the next change under an app folder, once a burst of writes has settled. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextChange } from '../../src/run/watch.js';
import { tempDir } from '../helpers/cli.js';

describe('nextChange', () => {
  it('answers with the first file of a burst of writes, in a subfolder too; .git is not a change', async () => {
    const dir = tempDir('nabla-watch-');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.mkdirSync(path.join(dir, '.git'));
    const change = nextChange(dir, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(path.join(dir, '.git', 'index'), 'x');
    await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(path.join(dir, 'src', 'main.c'), 'int main(void) { return 0; }');
    fs.writeFileSync(path.join(dir, 'src', 'other.c'), '');
    expect(await change).toBe(path.join('src', 'main.c'));
  });

  it('stops watching when aborted (Ctrl-C)', async () => {
    const controller = new AbortController();
    const change = nextChange(tempDir('nabla-watch-'), controller.signal);
    controller.abort(new Error('interrupted'));
    await expect(change).rejects.toThrow('interrupted');
  });
});
