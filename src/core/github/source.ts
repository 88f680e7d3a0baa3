// GitHub Actions workflows as a pipeline source: read by the workflow importer, run on GitHub when the folder's
// git remote is a GitHub repository.
import type { PipelineSourceDescriptor } from '../sources';
import { githubImporter } from './importer';

export const githubSource: PipelineSourceDescriptor<'github'> = {
  kind: 'github',
  label: 'GitHub Actions',
  icon: 'github',
  pipelineIcon: 'github-action',
  importer: githubImporter,
  stagesOrderJobs: false,
  remote: { engine: 'github' },
};
