// `${secret:NAME}` in environment settings: resolved at the last moment from a secret store (VS Code
// SecretStorage; the CLI reads DELIVERY_SECRET_<NAME> from its environment), and masked as *** everywhere.

export type SecretResolver = (name: string) => Promise<string | undefined>;

const REF = /\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export class MissingSecretError extends Error {
  constructor(readonly names: string[]) {
    super(`missing secret${names.length === 1 ? '' : 's'} ${names.join(', ')}: set ${names.length === 1 ? 'it' : 'them'} with "Delivery: Set Secret" (or DELIVERY_SECRET_${names[0]} for the CLI)`);
  }
}

/** Replaces every ${secret:NAME}; throws MissingSecretError naming all the missing ones. */
export async function expandSecrets(text: string, resolve: SecretResolver, found?: Set<string>): Promise<string> {
  const names = [...new Set([...text.matchAll(REF)].map((m) => m[1]))];
  if (names.length === 0) return text;
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const n of names) {
    const v = await resolve(n);
    if (v === undefined || v === '') missing.push(n);
    else {
      values.set(n, v);
      found?.add(v);
    }
  }
  if (missing.length) throw new MissingSecretError(missing);
  return text.replace(REF, (_, n: string) => values.get(n)!);
}

/** Expands secrets in every value of a record. */
export async function expandSecretsIn(record: Record<string, string>, resolve: SecretResolver, found?: Set<string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k] = await expandSecrets(v, resolve, found);
  return out;
}

/** A redactor for a set of secret values (longest first, so one secret inside another is masked whole). */
export function redactor(values: Iterable<string>): (text: string) => string {
  const list = [...new Set(values)].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const v of list) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  };
}

/** The CLI's resolver: DELIVERY_SECRET_<NAME> from the environment. */
export function envSecretResolver(env: Record<string, string | undefined>): SecretResolver {
  return async (name) => env[`DELIVERY_SECRET_${name}`];
}
