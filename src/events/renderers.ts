// Renderers turn events into output: NDJSON for machines, plain lines for logs and pipes,
// and a live per-host view for terminals.
import type { Writable } from 'node:stream';
import type { GangwayEvent, Listener } from './events.js';
import { colours, formatLine, noColours, where } from './format.js';

export type RendererKind = 'json' | 'plain' | 'tty';

export interface RendererOptions {
  out: Writable & { isTTY?: boolean; columns?: number };
  err?: Writable;
  verbose?: boolean;
}

/** One JSON object per line on stdout: the contract for CI. */
function ndjsonRenderer({ out }: RendererOptions): Listener {
  return (e) => { out.write(`${JSON.stringify(e)}\n`); };
}

/** Every event as one line; 'start' steps only with --verbose to keep logs short. */
export function plainRenderer({ out, verbose }: RendererOptions, colour = false): Listener {
  const p = colour ? colours : noColours;
  return (e) => {
    if (e.type === 'step' && e.status === 'start' && !verbose) return;
    const line = formatLine(e, p);
    if (line !== undefined) out.write(`${line}\n`);
  };
}

/**
 * Live view: one status line per host that is redrawn in place, with logs and finished
 * steps scrolling above it.
 */
function ttyRenderer(opts: RendererOptions): Listener {
  const { out } = opts;
  const live = new Map<string, string>();
  let drawn = 0;
  const clear = () => {
    if (drawn > 0) out.write(`\u001b[${drawn}A\u001b[0J`);
    drawn = 0;
  };
  const draw = () => {
    const width = out.columns ?? 120;
    for (const line of live.values()) out.write(`${line.slice(0, width - 1)}\n`);
    drawn = live.size;
  };
  return (e: GangwayEvent) => {
    clear();
    if (e.type === 'step' && e.host) {
      const key = `${e.host}\u0000${e.role ?? ''}`;
      if (e.status === 'start') {
        live.set(key, `${where(e)}${colours.dim(`${e.step}…`)}${e.message ? ` ${e.message}` : ''}`);
      } else {
        live.delete(key);
        const line = formatLine(e, colours);
        if (line) out.write(`${line}\n`);
      }
    } else {
      const line = e.type === 'step' && e.status === 'start' && !opts.verbose ? undefined : formatLine(e, colours);
      if (line !== undefined) out.write(`${line}\n`);
    }
    if (e.type === 'done') live.clear();
    draw();
  };
}

export function pickRenderer(opts: { json?: boolean; env?: NodeJS.ProcessEnv; out: RendererOptions['out'] }): RendererKind {
  if (opts.json) return 'json';
  const env = opts.env ?? process.env;
  if (!opts.out.isTTY || env.NO_COLOR !== undefined || env.TERM === 'dumb') return 'plain';
  return 'tty';
}

export function makeRenderer(kind: RendererKind, opts: RendererOptions): Listener {
  switch (kind) {
    case 'json': return ndjsonRenderer(opts);
    case 'plain': return plainRenderer(opts);
    case 'tty': return ttyRenderer(opts);
  }
}
