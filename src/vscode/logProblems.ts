// Problems from job output: each job's lines go through its problem matchers (delivery.yml `problemMatcher`, the
// `delivery.problemMatchers` setting, GitHub's `::add-matcher::` and `::error file=…::`) and the problems found go
// to Problems, in a diagnostic collection per job that is emptied when the job runs again. Lines arrive masked
// (the engine masks secrets before any listener hears them); Problems is updated at most every UPDATE_MS a job.
import * as vscode from 'vscode';
import type { RunBlockEvent, RunHandle } from '../core/engine/engine';
import { readMatcherRefs, type CompiledMatcher } from '../core/problems/matchers';
import { ProblemScanner, resolveProblemFile, type JobPlace, type LogProblem } from '../core/problems/scanner';
import { annotationProblem, githubMatcherFile, workflowProblemCommand } from '../core/problems/logText';
import { globToRegExp } from '../core/glob';
import { plainText } from '../core/sanitize';
import { readMatcherFile } from '../adapters/problemFiles';
import type { JobRecord } from '../shared/model';
import type { Log } from './log';
import type { RunManager } from './runManager';

const UPDATE_MS = 250;
/** Lines kept while a matcher file is read (they are matched once it is in). */
const MAX_QUEUED = 20_000;
/** Where jobs of this session ran, by log file (for the links in their logs). */
const MAX_PLACES = 2000;

interface JobFeed {
  scanner: ProblemScanner;
  collection: vscode.DiagnosticCollection;
  /** GitHub jobs: workflow commands about problems are read too. */
  github: boolean;
  dirty: boolean;
  /** The attempt whose output is being read (a retry starts over). */
  attempt: number;
  /** Lines waiting for a matcher file being read. */
  queue: string[] | null;
}

