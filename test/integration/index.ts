// Entry point of the integration suites inside the VS Code extension host.
import { runSuites } from '../support/mochaIndex';

export function run(): Promise<void> {
  return runSuites(__dirname);
}
