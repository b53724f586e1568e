/** The body of `convert`, loaded only when it runs. */
import { convert, type SourceImage } from '../../build/convert.js';
import { resolveConvertConfig, type ConvertFlags } from '../../config/convert.js';
import type { Analysis } from '../../convert/analyze.js';
import { ExitCode } from '../../util/errors.js';
import type { GlobalOptions } from '../options.js';
import { pipelineDeps } from '../pipeline-deps.js';
import { createProgress } from '../progress.js';

export async function runConvert(image: string, flags: ConvertFlags & { json?: boolean }, globals: GlobalOptions): Promise<void> {
  const config = resolveConvertConfig(image, flags, { cwd: process.cwd(), env: process.env });
  const progress = createProgress(globals.progress);
  try {
    if (!config.check && config.outputs.length === 0) {
      progress.info('note: no output requested, so the image is only converted; add --load, --push or --output to keep it');
    }
    const result = await convert(config, {
      ...pipelineDeps(globals, progress),
      // With --check the report is the result (stdout); otherwise progress, before the image is written.
      report: (source, analysis) => (config.check ? process.stdout : process.stderr).write(formatReport(source, analysis)),
    });
    if (config.check) {
      if (!result.analysis.ok) globals.setExitCode(ExitCode.usage);
      return;
    }
    const digest = result.image!.manifest.digest;
    if (flags.json) {
      const runnable = [...result.analysis.runnable.keys()].map((p) => `/${p}`);
      process.stdout.write(JSON.stringify({ digest, imageId: result.image!.config.digest, published: result.published, runnable }) + '\n');
    }
    else process.stdout.write(`${digest}\n`);
  } finally {
    progress.close();
  }
}

const LABELS = { cannot: 'CANNOT RUN', warning: 'warning', note: 'note' } as const;

export function formatReport(source: SourceImage, analysis: Analysis): string {
  const lines = [`convert ${source.name} (${source.imageId.slice(0, 19)}): ${source.flat.nodes.size} files and folders`];
  lines.push(`  runs     ${analysis.argv.length > 0 ? JSON.stringify(analysis.argv) : '(nothing)'}`);
  const program = analysis.program;
  if (program) {
    const { elf } = program;
    const kind = `${elf.bits}-bit, machine ${elf.machine}, ${elf.type === 'exec' ? 'fixed addresses' : elf.type === 'dyn' ? (elf.pie ? 'PIE' : 'shared library') : 'not an executable'}`;
    lines.push(`  program  /${program.path} (${kind}, ${elf.interp ? `loader ${elf.interp}` : 'static'})`);
    if (program.libraries.length > 0) lines.push(`  libs     ${program.libraries.join(' ')}`);
  }
  const names = [...analysis.runnable.keys()].map((p) => p.slice(p.lastIndexOf('/') + 1));
  const some = names.length === 0 ? '' : ` (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''})`;
  lines.push(`  on PATH  ${names.length} program(s) the tender can run${some}, ${analysis.notRunnable} it cannot (scripts, shared libraries, other architectures)`);
  for (const finding of analysis.findings) lines.push(`  ${LABELS[finding.level]}: ${finding.message}`);
  lines.push(analysis.ok ? '  result   the program can run through the tender' : '  result   the program CANNOT run through the tender');
  return `${lines.join('\n')}\n`;
}
