/**
 * Image references (`[registry[:port]/]path[:tag]`), checked with the grammar of the
 * distribution project's reference package so a bad -t fails before the build starts.
 */
import type { ImageReference } from '../image/reference.js';
import { ConfigError } from '../util/errors.js';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;

const HINT = 'use lowercase NAME[:TAG], e.g. -t hello-c or -t 127.0.0.1:5000/team/hello-c:1.0';

export function parseReference(text: string): ImageReference {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid image name "${text}": ${why}`, { field: '--tag', hint: HINT });
  };
  if (text.length === 0) fail('it is empty');
  if (text.includes('@')) fail('digests cannot be used as a tag');

  let rest = text;
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      if (!DOMAIN.test(first)) fail(`"${first}" is not a registry host`);
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`tag "${tag}" must be 1-128 of [A-Za-z0-9_.-] and not start with . or -`);
  }
  const components = rest.split('/');
  for (const component of components) {
    if (!COMPONENT.test(component)) {
      fail(component === '' ? 'a path component is empty' : `"${component}" must be lowercase letters, digits and . _ -`);
    }
  }
  if (rest.length > 255) fail('the name is longer than 255 characters');
  return { registry, repository: components.join('/'), tag };
}
