/**
 * The architecture, checked: the layer rules of .dependency-cruiser.cjs over src/ (the same
 * check as `npm run lint:layers`), and the environment read only at the CLI edge.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

describe('src/ layers', () => {
  it('every import follows the rules of .dependency-cruiser.cjs', { timeout: 60_000 }, async () => {
    const options = await extractDepcruiseOptions(path.join(repoRoot, '.dependency-cruiser.cjs'));
    const tsConfig = extractTSConfig(path.join(repoRoot, 'tsconfig.json'));
    const { output } = await cruise(['src'], { ...options, baseDir: repoRoot }, {}, { tsConfig });
    const result = output as ICruiseResult;
    const comments = new Map((options.ruleSet?.forbidden ?? []).map((rule) => [rule.name, rule.comment]));
    // A cycle lists every step from `to` back to `from`.
    const route = (v: IViolation) => [v.from, ...(v.cycle?.map((step) => step.name) ?? [v.to])].join(' → ');
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${route(v)}\n    ${comments.get(v.rule.name) ?? ''}`);
    expect(violations, `layer rules broken:\n  ${violations.join('\n  ')}`).toEqual([]);
    expect(result.summary.totalCruised).toBeGreaterThan(40); // it did read src/
  });
});

describe('the environment', () => {
  it('is read only under src/cli/: lower modules get values as arguments', () => {
    const readers: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/process\.(env|cwd\(|argv)/.test(fs.readFileSync(file, 'utf8'))) readers.push(path.relative(repoRoot, file));
      }
    };
    for (const module of fs.readdirSync(path.join(repoRoot, 'src'))) if (module !== 'cli') walk(path.join(repoRoot, 'src', module));
    expect(readers, 'these read process.env, process.cwd() or process.argv; read it in src/cli and pass the value down').toEqual([]);
  });
});
