// `workflow` deploys: dispatch a run of a remote pipeline, then follow it to its end.
import { WorkflowDeploy } from '../../remote/deployWorkflow';
import type { KindExecutor } from './kind';

export const executeWorkflow: KindExecutor<'workflow'> = (m, ctx) => {
  const workflow = new WorkflowDeploy(ctx.remote);
  return (step, io) => {
    switch (step.id) {
      case 'workflow.dispatch':
        return workflow.dispatch(m, io);
      case 'workflow.follow':
        return workflow.follow(io);
      default:
        return null;
    }
  };
};
