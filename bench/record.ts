// Writes one bench's section into BENCHMARKS.md between its own markers, replacing the previous
// run's: every number there comes from a script's `--record`, never from a hand edit.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** `key` names the markers (`<!-- key:begin -->`); `body` is the section's Markdown after its heading. */
export function recordSection(key: string, heading: string, command: string, body: string): void {
  const begin = `<!-- ${key}:begin -->`;
  const end = `<!-- ${key}:end -->`;
  const section = `${begin}\n## ${heading}\n\nCommand: \`${command}\`\n\n${body}\n${end}`;
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  writeFileSync(FILE, i >= 0 && j > i ? `${text.slice(0, i)}${section}${text.slice(j + end.length)}` : `${text.trimEnd()}\n\n${section}\n`);
}