const SEVERITY: Record<LogProblem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export class LogProblems implements vscode.Disposable {
  /** A collection per job of a pipeline of a folder, kept across its runs. */
  private readonly collections = new Map<string, vscode.DiagnosticCollection>();
  private readonly places = new Map<string, JobPlace>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly runs: RunManager,
    private readonly log: Log,
  ) {
    this.subs.push(runs.onDidStartRun((h) => this.watch(h)));
  }

  /** Where the job of this log ran, if it ran in this session. */
  placeOf(logFile: string): JobPlace | undefined {
    return this.places.get(logFile);
  }

  private watch(handle: RunHandle): void {
    const active = this.runs.getActive(handle.run.id);
    if (!active) return;
    const { folder, key } = active;
    const github = handle.run.source.kind === 'github';
    const fromSettings = this.settingMatchers(folder);
    const feeds = new Map<string, JobFeed>();
    const started = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flushSoon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        for (const f of feeds.values()) this.flush(f);
      }, UPDATE_MS);
    };
    const start = (job: JobRecord): void => {
      const { id: jobId, name } = job;
      const planned = handle.job(jobId);
      if (!planned) return;
      const place: JobPlace = { cwd: planned.cwd, root: planned.workspace?.path ?? folder, folder };
      if (job.logFile) this.remember(job.logFile, place);
      const own = readMatcherRefs(planned.problemMatchers ?? []).matchers; // checked when the file was read
      const matchers = [...own, ...fromSettings.filter((s) => s.jobs.test(jobId) || s.jobs.test(name)).flatMap((s) => s.matchers)];
      const ck = collectionKey(folder, key, jobId);
      // The job runs again: what its last run found goes.
      this.collections.get(ck)?.clear();
      if (matchers.length === 0 && !github) return;
      let collection = this.collections.get(ck);
      if (!collection) {
        collection = vscode.languages.createDiagnosticCollection(`delivery:${key}:${jobId}`);
        this.collections.set(ck, collection);
      }
      feeds.set(jobId, { scanner: new ProblemScanner(matchers, place), collection, github, dirty: false, attempt: 1, queue: null });
    };
    const lines = (feed: JobFeed, text: string): void => {
      for (const line of text.split('\n')) {
        if (feed.queue) {
          if (feed.queue.length < MAX_QUEUED) feed.queue.push(line);
          continue;
        }
        this.line(feed, line);
      }
      if (feed.dirty) flushSoon();
    };
    const off = handle.onEvent(
      (e: RunBlockEvent) => {
        if (e.type === 'line' || e.type === 'lines') {
          const feed = feeds.get(e.jobId);
          if (feed && (!feed.scanner.empty || feed.github || feed.queue)) lines(feed, e.text);
        } else if (e.type === 'job') {
          const feed = feeds.get(e.job.id);
          if (feed && e.job.attempts > feed.attempt) {
            // A retry: what the failed attempt printed is not what the job says now.
            feed.attempt = e.job.attempts;
            feed.scanner.restart();
            feed.dirty = true;
          }
          if (e.job.status === 'running' && !started.has(e.job.id)) {
            started.add(e.job.id);
            // A job expanded into others (a matrix) prints nothing itself.
            if (!e.job.reason?.startsWith('expanded')) start(e.job);
          } else if (feed && e.job.status !== 'running' && e.job.status !== 'queued') this.flush(feed);
        } else {
          off();
          if (timer) clearTimeout(timer);
          for (const f of feeds.values()) this.flush(f);
          feeds.clear();
        }
      },
      { lineBlocks: true },
    );
  }

  private line(feed: JobFeed, line: string): void {
    if (feed.github && line.includes('::')) {
      const cmd = workflowProblemCommand(line);
      const place = feed.scanner.place;
      if (cmd?.kind === 'annotation') {
        feed.scanner.push(annotationProblem(cmd, (file, loc) => resolveProblemFile(file, loc, place)));
        feed.dirty = true;
      } else if (cmd?.kind === 'remove-matcher') feed.scanner.remove(cmd.owner);
      else if (cmd?.kind === 'add-matcher') {
        feed.queue = [];
        void readMatcherFile(cmd.file, place.cwd).then((r) => {
          const read = 'json' in r ? githubMatcherFile(r.json) : { matchers: [] as CompiledMatcher[], errors: [r.error] };
          for (const why of read.errors) this.log.warn(`::add-matcher::${cmd.file}: ${why}`);
          for (const m of read.matchers) feed.scanner.add(m);
          const queued = feed.queue ?? [];
          feed.queue = null;
          for (const l of queued) this.line(feed, l);
          if (feed.dirty) this.flush(feed);
        });
        return;
      }
    }
    if (feed.scanner.line(line) > 0) feed.dirty = true;
  }

  private flush(feed: JobFeed): void {
    if (!feed.dirty) return;
    feed.dirty = false;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const p of feed.scanner.problems) {
      let list = byFile.get(p.file);
      if (!list) byFile.set(p.file, (list = []));
      list.push(diagnostic(p));
    }
    feed.collection.set([...byFile].map(([file, d]) => [vscode.Uri.file(file), d]));
  }

  private remember(logFile: string, place: JobPlace): void {
    if (this.places.size >= MAX_PLACES) this.places.delete(this.places.keys().next().value as string);
    this.places.set(logFile, place);
  }

  /** `delivery.problemMatchers`: job name or id patterns → matchers; a bad entry is logged and left out. */
  private settingMatchers(folder: string): { jobs: RegExp; matchers: CompiledMatcher[] }[] {
    const setting = vscode.workspace.getConfiguration('delivery', vscode.Uri.file(folder)).get<Record<string, unknown>>('problemMatchers', {});
    const out: { jobs: RegExp; matchers: CompiledMatcher[] }[] = [];
    for (const [pattern, value] of Object.entries(setting ?? {})) {
      const { matchers, issues } = readMatcherRefs(value);
      for (const i of issues) this.log.warn(`delivery.problemMatchers["${pattern}"]${i.path.map((p) => `[${JSON.stringify(p)}]`).join('')}: ${i.message}`);
      if (matchers.length) out.push({ jobs: globToRegExp(pattern), matchers });
    }
    return out;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    for (const c of this.collections.values()) c.dispose();
    this.collections.clear();
  }
}

function collectionKey(folder: string, pipelineKey: string, jobId: string): string {
  return `${folder}\0${pipelineKey}\0${jobId}`;
}

function diagnostic(p: LogProblem): vscode.Diagnostic {
  const line = p.line - 1;
  const col = p.column === null ? 0 : p.column - 1;
  // No column: the whole line; a column without an end: the word there (an empty range, as VS Code shows it).
  const end =
    p.column === null
      ? new vscode.Position(line, Number.MAX_SAFE_INTEGER)
      : new vscode.Position(p.endLine !== null ? p.endLine - 1 : line, p.endColumn !== null ? Math.max(p.endColumn - 1, 0) : col);
  const d = new vscode.Diagnostic(new vscode.Range(new vscode.Position(line, col), end.isBefore(new vscode.Position(line, col)) ? new vscode.Position(line, col) : end), plainText(p.message), SEVERITY[p.severity]);
  d.source = plainText(p.source, { oneLine: true });
  if (p.code !== null) d.code = plainText(p.code, { oneLine: true });
  return d;
}
