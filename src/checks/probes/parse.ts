// Reads a script's output back: facts by check index, and what could not be read.
import type { Facts } from '../types.js';
import { SCRIPT_END_MARKER } from './script.js';

export interface ParsedOutput {
  facts: Map<number, Facts>;
  /** Lines that were not a result, with why (a check that broke mid-line). */
  garbled: string[];
  /** The script reached its end (a missing result then means its probe failed). */
  complete: boolean;
}

export function parseScriptOutput(stdout: string): ParsedOutput {
  const facts = new Map<number, Facts>();
  const garbled: string[] = [];
  let complete = false;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    if (line === SCRIPT_END_MARKER) {
      complete = true;
      continue;
    }
    // A probe that died mid-line leaves its fragment glued to the next check's line.
    const start = line.lastIndexOf('{"i":');
    if (start > 0) garbled.push(line.slice(0, start));
    const candidate = start >= 0 ? line.slice(start) : line;
    try {
      const parsed = JSON.parse(candidate) as { i?: unknown; f?: unknown };
      if (typeof parsed.i === 'number' && parsed.f && typeof parsed.f === 'object' && !Array.isArray(parsed.f)) facts.set(parsed.i, parsed.f as Facts);
      else garbled.push(candidate);
    } catch {
      garbled.push(candidate);
    }
  }
  return { facts, garbled, complete };
}
