// GitHub Actions workflows (.github/workflows/*.yml|yaml): one pipeline per workflow.
import type { Importer } from '../sources';

export const githubImporter: Importer = {
  kind: 'github',
  patterns: ['.github/workflows/*.yml', '.github/workflows/*.yaml'],
  matches: (rel) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(rel),
  async parse() {
    return { pipelines: [], environments: [], problems: [], dependsOn: [] };
  },
};
