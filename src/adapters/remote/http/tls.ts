// Extra trusted certificate authorities (a company CA in front of GitHub Enterprise or GitLab).
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { RemoteApiError } from './errors';

/**
 * The certificates to trust when extra CAs are configured: Node's bundled roots, NODE_EXTRA_CA_CERTS and the
 * given file. Undefined when there is nothing extra (Node's defaults then apply, NODE_EXTRA_CA_CERTS included).
 * Passing `ca` replaces Node's list, hence the roots are repeated here.
 */
export function loadCa(opts: { caFile?: string | null; env?: Record<string, string | undefined> }): string[] | undefined {
  const files = [opts.env?.NODE_EXTRA_CA_CERTS, opts.caFile].filter((f): f is string => !!f);
  if (!opts.caFile) return undefined;
  const extra: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new RemoteApiError('network', `cannot read the CA certificates in ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, null);
    }
    const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!certs) throw new RemoteApiError('network', `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, null);
    extra.push(...certs);
  }
  return [...tls.rootCertificates, ...extra];
}
