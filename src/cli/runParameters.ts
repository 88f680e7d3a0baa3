// `delivery run`'s event, payload, inputs and secrets: read from the command line, the environment and the files
// named, checked as far as the CLI can (the inputs against the workflow are checked by the planner, before anything
// runs). Every secret value joins the command's masker.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkEventName, parseEventPayload } from '../core/github/runInputs';
import { parseInputPair } from '../core/remote/inputs';
import { parseDotenv, SECRET_NAME_PATTERN, type Masker } from '../core/secrets';
import type { RunRequest } from '../core/engine/select';
import type { PipelineDef } from '../shared/model';
import { UsageError, type CliContext } from './context';

/** A payload or secrets file larger than this is refused (GitHub's payloads are far smaller). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** A file or environment variable named on the command line that cannot be used (exit 2, without the usage text). */
export class GivenFileError extends Error {}

/**
 * The request's event, inputs and secrets from --event, --event-payload, --input, --secret and --secret-file
 * (later ones win: --secret over --secret-file). Throws UsageError (exit 2) for a wrong option, GivenFileError for a
 * file that cannot be used (naming the file and line).
 */
export function runParameters(ctx: CliContext, def: PipelineDef, masker: Masker): Pick<RunRequest, 'event' | 'inputs' | 'secrets'> {
  const o = ctx.options;
  const givenFlags = [
    o.event !== undefined && '--event',
    o.eventPayload !== undefined && '--event-payload',
    (o.inputs?.length ?? 0) > 0 && '--input',
    (o.secrets?.length ?? 0) > 0 && '--secret',
    (o.secretFiles?.length ?? 0) > 0 && '--secret-file',
  ].filter((f): f is string => typeof f === 'string');
  if (givenFlags.length === 0) return {};
  if (!def.runParameters) throw new UsageError(`${givenFlags.join(', ')}: ${def.name} (${def.source.file}) is a ${def.source.kind} pipeline, which takes no events, inputs or secrets; they are for GitHub workflows (secrets also for GitLab CI)`);
  const githubOnly = givenFlags.filter((f) => f === '--event' || f === '--event-payload' || f === '--input');
  if (def.source.kind !== 'github' && githubOnly.length > 0) {
    throw new UsageError(`${githubOnly.join(', ')}: ${def.name} (${def.source.file}) is a ${def.source.kind} pipeline, which takes no events or inputs; they are for GitHub workflows (give GitLab variables with --variable, secret ones with --secret)`);
  }
  const out: Pick<RunRequest, 'event' | 'inputs' | 'secrets'> = {};
  if (o.event !== undefined || o.eventPayload !== undefined) {
    const name = o.event ?? 'workflow_dispatch';
    const bad = checkEventName(name);
    if (bad) throw new UsageError(`--event: ${bad}`);
    let payload: Record<string, unknown> | undefined;
    if (o.eventPayload !== undefined) {
      const parsed = parseEventPayload(readGivenFile(o.eventPayload, '--event-payload'), o.eventPayload);
      if ('error' in parsed) throw new GivenFileError(`--event-payload ${parsed.error}`);
      payload = parsed.payload;
    }
    out.event = { name, ...(payload ? { payload } : {}) };
  }
  if (o.inputs?.length) {
    const inputs: Record<string, string> = {};
    for (const text of o.inputs) {
      const pair = parseInputPair(text);
      if ('error' in pair) throw new UsageError(`--input: ${pair.error}`);
      inputs[pair[0]] = pair[1];
    }
    out.inputs = inputs;
  }
  const secrets: Record<string, string> = {};
  for (const file of o.secretFiles ?? []) {
    const parsed = parseDotenv(readGivenFile(file, '--secret-file'), file);
    if ('error' in parsed) throw new GivenFileError(`--secret-file ${parsed.error}`);
    Object.assign(secrets, parsed.values);
  }
  for (const text of o.secrets ?? []) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq);
    if (!SECRET_NAME_PATTERN.test(name)) throw new UsageError(`--secret: "${name}" is not a secret name (letters, digits and _, not starting with a digit); give NAME or NAME=VALUE`);
    if (eq >= 0) secrets[name] = text.slice(eq + 1);
    else {
      const value = ctx.env[name];
      if (value === undefined || value === '') throw new GivenFileError(`--secret ${name}: the environment variable ${name} is ${value === undefined ? 'not set' : 'empty'} (give its value there, or as --secret ${name}=VALUE, or in a --secret-file)`);
      secrets[name] = value;
    }
  }
  if (Object.keys(secrets).length > 0) {
    for (const v of Object.values(secrets)) masker.add(v);
    out.secrets = secrets;
  }
  return out;
}

/** A file named on the command line (relative to the current directory), capped. */
function readGivenFile(file: string, flag: string): string {
  const abs = path.resolve(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GivenFileError(`${flag} ${file}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot be read (${code ?? (e as Error).message})`}`);
  }
  if (!st.isFile()) throw new GivenFileError(`${flag} ${file}: not a file`);
  if (st.size > MAX_FILE_BYTES) throw new GivenFileError(`${flag} ${file}: larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new GivenFileError(`${flag} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
