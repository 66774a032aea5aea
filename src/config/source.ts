// Reads one YAML config file and keeps where every key and value sits, so problems found
// later (after interpolation, merging and validation) can name file:line:col.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { KeyPath, Problem } from './problems.js';

/** Offsets into the file's text of one node (value) and of the key that names it, if any. */
export interface Span {
  valueStart: number;
  valueEnd: number;
  keyStart?: number;
}

export interface ConfigSource {
  /** Absolute path. */
  file: string;
  /** As shown in messages. */
  fileName: string;
  text: string;
  lineCounter: LineCounter;
  /** Plain JS value of the document (undefined when YAML errors made it unusable). */
  value: unknown;
  /** Spans by pathKey(path). */
  spans: Map<string, Span>;
  yamlProblems: Problem[];
}

export const pathKey = (path: KeyPath): string => JSON.stringify(path);

/** Parses YAML text; never throws: syntax errors become problems with the parser's position. */
export function parseSource(file: string, fileName: string, text: string): ConfigSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const source: ConfigSource = { file, fileName, text, lineCounter, value: undefined, spans: new Map(), yamlProblems: [] };
  for (const err of doc.errors) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    source.yamlProblems.push({ fileName, line, col, path: [], message: yamlMessage(err.message), severity: 'error' });
  }
  if (source.yamlProblems.length > 0) return source;
  try {
    source.value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    // An alias without its anchor (or too many aliases) parses cleanly and fails only here.
    const { line, col } = lineCounter.linePos(firstAliasOffset(doc));
    source.yamlProblems.push({ fileName, line, col, path: [], message: yamlMessage(err instanceof Error ? err.message : String(err)), severity: 'error' });
    return source;
  }
  source.spans.set(pathKey([]), { valueStart: doc.contents?.range?.[0] ?? 0, valueEnd: doc.contents?.range?.[1] ?? 0 });
  if (doc.contents) collectSpans(doc, doc.contents as Node, [], source.spans, 0);
  return source;
}

function firstAliasOffset(doc: Document): number {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (offset === undefined && node.resolve(doc) === undefined) offset = node.range?.[0];
    },
  });
  return offset ?? 0;
}

function yamlMessage(message: string): string {
  // The parser's message sometimes carries its own "at line..." context; the position is ours.
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `invalid YAML: ${first.charAt(0).toLowerCase()}${first.slice(1)}`;
}

const MAX_DEPTH = 64;

function collectSpans(doc: Document, node: Node, path: KeyPath, spans: Map<string, Span>, depth: number): void {
  if (depth > MAX_DEPTH) return;
  const target = isAlias(node) ? (node.resolve(doc) as Node | undefined) : node;
  if (!target) return;
  if (isMap(target)) {
    for (const pair of target.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyValue = isScalar(keyNode) ? keyNode.value : undefined;
      if (keyValue === undefined || keyValue === null || typeof keyValue === 'object') continue;
      const childPath = [...path, String(keyValue)];
      const valueNode = pair.value as Node | null;
      const keyStart = keyNode?.range?.[0];
      const valueRange = valueNode?.range ?? keyNode?.range;
      if (!valueRange) continue;
      spans.set(pathKey(childPath), { valueStart: valueRange[0], valueEnd: valueRange[1], keyStart });
      if (valueNode) collectSpans(doc, valueNode, childPath, spans, depth + 1);
    }
  } else if (isSeq(target)) {
    target.items.forEach((item, i) => {
      const itemNode = item as Node | null;
      if (!itemNode?.range) return;
      const childPath = [...path, i];
      spans.set(pathKey(childPath), { valueStart: itemNode.range[0], valueEnd: itemNode.range[1] });
      collectSpans(doc, itemNode, childPath, spans, depth + 1);
    });
  }
}

export interface Located {
  source: ConfigSource;
  /** How many leading segments of the asked path were found. */
  depth: number;
  span: Span;
}

/** The deepest prefix of `path` that exists in the source; the root always does. */
function locateIn(source: ConfigSource, path: KeyPath): Located | undefined {
  for (let n = path.length; n >= 0; n--) {
    const span = source.spans.get(pathKey(path.slice(0, n)));
    if (span) return { source, depth: n, span };
  }
  return undefined;
}

/**
 * Where a path of the merged config came from: the source that holds the longest prefix of it,
 * later sources (overlays) winning ties because their values replaced the base's.
 */
export function locate(sources: ConfigSource[], path: KeyPath): Located | undefined {
  let best: Located | undefined;
  for (const source of sources) {
    const found = locateIn(source, path);
    if (found && (!best || found.depth >= best.depth)) best = found;
  }
  return best;
}

export type PointAt = 'key' | 'value';

/** line/col (1-based) of a located path: its key for unknown keys, its value otherwise. */
export function lineCol(found: Located, at: PointAt): { line: number; col: number } {
  const offset = at === 'key' && found.span.keyStart !== undefined ? found.span.keyStart : found.span.valueStart;
  return found.source.lineCounter.linePos(offset);
}
