// certificate: the TLS certificate a port on the host serves for a server name (SNI). Unlike the
// other resources the handshake is made by gangway itself, through the host's SSH connection
// (src/verify/certificate-probe.ts): nothing is needed on the host, and the chain is judged
// against the runner's trusted roots (plus an optional ca_file), not the host's.
import { z } from 'zod';
import type { Expectation, Facts } from '../types.js';
import { containsAll, expectation, itemSchema, matchesAll, oneOrMany, regexText, show, timeoutMs, type Resource } from './resource.js';

const DAY_MS = 86_400_000;

const certificateSchema = itemSchema('certificate', z.string().min(1).regex(/^[^\s/:]+$/, { message: 'expected a server name such as app.example.com' }).describe('The server name (SNI) the handshake asks for.'), {
  port: z.int().min(1).max(65_535).default(443).describe('TCP port on the host.'),
  address: z.string().min(1).default('127.0.0.1').describe('Address the port is reached at, as seen from the host.'),
  ca_file: z.string().min(1).optional().describe('PEM file of extra trusted roots, on the machine running gangway (a test CA).'),
  timeout: timeoutMs.default(5000),
  valid: z.boolean().default(true).describe('The chain verifies against the trusted roots and the certificate matches the name.'),
  min_days_left: z.int().min(0).optional().describe('Days at least before the certificate expires.'),
  issuer: oneOrMany().optional().describe('Text the issuer (C=..., O=..., CN=...) contains.'),
  issuer_matches: oneOrMany(regexText).optional().describe('JavaScript regular expression(s) the issuer matches.'),
  names: oneOrMany().optional().describe('Names the certificate carries (CN or subjectAltName): each must be there.'),
});
export type CertificateSpec = z.output<typeof certificateSchema>;

/**
 * What one handshake saw, as plain data (the facts of a certificate check). `observedAt` travels
 * with them so days left are judged against the moment of the handshake, not of the judging.
 */
export interface CertificateFacts {
  /** false: no certificate was seen, `error` says why (refused, handshake error, timeout). */
  connected: boolean;
  error?: string;
  observedAt: string;
  /** CN then the DNS and IP subjectAltNames, each once. */
  names?: string[];
  subject?: string;
  issuer?: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  /** The chain verifies against the trusted roots; `chainError` is OpenSSL's reason when not. */
  chainOk?: boolean;
  chainError?: string;
  /** The certificate is for the server name asked; `nameError` when not. */
  nameOk?: boolean;
  nameError?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Whole days from the handshake to notAfter (negative once expired); undefined when unknown. */
export function daysLeft(facts: Pick<CertificateFacts, 'observedAt' | 'notAfter'>): number | undefined {
  const end = Date.parse(facts.notAfter ?? '');
  const at = Date.parse(facts.observedAt);
  if (!Number.isFinite(end) || !Number.isFinite(at)) return undefined;
  return Math.floor((end - at) / DAY_MS);
}

/** "CN=app.test (app.test, www.app.test), issuer ..., serial ..., ... to ... (N days left)" */
export function describeCertificate(f: CertificateFacts): string {
  const left = daysLeft(f);
  return [
    `names ${(f.names ?? []).join(', ') || '(none)'}`,
    `issuer ${f.issuer ?? '(none)'}`,
    `serial ${f.serial ?? '(none)'}`,
    `valid ${f.notBefore ?? '?'} to ${f.notAfter ?? '?'}${left === undefined ? '' : ` (${left} days left)`}`,
  ].join('; ');
}

/** Reads facts back defensively: they went through JSON and may come from an older gangway. */
export function certificateFactsOf(facts: Facts): CertificateFacts {
  const names = Array.isArray(facts.names) ? facts.names.filter((n): n is string => typeof n === 'string') : undefined;
  const f: CertificateFacts = { connected: facts.connected === true, observedAt: str(facts.observedAt) ?? '' };
  for (const key of ['error', 'subject', 'issuer', 'serial', 'notBefore', 'notAfter', 'chainError', 'nameError'] as const) {
    const v = str(facts[key]);
    if (v !== undefined) f[key] = v;
  }
  if (names) f.names = names;
  if (typeof facts.chainOk === 'boolean') f.chainOk = facts.chainOk;
  if (typeof facts.nameOk === 'boolean') f.nameOk = facts.nameOk;
  return f;
}

/** The expectations of `valid`: the chain and the name, each with its own reason. */
function validity(spec: CertificateSpec, f: CertificateFacts): Expectation[] {
  const chain = f.chainOk ? 'verified' : `not verified (${f.chainError ?? 'unknown reason'})`;
  const name = f.nameOk ? 'matches' : `does not match (${f.nameError ?? `names ${(f.names ?? []).join(', ')}`})`;
  if (!spec.valid) return [expectation('valid', 'not valid (chain or name)', `chain ${chain}, name ${name}`, !(f.chainOk && f.nameOk))];
  return [
    expectation('chain', spec.ca_file ? `verifies against the default roots and ${spec.ca_file}` : 'verifies against the default roots', chain, f.chainOk === true),
    expectation('name', `matches ${spec.certificate}`, name, f.nameOk === true),
  ];
}

export const certificateResource: Resource<CertificateSpec> = {
  type: 'certificate',
  schema: certificateSchema,
  description: 'The TLS certificate served for a name on a port of the host (handshake by gangway through SSH): chain, name, expiry, issuer.',
  subject: (s) => `${s.certificate} at ${s.address}:${s.port}`,
  evaluate(spec, facts) {
    const f = certificateFactsOf(facts);
    if (!f.connected) return [expectation('handshake', `a TLS handshake with ${spec.address}:${spec.port}`, f.error ?? 'failed', false)];
    const left = daysLeft(f);
    const out = [expectation('certificate', `served for ${spec.certificate}`, describeCertificate(f), true), ...validity(spec, f)];
    if (spec.min_days_left !== undefined) {
      out.push(expectation('days left', `at least ${spec.min_days_left}`, left === undefined ? '(unknown expiry)' : `${left} (not after ${f.notAfter})`, left !== undefined && left >= spec.min_days_left));
    }
    out.push(...containsAll('issuer', spec.issuer ?? [], f.issuer), ...matchesAll('issuer', spec.issuer_matches ?? [], f.issuer));
    for (const name of spec.names ?? []) {
      const has = (f.names ?? []).some((n) => n.toLowerCase() === name.toLowerCase());
      out.push(expectation('names', `include ${show(name)}`, has ? 'included' : `not in ${(f.names ?? []).join(', ') || '(none)'}`, has));
    }
    return out;
  },
};
