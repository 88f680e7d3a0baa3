// How a step talks back to the runner: workflow commands on its output (`::set-output name=x::v`) and the files
// named by GITHUB_ENV, GITHUB_PATH and GITHUB_OUTPUT.

/** What one step asked for through workflow commands. */
export interface CommandEffects {
  outputs: Record<string, string>;
  env: Record<string, string>;
  paths: string[];
  /** `::save-state name=x::v` (JavaScript actions: read back as STATE_x by their post step). */
  state: Record<string, string>;
  /** Set by `::stop-commands::TOKEN`: commands are ignored until `::TOKEN::`. */
  stopToken: string | null;
  /** Messages for the log (commands refused or not understood). */
  notes: string[];
}

export function newEffects(): CommandEffects {
  return { outputs: {}, env: {}, paths: [], state: {}, stopToken: null, notes: [] };
}

const COMMAND = /^::([A-Za-z][A-Za-z0-9-]*)(?:\s+([^:]*?))?::(.*)$/;

/** Applies one output line. `allowUnsecure`: ACTIONS_ALLOW_UNSECURE_COMMANDS is true (set-env and add-path). */
export function handleCommandLine(line: string, eff: CommandEffects, allowUnsecure: boolean): void {
  const text = line.trimStart();
  if (!text.startsWith('::')) return;
  if (eff.stopToken !== null) {
    if (text.trimEnd() === `::${eff.stopToken}::`) eff.stopToken = null;
    return;
  }
  const cmd = parseWorkflowCommand(text);
  if (!cmd) return;
  const { name, props, value } = cmd;
  switch (name.toLowerCase()) {
    case 'set-output':
      if (props.name) eff.outputs[props.name] = value;
      return;
    case 'set-env':
      if (!allowUnsecure) eff.notes.push(`::set-env is disabled (set ACTIONS_ALLOW_UNSECURE_COMMANDS=true, or write to $GITHUB_ENV): ${props.name ?? ''} was not set`);
      else if (props.name) eff.env[props.name] = value;
      return;
    case 'add-path':
      if (!allowUnsecure) eff.notes.push('::add-path is disabled (set ACTIONS_ALLOW_UNSECURE_COMMANDS=true, or write to $GITHUB_PATH)');
      else if (value) eff.paths.push(value);
      return;
    case 'save-state':
      if (props.name) eff.state[props.name] = value;
      return;
    case 'stop-commands':
      if (value) eff.stopToken = value;
      return;
  }
  // debug, notice, warning, error, group, endgroup, add-mask, echo: shown as output, nothing to do.
}

/** A workflow command's name, properties and value (unescaped); null: the line is not one. */
export function parseWorkflowCommand(line: string): { name: string; props: Record<string, string>; value: string } | null {
  const m = COMMAND.exec(line.trimStart().replace(/\r$/, ''));
  if (!m) return null;
  const [, name, propText, data] = m;
  const props: Record<string, string> = {};
  for (const part of (propText ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) props[part.slice(0, eq).trim()] = unescapeProperty(part.slice(eq + 1));
  }
  return { name, props, value: unescapeData(data) };
}

function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProperty(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%25/g, '%');
}

/** GITHUB_ENV / GITHUB_OUTPUT: `NAME=value` lines and `NAME<<DELIMITER` … `DELIMITER` blocks. */
export function parseEnvFile(text: string): { values: Record<string, string> } | { error: string } {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (heredoc > 0 && (eq < 0 || heredoc < eq)) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (!delimiter) return { error: `line ${i + 1}: "${name}<<" has no delimiter` };
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        body.push(lines[i]);
      }
      if (!closed) return { error: `"${name}<<${delimiter}" is not closed by a line "${delimiter}"` };
      values[name] = body.join('\n');
    } else if (eq > 0) {
      values[line.slice(0, eq)] = line.slice(eq + 1);
    } else return { error: `line ${i + 1} is neither NAME=value nor NAME<<DELIMITER: ${line.length > 40 ? line.slice(0, 40) + '…' : line}` };
  }
  return { values };
}

/** GITHUB_PATH: one directory per line. */
export function parsePathFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
