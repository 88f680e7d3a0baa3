// Every byte the CLI prints passes here: secrets are masked on the stream (a secret written in two pieces is still
// masked) and what could drive the terminal is made visible (core/sanitize.ts). Commands also make target text
// inert where they print it (only a job's own colours survive, see terminalText); this is the net under them.
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { terminalText } from '../core/sanitize';
import { Masker, type StreamMasker } from '../core/secrets';

/** Environment variables whose values are secrets the CLI knows of (besides DELIVERY_SECRET_*). */
const TOKEN_VARIABLES = ['GITHUB_TOKEN', 'GH_TOKEN', 'GITLAB_TOKEN'];

/** The secrets of the CLI: every DELIVERY_SECRET_<NAME> value and the remote engines' tokens. */
export function cliMasker(env: NodeJS.ProcessEnv): Masker {
  const m = new Masker();
  for (const [k, v] of Object.entries(env)) if (k.startsWith('DELIVERY_SECRET_') || TOKEN_VARIABLES.includes(k)) m.add(v);
  return m;
}

export class SafeOutput extends Writable {
  private readonly stream: StreamMasker;
  /** The target's file descriptor when it is a regular file (see forward), else null. */
  private readonly file: number | null;

  constructor(
    private readonly target: NodeJS.WritableStream,
    masker: Masker,
    private readonly mode: { json: boolean },
  ) {
    super({ decodeStrings: false });
    this.stream = masker.stream();
    this.file = regularFile(target);
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    this.forward(this.stream.push(text));
    done();
  }

  /** Lets out what the masker still holds (the end of the command's output). */
  flush(): void {
    this.forward(this.stream.end());
  }

  private forward(text: string): void {
    if (!text) return;
    const safe = terminalText(text, this.mode.json ? { json: true } : { colours: true });
    // A file gets the text written as a terminal or a pipe does: Node's stream for a file makes a Buffer of every
    // write, memory the collector frees late (tens of MB held during a flood of output). Both are synchronous.
    if (this.file !== null) fs.writeSync(this.file, safe);
    else this.target.write(safe);
  }
}

/** The file descriptor of process.stdout or process.stderr when it is a regular file, else null. */
function regularFile(target: NodeJS.WritableStream): number | null {
  if (target !== process.stdout && target !== process.stderr) return null;
  const fd = (target as { fd?: unknown }).fd;
  try {
    return typeof fd === 'number' && fs.fstatSync(fd).isFile() ? fd : null;
  } catch {
    return null;
  }
}
