// How the Engine API says "no such thing": dockerode rejects with the HTTP status on the error.

/** The HTTP status the engine answered a failed call with, if the error carries one. */
export function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine has no such image, container, network or volume (HTTP 404). */
export function isNotFound(err: unknown): boolean {
  return statusCodeOf(err) === 404;
}

/**
 * Not there, or on its way out: removing a container another removal already took (409 "already
 * in progress") or stopping one that is not running leaves the same end state, so idempotent
 * cleanups treat those like 404.
 */
export function isAlreadyGone(err: unknown): boolean {
  const code = statusCodeOf(err);
  return code === 404 || (code === 409 && /already in progress|is not running/.test(String((err as Error).message)));
}
