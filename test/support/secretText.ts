// Secrets and hostile target text shared by the security output tests (test/unit and test/system security-output).
import * as assert from 'node:assert/strict';
import { MIN_SECRET_LINE_LENGTH } from '../../src/core/secrets';

/** A private key as a tool prints it: several long lines, a short one, BEGIN/END lines. */
export const SSH_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn',
  'NhAAAAAwEAAQAAAYEAzZq9k2M4xyzWqLmNoPQRsTuVwXyZaBcDeFgHiJkLmNoPqRsTuVwX',
  'Qw=',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');
/** Echoed back by the version endpoint; two spaces in a row (an excerpt collapses them). */
export const VERSION_KEY = 'vkey  with  two  spaces-4242';
/** In the health URL's query; the health endpoint echoes it. */
export const HEALTH_KEY = 'hkey-secret-9191';
/** What a hostile target answers: title (OSC 0/2), clipboard (OSC 52), hidden text, cursor moves, erase, bare CR, C1 CSI, bidi. */
export const ESCAPES = '\u202egnp.exe\u2066x\u2069\u001b]0;pwned title\u0007\u001b]2;t2\u001b\\\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[8mhidden\u001b[0m\u001b[2K\u001b[1A\rup to date\u009b31m\u0007';
/** No ESC, BEL, other C0 but \t \n, DEL, C1, bidi controls, and no CR but before LF. */
export const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/;

export function secretPieces(): string[] {
  return [SSH_KEY, ...SSH_KEY.split('\n').filter((l) => l.length >= MIN_SECRET_LINE_LENGTH), VERSION_KEY, VERSION_KEY.replace(/\s+/g, ' '), HEALTH_KEY];
}

export function assertNoSecret(where: string, text: string): void {
  for (const s of secretPieces()) assert.ok(!text.includes(s), `${where} shows the secret (or a line of it) ${JSON.stringify(s)}:\n${text.slice(0, 3000)}`);
}
