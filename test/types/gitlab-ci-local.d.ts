/** GitLab's own CI schema (ci.json, draft-07), as the gitlab-ci-local package ships it. */
declare module 'gitlab-ci-local/src/schema/schema.js' {
  export const schema: Record<string, unknown>;
}
