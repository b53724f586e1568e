/**
 * Namespaced debug logging, off by default: `DEBUG=nabla:*` or `--verbose` turns on
 * `nabla:toolchain`, `nabla:executor`, ... Written to stderr.
 */
let patterns: RegExp[] = [];

function parse(spec: string): RegExp[] {
  return spec
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((p) => new RegExp('^' + p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$'));
}

/** Turns on the namespaces `spec` names (the CLI passes $DEBUG, or nabla:* for --verbose). */
export function enableDebug(spec: string): void {
  patterns = parse(spec);
}

export type Debug = (message: string) => void;

export function debug(namespace: string): Debug {
  const name = `nabla:${namespace}`;
  return (message) => {
    if (patterns.some((p) => p.test(name))) process.stderr.write(`${name} ${message}\n`);
  };
}
