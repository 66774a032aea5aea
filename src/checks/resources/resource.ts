// What a resource is ("what to check"): its YAML shape and how observed facts are judged.
// How the host is looked at lives in ../probes; adding a resource is a file here, a file there
// and one line in ../registry.ts.
import { z } from 'zod';
import type { Expectation, Facts } from '../types.js';

export interface Resource<S extends Record<string, unknown> = Record<string, unknown>> {
  /** The YAML key naming the resource in a check item. */
  type: string;
  /** Strict object schema of one item, including `<type>: subject` and `title`. */
  schema: z.ZodType<S>;
  /** One line on what this resource checks, for docs and the JSON Schema. */
  description: string;
  subject(spec: S): string;
  evaluate(spec: S, facts: Facts): Expectation[];
}

/** Builds an item schema: the subject under the resource's own key, a title, the attributes. */
export function itemSchema<K extends string, T extends z.ZodType, A extends z.ZodRawShape>(type: K, subject: T, attrs: A) {
  return z.strictObject({ [type]: subject, title: z.string().min(1).optional().describe('A name for the check in reports.'), ...attrs } as { [P in K]: T } & { title: z.ZodOptional<z.ZodString> } & A);
}

/** An absolute path; probes quote it, but a relative one would depend on sh's working directory. */
export const absolutePath = z
  .string()
  .startsWith('/', { message: 'expected an absolute path starting with /' })
  .regex(/^[^\n\0]*$/, { message: 'expected a path without line breaks' });

/** One string or a list of them, always read as a list. */
export const oneOrMany = (item: z.ZodType<string> = z.string().min(1)) =>
  z.union([item, z.array(item).min(1)], { error: 'expected a string or a list of strings' }).transform((v) => (Array.isArray(v) ? v : [v]));

/** A JavaScript regular expression, checked when the spec is read rather than on the hosts. */
export const regexText = z.string().min(1).refine((s) => { try { new RegExp(s); return true; } catch { return false; } }, { message: 'expected a valid regular expression' });

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
/** "10s" -> 10000. Local to verify: the config schema imports this module. */
export const timeoutMs = z
  .string({ error: 'expected a duration such as 500ms, 10s or 1m' })
  .regex(DURATION_RE, { message: 'expected a duration such as 500ms, 10s or 1m' })
  .transform((s) => { const m = DURATION_RE.exec(s)!; return Math.round(Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[m[2]!]!); });

/** An octal mode such as "0644" or "644" (quote it in YAML: 0644 unquoted is the number 644... or 420). */
export const octalMode = z.string({ error: 'expected an octal mode in quotes, such as "0644"' }).regex(/^0?[0-7]{3,4}$/, { message: 'expected an octal mode in quotes, such as "0644"' });

export function normalizeMode(mode: string): string {
  return (parseInt(mode, 8) & 0o7777).toString(8).padStart(4, '0');
}

/** Decodes probe text: plain strings as is, hex as UTF-8 bytes, anything else as undefined. */
export function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { hex?: unknown }).hex === 'string') return Buffer.from((v as { hex: string }).hex.replace(/\s+/g, ''), 'hex').toString('utf8');
  return undefined;
}

export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function show(v: string | number | boolean | undefined | null): string {
  if (v === undefined || v === null) return '(none)';
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 197)}...` : v);
  return String(v);
}

export const expectation = (attribute: string, expected: string, observed: string, ok: boolean): Expectation => ({ attribute, expected, observed, ok });

/** exists: true|false against what the probe saw; the other expectations only make sense when present. */
export function existence(what: string, wanted: boolean, present: boolean): Expectation {
  return expectation(what, wanted ? 'present' : 'absent', present ? 'present' : 'absent', wanted === present);
}

/** Each wanted string is a substring of `haystack`. */
export function containsAll(attribute: string, wanted: string[], haystack: string | undefined): Expectation[] {
  return wanted.map((w) => expectation(attribute, `contains ${show(w)}`, haystack === undefined ? '(nothing)' : haystack.includes(w) ? 'found' : 'not found', haystack !== undefined && haystack.includes(w)));
}

/** Each pattern matches `haystack` (multi-line). */
export function matchesAll(attribute: string, patterns: string[], haystack: string | undefined): Expectation[] {
  return patterns.map((p) => {
    const ok = haystack !== undefined && new RegExp(p, 'm').test(haystack);
    return expectation(attribute, `matches /${p}/`, haystack === undefined ? '(nothing)' : ok ? 'matched' : `no match in ${show(haystack)}`, ok);
  });
}

export function labelsMatch(wanted: Record<string, string>, observed: Record<string, string> | undefined): Expectation[] {
  return Object.entries(wanted).map(([k, v]) => expectation(`label ${k}`, show(v), show(observed?.[k]), observed?.[k] === v));
}
