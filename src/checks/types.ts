// The vocabulary of `gangway verify`: a declared check, what a probe observed, and the result.
// Results are plain data (no Dates, no classes) so they can be printed, diffed and snapshotted.

/** One declared check after validation: its resource type, what it looks at, and its attributes. */
export interface CheckSpec {
  /** Resource type, the YAML key that names it: file, port, container... */
  type: string;
  /** What the check looks at: a path, a port, a container name... */
  subject: string;
  /** The validated item as written (with defaults applied). */
  spec: Record<string, unknown>;
  /** Optional human title from the spec (`title:`). */
  title?: string;
}

/** A check bound to where it was declared, ready to run on one host. */
export interface PlannedCheck extends CheckSpec {
  /** "roles.web[2]" / "hosts.vm3[0]" / "built-in": where the check comes from. */
  origin: string;
  /** The role the check was declared for, if any. */
  role?: string;
}

/** Text a probe reports: plain JSON strings, or bytes as hex when they are not plain ASCII. */
export type ProbeText = string | { hex: string } | null;

/** The facts one probe printed, as parsed JSON. */
export type Facts = Record<string, unknown>;

/** One attribute compared: what was wanted, what the host has. */
export interface Expectation {
  attribute: string;
  expected: string;
  observed: string;
  ok: boolean;
}

export type CheckStatus = 'pass' | 'fail' | 'error';

export interface CheckResult {
  host: string;
  role?: string;
  origin: string;
  type: string;
  subject: string;
  /** "file /etc/hello.conf" or the spec's title. */
  title: string;
  status: CheckStatus;
  expectations: Expectation[];
  /** Why the check could not be evaluated (status error), or the first failed expectation. */
  message?: string;
}

export const BUILT_IN_ORIGIN = 'built-in';
