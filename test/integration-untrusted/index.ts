// Entry point of the suites that run in an untrusted workspace (Workspace Trust enabled, folder not trusted).
import { runSuites } from '../support/mochaIndex';

export function run(): Promise<void> {
  return runSuites(__dirname);
}
