// The few lines of a proxy's log that say why it failed, out of the dozens of routine ones.

/** Server up/down transitions and health warnings: dozens per deploy, and never why a proxy failed. */
const ROUTINE_LOG = /Server \S+ is (UP|DOWN|going DOWN)|Health check for server|backend \S+ has no server available|is (DRAIN|READY|MAINT)|changed its IP|was DOWN|Proxy \S+ started|Loading success|Server \S+ ('s|is) (administratively|now)/i;
const SEVERE_LOG = /\[(ALERT|EMERG|ERR|FATAL)\]|error|cannot|unable|fatal/i;

/**
 * The few lines of the proxy's log that explain a failure: its alerts and errors first, else the
 * last non-routine lines; at most `max`.
 */
export function explainingLines(lines: string[], max = 8): string[] {
  const severe = lines.filter((l) => SEVERE_LOG.test(l) && !ROUTINE_LOG.test(l));
  if (severe.length > 0) return severe.slice(-max);
  return lines.filter((l) => !ROUTINE_LOG.test(l)).slice(-max);
}
