// What `gangway status` says of each ssl name on a host: the certificate the running proxy serves
// (issuer, days left, from `show ssl cert`) and, for ACME names, the renewal container's last
// attempt (its status file), a failure with the CA's answer.
import type { AcmeStatus } from './acme-container.js';
import { acmeStatuses } from './acme-install.js';
import { parseCertSummary, showCert } from './cert-commands.js';
import { runtimeApi, type ProxyTarget } from './target.js';

export interface NameCertificate {
  name: string;
  issuer?: string;
  notAfter?: string;
  /** ACME names only: the last attempt to obtain or renew it. */
  renewal?: Pick<AcmeStatus, 'result' | 'lastAttempt' | 'lastError' | 'lastSuccess'>;
}

const DAY_MS = 24 * 3600 * 1000;

/** One line per name, e.g. `a.example.com: issuer /CN=R3, 61 days left, last renewal ok (2026-12-01T09:00:00Z)`. */
export function describeNameCertificate(c: NameCertificate, now: Date): string {
  const parts: string[] = [];
  if (c.notAfter) {
    const left = Math.floor((new Date(c.notAfter).getTime() - now.getTime()) / DAY_MS);
    parts.push(`issuer ${c.issuer ?? '(unknown)'}`, left < 0 ? `expired ${-left} day(s) ago` : `${left} days left`);
  } else {
    parts.push('no certificate served');
  }
  if (c.renewal) {
    parts.push(c.renewal.result === 'ok' ? `last renewal ok (${c.renewal.lastAttempt})` : `last renewal FAILED (${c.renewal.lastAttempt}): ${c.renewal.lastError ?? 'no error recorded'}`);
  }
  return `${c.name}: ${parts.join(', ')}`;
}

/** The served certificate of each name (nothing for a name the proxy lacks) and, with `acme`, the status files. */
export async function certificatesOf(t: ProxyTarget, names: string[], acme: boolean): Promise<NameCertificate[]> {
  const api = runtimeApi(t);
  const statuses = acme ? await acmeStatuses(t, names) : new Map<string, AcmeStatus>();
  const out: NameCertificate[] = [];
  // One command at a time: with two `show ssl cert` at once over the SSH forward, one reply came
  // back without the certificate (seen once in acme-deploy.test.ts; sequential passed since).
  for (const name of names) {
    const cmd = showCert(name);
    const reply = await api.send(cmd.line).catch(() => '');
    const served = reply.includes(cmd.success) ? parseCertSummary(reply) : {};
    const st = statuses.get(name);
    const renewal = st ? { result: st.result, lastAttempt: st.lastAttempt, ...(st.lastError ? { lastError: st.lastError } : {}), ...(st.lastSuccess ? { lastSuccess: st.lastSuccess } : {}) } : undefined;
    out.push({ name, ...served, ...(renewal ? { renewal } : {}) });
  }
  return out;
}
