// How a job's status reads on the board: its icon and its words.
export const STATUS_ICON: Record<string, string> = {
  queued: '○', running: '◌', success: '✓', failed: '✗', skipped: '↷', manual: '⏸', unsupported: '⊘', cancelled: '⊘',
  interrupted: '!',
};

export function statusText(job: { status: string; allowFailure: boolean; partial?: boolean }): string {
  // Passed, but steps did not run here (unsupported locally): not CI's answer, so not shown as a plain success.
  if (job.status === 'success' && job.partial) return 'partly unsupported';
  return job.status === 'failed' && job.allowFailure ? 'failed (allowed)' : job.status;
}
