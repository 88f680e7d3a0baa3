// Executors as a registry typed by kind (like the version probes): adding one is a module plus a line here; the
// compiler asks for a missing kind.
import type { ExecutorKind, ExecutorSpec, JobExecutors, JobSession, OpenJob } from '../../core/engine/ports';
import type { Masker } from '../../core/secrets';
import { openContainerJob, openServicesForHost, runImageStep } from './container';
import { openHostJob } from './host';

export interface ExecutorOptions {
  /** The run's mark (orphanMark()). */
  ownerMark?: string;
  masker?: Masker;
  /** The container engine's command (docker, podman or a path); default: DELIVERY_CONTAINER_ENGINE, docker, podman. */
  containerEngine?: string;
  /** Base environment of host jobs (default: this process's, read when the run's first job starts). */
  baseEnv?: NodeJS.ProcessEnv;
}

type Opened = Awaited<ReturnType<JobExecutors['open']>>;
type Opener<K extends ExecutorKind> = (spec: Extract<ExecutorSpec, { kind: K }>, job: OpenJob, opts: ExecutorOptions) => Opened | Promise<Opened>;

const EXECUTORS: { [K in ExecutorKind]: Opener<K> } = {
  host: async (spec, job, opts) => {
    if (!spec.services?.length) return openHostJob(spec, job, opts);
    const services = await openServicesForHost(spec.services, job, { engine: opts.containerEngine, masker: opts.masker, ownerMark: opts.ownerMark });
    if (!('remove' in services)) return services;
    const { session } = openHostJob(spec, job, opts);
    return {
      session: {
        run: (cmd, io) => session.run(cmd, io),
        close: async () => {
          const closed = await session.close();
          await services.remove();
          return closed;
        },
      },
      notes: services.notes,
    };
  },
  container: (spec, job, opts) => openContainerJob(spec, job, { engine: opts.containerEngine, masker: opts.masker, ownerMark: opts.ownerMark }),
};

export function localExecutors(options: ExecutorOptions): JobExecutors {
  // The environment is read once per run (each of process.env's variables is a call into Node's C++ side), not per job.
  let baseEnv: NodeJS.ProcessEnv | undefined;
  const opts = {
    ...options,
    get baseEnv() {
      return options.baseEnv ?? (baseEnv ??= { ...process.env });
    },
  };
  return {
    open: async (job) => {
      const open = EXECUTORS[job.executor.kind] as Opener<ExecutorKind>;
      const opened = await open(job.executor as never, job, opts);
      if (!('session' in opened)) return opened;
      const { session } = opened;
      // A step that names an image (a Docker action) runs in a container of its own, whatever the job runs in.
      const containers = { engine: opts.containerEngine, masker: opts.masker, ownerMark: opts.ownerMark };
      return { ...opened, session: { run: (spec, io) => (spec.image ? runImageStep(spec, io, job, containers) : session.run(spec, io)), close: () => session.close() } };
    },
  };
}

export type { JobSession };
