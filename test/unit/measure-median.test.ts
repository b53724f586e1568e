import { describe, expect, it } from 'vitest';
import { medianRun, type TargetResult } from '../../src/measure/measure.js';

function run(functions: number, tag: string): { method: 'event-stacks'; result: TargetResult } {
  return {
    method: 'event-stacks',
    result: {
      name: tag,
      kind: 'nabla image',
      window: '',
      load: '',
      syscalls: { read: 1, write: 2 },
      functions: Array.from({ length: functions }, (_, i) => `f${i}`),
      taskFunctions: Array.from({ length: Math.floor(functions / 2) }, (_, i) => `f${i}`),
      events: 10,
      tasks: 1,
      lost: 0,
    },
  };
}

describe('medianRun', () => {
  it('reports one run as it is, without a list of runs', () => {
    const only = run(300, 'a');
    expect(medianRun([only])).toBe(only.result);
  });

  it('reports the whole run with the median function figure, and every run in the order they ran', () => {
    const median = medianRun([run(453, 'first'), run(373, 'second'), run(384, 'third'), run(435, 'fourth'), run(390, 'fifth')]);
    expect(median.name).toBe('fifth');
    expect(median.functions).toHaveLength(390);
    expect(median.taskFunctions).toHaveLength(195); // the same run's, not another's
    expect(median.runs!.map((r) => r.functions)).toEqual([453, 373, 384, 435, 390]);
    expect(median.runs![0]).toEqual({ functions: 453, taskFunctions: 226, syscalls: 2, lost: 0 });
  });

  it('of an even number of runs, reports the lower of the two middle ones', () => {
    expect(medianRun([run(400, 'a'), run(380, 'b'), run(420, 'c'), run(390, 'd')]).name).toBe('d');
  });
});
