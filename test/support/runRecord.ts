// A run record for the run history store tests (test/unit and test/system runStore).
import { newRunId } from '../../src/adapters/runStore';
import type { RunRecord } from '../../src/shared/model';

export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: newRunId(), folder: '/w', pipelineId: 'ci', pipelineName: 'CI', source: { kind: 'delivery', file: 'delivery.yml' },
    stages: null, status: 'success', startedAt: Date.now(), finishedAt: Date.now(), durationMs: 5, trigger: 'cli', sha: null,
    pid: process.pid, jobs: [], ...over,
  };
}
