import { createRequire } from 'node:module';
import { packageRoot } from '../util/paths.js';

/** The version in package.json; recorded in every image's labels. */
export const VERSION: string = (createRequire(import.meta.url)(`${packageRoot()}/package.json`) as { version: string }).version;
