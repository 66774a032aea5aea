// Shared text formatting of events for the human renderers.
import type { GangwayEvent } from './events.js';

export interface Palette {
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
export const colours: Palette = { dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), bold: wrap(1, 22) };
export const noColours: Palette = { dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, bold: (s) => s };

/** "vm1 web" style prefix: every line that concerns a host names the host and role. */
export function where(e: { host?: string; role?: string; instance?: string }): string {
  if (!e.host && !e.role) return '';
  return `[${[e.host, e.role, e.instance].filter(Boolean).join(' ')}] `;
}

const statusWord: Record<string, string> = { start: '…', done: 'ok', fail: 'FAILED', skip: 'skipped' };

/** One human line for an event, or undefined when the event has no line of its own. */
export function formatLine(e: GangwayEvent, p: Palette): string | undefined {
  switch (e.type) {
    case 'step': {
      const took = e.durationMs !== undefined ? p.dim(` (${formatMs(e.durationMs)})`) : '';
      const word = e.status === 'fail' ? p.red(statusWord[e.status]!) : e.status === 'done' ? p.green(statusWord[e.status]!) : p.dim(statusWord[e.status]!);
      const msg = e.message ? ` ${e.message}` : '';
      return `${where(e)}${e.step} ${word}${msg}${took}`;
    }
    case 'log': {
      const text = e.level === 'error' ? p.red(e.message) : e.level === 'warn' ? p.yellow(e.message) : e.message;
      return `${where(e)}${text}`;
    }
    case 'result':
      return undefined;
    case 'done':
      return e.ok ? p.green(e.message) : p.red(e.message);
  }
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
