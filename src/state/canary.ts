// The record of a canary in progress, one small file per deployment on every proxied host, beside
// the proxy's: which server is the canary and which the old version, and the step it is at. The
// proxy's weights say what serves; this says which side is which, so `gangway canary
// status|promote|abort` and a rerun can finish a canary whose CLI was killed.
import { deploymentKey, type Deployment } from './deployment.js';
import { GANGWAY_STATE_DIR, shellQuote, type ShellCommand } from './shell.js';

export const CANARY_DIR = `${GANGWAY_STATE_DIR}/canary`;

export interface CanaryRecord {
  version: string;
  /** The new version's container (and server) on this host. */
  canary: string;
  /** The old version's containers (and servers) on this host. */
  baseline: string[];
  /** The step's share of the traffic (percent); 0 before the first step. */
  percent: number;
  /** ISO time the canary started. */
  startedAt: string;
}

export const canaryRecordPath = (d: Deployment): string => `${CANARY_DIR}/${deploymentKey(d)}.json`;

/** Written whole to a temporary file and renamed: a reader never sees half a record. */
export function writeCanaryRecordCommand(d: Deployment, record: CanaryRecord): ShellCommand {
  const path = canaryRecordPath(d);
  const tmp = `${CANARY_DIR}/.${deploymentKey(d)}.json.tmp`;
  return { command: `mkdir -p ${shellQuote(CANARY_DIR)} && cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(path)}`, stdin: `${JSON.stringify(record)}\n` };
}

/** Prints the record, or nothing when there is none. */
export const readCanaryRecordCommand = (d: Deployment): ShellCommand => ({ command: `cat ${shellQuote(canaryRecordPath(d))} 2>/dev/null; true` });

/** A person's word to a canary deploy that is running (`gangway canary promote|abort`), read at its next poll. */
export type CanaryDecision = 'promote' | 'abort';

export const canaryDecisionPath = (d: Deployment): string => `${CANARY_DIR}/${deploymentKey(d)}.decision`;

export const writeCanaryDecisionCommand = (d: Deployment, decision: CanaryDecision): ShellCommand => ({
  command: `mkdir -p ${shellQuote(CANARY_DIR)} && printf '%s\\n' ${decision} > ${shellQuote(canaryDecisionPath(d))}`,
});

/** Prints the decision, or nothing. */
export const readCanaryDecisionCommand = (d: Deployment): ShellCommand => ({ command: `cat ${shellQuote(canaryDecisionPath(d))} 2>/dev/null; true` });

export function parseCanaryDecision(text: string): CanaryDecision | undefined {
  const word = text.trim();
  return word === 'promote' || word === 'abort' ? word : undefined;
}

/** The record and any decision left for it. */
export const removeCanaryRecordCommand = (d: Deployment): ShellCommand => ({ command: `rm -f ${shellQuote(canaryRecordPath(d))} ${shellQuote(canaryDecisionPath(d))}` });

/** Pure: the record as read back; undefined for none, and for anything that is not one. */
export function parseCanaryRecord(text: string): CanaryRecord | undefined {
  if (text.trim() === '') return undefined;
  try {
    const r = JSON.parse(text) as Partial<CanaryRecord>;
    if (typeof r.version !== 'string' || typeof r.canary !== 'string' || !Array.isArray(r.baseline) || typeof r.percent !== 'number') return undefined;
    return { version: r.version, canary: r.canary, baseline: r.baseline.filter((b): b is string => typeof b === 'string'), percent: r.percent, startedAt: String(r.startedAt ?? '') };
  } catch {
    return undefined;
  }
}
