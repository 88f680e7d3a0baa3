// .gitlab-ci.yml as a pipeline source: read by the GitLab CI importer, run on GitLab when the folder's git remote
// is a GitLab project.
import type { PipelineSourceDescriptor } from '../sources';
import { gitlabImporter } from './importer';

export const gitlabSource: PipelineSourceDescriptor<'gitlab'> = {
  kind: 'gitlab',
  label: 'GitLab CI',
  icon: 'git-merge',
  pipelineIcon: 'rocket',
  importer: gitlabImporter,
  stagesOrderJobs: true,
  remote: { engine: 'gitlab' },
};
