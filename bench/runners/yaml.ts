// Bench runner: what the YAML library alone costs — parseDocument() (the options src/core/config/yamlFile.ts
// uses) of every workflow file, .gitlab-ci.yml and its includes, cold in a fresh process. Files are read first.
//   node yaml.js <folder>   -> {"ms":…, "files":…}
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';

function list(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f)) : [];
}

const folder = process.argv[2];
const files = [...list(path.join(folder, '.github', 'workflows')), path.join(folder, '.gitlab-ci.yml'), ...list(path.join(folder, 'ci'))];
const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
const t0 = performance.now();
for (const text of texts) parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true, strict: true });
process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0, files: texts.length })}\n`);
