// `http` deploys: call the deploy hook, then poll its status endpoint.
import { callHook, pollStatus } from '../http';
import type { KindExecutor } from './kind';

export const executeHttp: KindExecutor<'http'> = (m) => (step, io) => {
  switch (step.id) {
    case 'http.hook':
      io.line('system', `${m.method} ${m.url}`);
      return callHook(m, io);
    case 'http.status':
      return m.status ? pollStatus(m.status, io) : null;
    default:
      return null;
  }
};
