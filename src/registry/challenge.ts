// WWW-Authenticate challenges of the registry API (Basic, or Bearer with a token service).

export interface AuthChallenge {
  scheme: 'basic' | 'bearer' | 'other';
  /** Lower-cased parameter names: realm, service, scope, error... */
  params: Record<string, string>;
}

/** Parses one challenge, e.g. `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`. */
export function parseChallenge(header: string | null | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const word = m[1]!.toLowerCase();
  const scheme = word === 'basic' || word === 'bearer' ? word : 'other';
  const params: Record<string, string> = {};
  // key=value or key="quoted, value with \" escapes", separated by commas.
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const p of m[2]!.matchAll(re)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme, params };
}

/** URL of the token request for a Bearer challenge; undefined when the challenge has no realm. */
export function tokenUrl(challenge: AuthChallenge, fallbackScope: string): string | undefined {
  const realm = challenge.params.realm;
  if (!realm) return undefined;
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? fallbackScope);
  return url.toString();
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
