/**
 * The languages nabla-build builds: what detection answers, what nabla.json's "language"
 * and a toolchain.json's "languages" may name.
 */
export const LANGUAGES = ['c', 'go', 'node', 'python'] as const;
export type Language = (typeof LANGUAGES)[number];
