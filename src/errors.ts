// Errors are values: a code the CLI maps to an exit status, plus where it happened and a hint.

export type ErrorCode =
  | 'config'      // bad input: exit 2, nothing touched
  | 'usage'       // bad flags or arguments: exit 2
  | 'lock'        // deploy lock held by someone else: exit 3
  | 'operation'   // the operation failed (and was recovered): exit 1
  | 'interrupted';// SIGINT/SIGTERM: exit 130

export interface ErrorDetails {
  host?: string;
  role?: string;
  step?: string;
  hint?: string;
  /** Extra lines worth showing (container logs, uptest output). */
  details?: string[];
  cause?: unknown;
}

export class GangwayError extends Error {
  readonly code: ErrorCode;
  readonly host?: string;
  readonly role?: string;
  readonly step?: string;
  readonly hint?: string;
  readonly details: string[];

  constructor(code: ErrorCode, message: string, info: ErrorDetails = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = 'GangwayError';
    this.code = code;
    this.host = info.host;
    this.role = info.role;
    this.step = info.step;
    this.hint = info.hint;
    this.details = info.details ?? [];
  }
}

export const exitCodeFor = (code: ErrorCode): number =>
  ({ config: 2, usage: 2, lock: 3, operation: 1, interrupted: 130 })[code];

export const configError = (message: string, info?: ErrorDetails) => new GangwayError('config', message, info);
export const usageError = (message: string, info?: ErrorDetails) => new GangwayError('usage', message, info);
export const operationError = (message: string, info?: ErrorDetails) => new GangwayError('operation', message, info);

/** Best-effort message of anything thrown, for wrapping foreign errors. */
export const messageOf = (err: unknown): string =>
  err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
