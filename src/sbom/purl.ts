/** Package URLs (purl-spec): pkg:type/namespace/name@version?qualifiers, each part percent-encoded. */

const encode = (part: string) => encodeURIComponent(part).replace(/%2F/gi, '/');

export function purl(type: string, name: string, version?: string, qualifiers: Record<string, string | undefined> = {}): string {
  // A namespace is everything before the last '/'; each of its segments is encoded alone.
  const path = name.split('/').map((segment) => encodeURIComponent(segment)).join('/');
  const query = Object.entries(qualifiers)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${encode(value)}`)
    .join('&');
  return `pkg:${type}/${path}${version ? `@${encodeURIComponent(version)}` : ''}${query ? `?${query}` : ''}`;
}
