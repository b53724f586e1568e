/** What this machine offers where nabla's behaviour depends on the host. */
import fs from 'node:fs';

const AT_HWCAP2 = 26n;
const HWCAP2_FSGSBASE = 1n << 1n;

/**
 * May user space set the FS base itself (the CPU has FSGSBASE and Linux >= 5.9 enabled it)?
 * AT_HWCAP2 as the kernel gave it to this process: what the tender reads too. Without it
 * the libOS sets thread pointers with one more pinned host call.
 */
export function hostHasFsgsbase(auxvPath = '/proc/self/auxv'): boolean {
  const auxv = fs.readFileSync(auxvPath);
  for (let off = 0; off + 16 <= auxv.length; off += 16) {
    const type = auxv.readBigUInt64LE(off);
    if (type === 0n) break;
    if (type === AT_HWCAP2) return (auxv.readBigUInt64LE(off + 8) & HWCAP2_FSGSBASE) !== 0n;
  }
  return false;
}
