// GitLab's predefined CI/CD variables for a local run, from the folder's git facts. These values come from
// outside the pipeline file (branch names, author): they only ever reach a job as environment variables.
import * as path from 'node:path';
import type { PlanContext } from '../sources';
import { slug } from './variables';

export interface ProjectFacts {
  host: string;
  /** group/sub/project */
  path: string;
}

/** The GitLab project behind a remote URL (`git@host:group/project.git`, `https://host/group/project.git`). */
export function projectFromRemote(url: string | null | undefined): ProjectFacts | null {
  if (!url) return null;
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+?)(?:\.git)?\/?$/.exec(url);
  if (scp && !/^[a-z]+:\/\//.test(url)) return { host: scp[1], path: scp[2] };
  const m = /^[a-z+]+:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+?)(?:\.git)?\/?$/.exec(url);
  return m ? { host: m[1], path: m[2] } : null;
}

/** Variables every job of a run sees (not the per-job ones such as CI_JOB_NAME). */
export function pipelineVariables(opts: { folder: string; configPath: string; git: PlanContext['git']; pipelineId: number; now: number }): Record<string, string> {
  const git = opts.git;
  const project = projectFromRemote(git?.remoteUrl) ?? { host: 'gitlab.com', path: `local/${path.basename(opts.folder)}` };
  const name = project.path.split('/').at(-1)!;
  const namespace = project.path.split('/').slice(0, -1).join('/');
  const server = `https://${project.host}`;
  const sha = git?.sha ?? '0000000000000000000000000000000000000000';
  const tag = git?.ref?.startsWith('refs/tags/') ? git.ref.slice('refs/tags/'.length) : null;
  const branch = tag ? null : (git?.branch ?? null);
  const refName = tag ?? branch ?? sha;
  const vars: Record<string, string> = {
    CI: 'true',
    GITLAB_CI: 'false',
    CI_SERVER: 'yes',
    CI_SERVER_HOST: project.host,
    CI_SERVER_URL: server,
    CI_SERVER_PROTOCOL: 'https',
    CI_SERVER_NAME: 'GitLab',
    CI_API_V4_URL: `${server}/api/v4`,
    CI_PROJECT_DIR: opts.folder,
    CI_BUILDS_DIR: path.dirname(opts.folder),
    CI_PROJECT_NAME: name,
    CI_PROJECT_TITLE: name,
    CI_PROJECT_PATH: project.path,
    CI_PROJECT_PATH_SLUG: slug(project.path),
    CI_PROJECT_NAMESPACE: namespace,
    CI_PROJECT_ROOT_NAMESPACE: namespace.split('/')[0] ?? '',
    CI_PROJECT_URL: `${server}/${project.path}`,
    CI_PROJECT_VISIBILITY: 'private',
    CI_REPOSITORY_URL: git?.remoteUrl ?? '',
    CI_CONFIG_PATH: opts.configPath,
    CI_COMMIT_SHA: sha,
    CI_COMMIT_SHORT_SHA: sha.slice(0, 8),
    CI_COMMIT_BEFORE_SHA: '0000000000000000000000000000000000000000',
    CI_COMMIT_REF_NAME: refName,
    CI_COMMIT_REF_SLUG: slug(refName),
    CI_COMMIT_REF_PROTECTED: 'false',
    CI_DEFAULT_BRANCH: git?.defaultBranch ?? 'main',
    CI_PIPELINE_SOURCE: 'push',
    CI_PIPELINE_ID: String(opts.pipelineId),
    CI_PIPELINE_IID: String(opts.pipelineId % 100000),
    CI_PIPELINE_URL: `${server}/${project.path}/-/pipelines/${opts.pipelineId}`,
    CI_PIPELINE_CREATED_AT: new Date(opts.now).toISOString().replace(/\.\d+Z$/, 'Z'),
    CI_JOB_TOKEN: '',
    CI_REGISTRY: `registry.${project.host}`,
    CI_REGISTRY_IMAGE: `registry.${project.host}/${project.path}`.toLowerCase(),
  };
  if (branch) vars.CI_COMMIT_BRANCH = branch;
  if (tag) vars.CI_COMMIT_TAG = tag;
  if (git?.author) {
    vars.CI_COMMIT_AUTHOR = `${git.author.name} <${git.author.email}>`;
    vars.GITLAB_USER_NAME = git.author.name;
    vars.GITLAB_USER_EMAIL = git.author.email;
    vars.GITLAB_USER_LOGIN = git.author.email.split('@')[0] || git.author.name;
  }
  return vars;
}

/**
 * Predefined variables whose values cannot carry shell code (constants, numbers, hex SHAs, slugs): pasting them into
 * the configuration (expand_vars) is harmless. Every other predefined value comes from git or the remote URL.
 */
export const SAFE_PREDEFINED: ReadonlySet<string> = new Set([
  'CI', 'GITLAB_CI', 'CI_SERVER', 'CI_SERVER_PROTOCOL', 'CI_SERVER_NAME', 'CI_PROJECT_VISIBILITY', 'CI_PROJECT_PATH_SLUG',
  'CI_COMMIT_SHA', 'CI_COMMIT_SHORT_SHA', 'CI_COMMIT_BEFORE_SHA', 'CI_COMMIT_REF_SLUG', 'CI_COMMIT_REF_PROTECTED',
  'CI_PIPELINE_SOURCE', 'CI_PIPELINE_ID', 'CI_PIPELINE_IID', 'CI_PIPELINE_CREATED_AT', 'CI_JOB_TOKEN',
]);

/** Variables known before any run (for include rules and paths when a file is imported). */
export function staticVariables(configPath: string): Record<string, string> {
  return { CI: 'true', GITLAB_CI: 'false', CI_SERVER: 'yes', CI_PIPELINE_SOURCE: 'push', CI_CONFIG_PATH: configPath };
}
