/**
 * The FS-base modes a test can run here. Tests run the path every host can take
 * (host-call) everywhere, and the FSGSBASE path (cpu) where the CPU and kernel have it, so
 * one machine exercises both when it can; elsewhere the cpu cases show as skipped.
 */
import { hostHasFsgsbase } from '../../src/util/host.js';

export { hostHasFsgsbase };

export type FsBaseMode = 'cpu' | 'host-call';

/** Both modes, each with whether this host can run it (cpu needs FSGSBASE). */
export const FS_BASE_MODES: Array<{ mode: FsBaseMode; runs: boolean }> = [
  { mode: 'cpu', runs: hostHasFsgsbase() },
  { mode: 'host-call', runs: true },
];
