/**
 * Go's raw system call (toolchains/go/syscall6_linux_amd64.s, Go assembly) cannot include
 * native/include/nabla_abi.h: it repeats the fast call's two numbers, which must stay the
 * libOS's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

function defines(file: string): Map<string, bigint> {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8');
  const found = new Map<string, bigint>();
  for (const [, name, value] of text.matchAll(/^#define\s+(NABLA_\w+)\s+\(?(-?(?:0x[0-9a-fA-F]+|\d+))L?\)?\s*$/gm)) {
    found.set(name!, value!.startsWith('-') ? -BigInt(value!.slice(1)) : BigInt(value!));
  }
  return found;
}

describe('the fast call\'s numbers in Go\'s raw system call', () => {
  it('are nabla_abi.h\'s', () => {
    const abi = defines('native/include/nabla_abi.h');
    const go = defines('toolchains/go/syscall6_linux_amd64.s');
    for (const name of ['NABLA_SYS_FASTCALL', 'NABLA_FASTCALL_SLOW']) {
      expect(abi.get(name), `${name} in nabla_abi.h`).toBeDefined();
      expect(go.get(name), name).toBe(abi.get(name));
    }
  });
});
