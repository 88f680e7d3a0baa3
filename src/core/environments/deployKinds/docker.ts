// `deploy: { docker: { build, dockerfile, image, push, run, buildArgs, host } }`: build an image tagged with the
// commit, push it, run it as a container.
import { MapReader } from '../../config/reader';
import type { DeployStepPlan } from '../deploy';
import type { DeployKindDef } from './kind';

export interface DockerDeploy {
  kind: 'docker';
  /** Build context (relative to the folder); null: push/run an existing image. */
  build: string | null;
  dockerfile: string | null;
  /** Image name without tag; the tag is the commit SHA. */
  image: string;
  push: boolean;
  /** Run the image as a container (replacing the previous one of that name). */
  run: { name: string; args: string[]; command: string[] } | null;
  buildArgs: Record<string, string>;
  host: string | null;
}

export const dockerDeploy: DeployKindDef<'docker', DockerDeploy> = {
  kind: 'docker',
  ownKeys: {},
  read({ f, r, what }) {
    const d = MapReader.from(f, r.value('docker'), `${what}: docker`, ['build', 'dockerfile', 'image', 'push', 'run', 'buildArgs', 'host']);
    const image = d?.required('image') ? d.string('image', { nonEmpty: true }) : undefined;
    if (image !== undefined && !/^[a-z0-9][a-z0-9._\-/:]*$/.test(image)) f.error(d!.at('image'), `${what}: "${image}" is not a valid image name (lower case, no tag: the tag is the commit)`);
    let run: DockerDeploy['run'] = null;
    if (d?.has('run')) {
      const rr = MapReader.from(f, d.value('run'), `${what}: docker run`, ['name', 'args', 'command']);
      const name = rr?.required('name') ? rr.string('name', { nonEmpty: true }) : undefined;
      if (rr && name !== undefined) run = { name, args: rr.stringList('args', { single: false }) ?? [], command: rr.stringList('command', { single: false }) ?? [] };
    }
    if (!d || image === undefined) return null;
    return {
      kind: 'docker',
      build: d.string('build', { nonEmpty: true }) ?? null,
      dockerfile: d.string('dockerfile', { nonEmpty: true }) ?? null,
      image,
      push: d.bool('push') ?? false,
      run,
      buildArgs: d.stringMap('buildArgs') ?? {},
      host: d.string('host', { nonEmpty: true }) ?? null,
    };
  },
  steps: (m) => [
    ...(m.build !== null ? [{ id: 'docker.build', name: `docker build ${m.image}` } as DeployStepPlan] : []),
    ...(m.push ? [{ id: 'docker.push', name: `docker push ${m.image}` } as DeployStepPlan] : []),
    ...(m.run ? [{ id: 'docker.run', name: `docker run ${m.run.name}` } as DeployStepPlan] : []),
  ],
  async expand(m, x) {
    const buildArgs: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.buildArgs)) buildArgs[k] = await x.data(v);
    return { ...m, buildArgs };
  },
  needsFiles: () => true,
};
