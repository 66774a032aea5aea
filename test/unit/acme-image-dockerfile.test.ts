// examples/acme-image/Dockerfile must install every program the renewal script calls, so the two
// cannot drift: the list is read from the script itself (acmeScript()), not written by hand here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acmeContainerSpec, acmeScript } from '../../src/proxy/acme-container.js';
import { packageRoot } from '../../src/sandbox/package-root.js';

const DOCKERFILE = readFileSync(join(packageRoot(), 'examples', 'acme-image', 'Dockerfile'), 'utf8');

/** Built into busybox sh (and dash): no program needed. */
const SHELL_BUILTINS = new Set(['[', 'test', 'echo', 'printf', 'set', 'read', 'trap', 'wait', 'kill', 'exit', 'return', 'shift', 'umask', 'cd', ':', 'true', 'false', 'local', 'export', 'eval', 'exec', 'break', 'continue', 'unset']);
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'while', 'until', 'do', 'done', 'case', 'esac', 'for', 'in']);

/**
 * The script with what cannot run a program taken out: comments, single-quoted text, the literal
 * parts of double-quoted text, arithmetic and ${...}. A command substitution, also inside double
 * quotes, is kept between separators, since what it runs is a command of its own.
 */
function codeOnly(src: string): string {
  let out = '';
  let i = 0;
  const skipTo = (end: string) => { const j = src.indexOf(end, i); i = j < 0 ? src.length : j + end.length; };
  const substitution = (): void => {
    // At "$(": to the matching ")", itself lexed as code.
    i += 2;
    out += ' ; ';
    let depth = 1;
    while (i < src.length && depth > 0) {
      const c = src[i]!;
      if (c === '(') depth++;
      if (c === ')') depth--;
      if (depth === 0) { i++; break; }
      step();
    }
    out += ' ; ';
  };
  const doubleQuoted = (): void => {
    i++;
    out += ' @ ';
    while (i < src.length && src[i] !== '"') {
      if (src[i] === '\\') i += 2;
      else if (src.startsWith('$((', i)) skipTo('))');
      else if (src.startsWith('$(', i)) substitution();
      else i++;
    }
    i++;
  };
  const step = (): void => {
    const c = src[i]!;
    const wordStart = i === 0 || /\s|[;&|(){}]/.test(src[i - 1]!);
    if (c === '\\') { out += ' @ '; i += 2; }
    else if (c === "'") { i++; skipTo("'"); out += ' @ '; }
    else if (c === '"') doubleQuoted();
    else if (c === '#' && wordStart) skipTo('\n'), (out += '\n');
    else if (src.startsWith('$((', i)) { skipTo('))'); out += '0'; }
    else if (src.startsWith('${', i)) { skipTo('}'); out += '@'; }
    else if (src.startsWith('$(', i)) substitution();
    else { out += c; i++; }
  };
  while (i < src.length) step();
  return out;
}

/** The first word of each simple command, minus keywords, assignments, builtins and the script's own functions. */
function programsCalled(script: string): string[] {
  const code = codeOnly(script);
  const functions = new Set([...code.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)/gm)].map((m) => m[1]!));
  const programs = new Set<string>();
  for (const segment of code.split(/\n|;|&&|\|\||\||&|\(|\)|\{|\}|!/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    while (words.length > 0 && (KEYWORDS.has(words[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))) words.shift();
    const first = words[0];
    if (first && /^[a-z][a-z0-9_.-]*$/.test(first) && !functions.has(first) && !SHELL_BUILTINS.has(first)) programs.add(first);
  }
  return [...programs].sort();
}

/** The packages of the Dockerfile's `apt-get install` and the busybox applets it links. */
function dockerfileProvides(text: string): { packages: string[]; applets: string[]; pathDirs: string[]; binShIsBusybox: boolean } {
  const joined = text.replace(/\\\n/g, ' ');
  const install = /apt-get install ((?:-\S+\s+)*)([a-z0-9.+\- ]+?)(?:&&|$)/m.exec(joined);
  const applets = /for applet in ([a-z0-9 ]+); do ln -s \/bin\/busybox "\/opt\/busybox\/bin\/\$applet"/.exec(joined);
  const path = /^ENV PATH=(\S+)/m.exec(joined);
  return {
    packages: install?.[2]?.trim().split(/\s+/) ?? [],
    applets: applets?.[1]?.trim().split(/\s+/) ?? [],
    pathDirs: path?.[1]?.split(':') ?? [],
    binShIsBusybox: /ln -sf \/bin\/busybox \/bin\/sh\b/.test(joined),
  };
}

describe('the ACME image Dockerfile (examples/acme-image)', () => {
  const called = programsCalled(acmeScript());
  const provided = dockerfileProvides(DOCKERFILE);

  it('reads the programs from the script: the ones it is known to need, none of its functions or builtins', () => {
    // A reader that found nothing would let any Dockerfile pass.
    for (const p of ['lego', 'socat', 'openssl', 'date', 'sed', 'tr', 'sha256sum', 'sleep']) expect(called).toContain(p);
    for (const notAProgram of ['lego_', 'api', 'push', 'log', 'printf', 'echo', 'kill', 'json']) expect(called).not.toContain(notAProgram);
    expect(programsCalled('f() { foo; }\n# bar x\nx=$(baz "$(qux)" | quux) && echo \'corge; grault\'; f')).toEqual(['baz', 'foo', 'quux', 'qux']);
  });

  it('installs every program the script calls: a Debian package of its name or a busybox applet on PATH', () => {
    expect(provided.packages.length).toBeGreaterThan(0);
    const missing = called.filter((p) => !provided.packages.includes(p) && !provided.applets.includes(p));
    expect(missing).toEqual([]);
    expect(provided.packages).toContain('busybox');
    expect(provided.packages).toContain('ca-certificates');
  });

  it('runs the script with busybox: /bin/sh (the entrypoint) is busybox, and its applets come first on PATH (date -D)', () => {
    expect(acmeContainerSpec({ image: 'x', network: 'n', proxyUid: 1, proxyGid: 1 }).Entrypoint?.[0]).toBe('/bin/sh');
    expect(provided.binShIsBusybox).toBe(true);
    expect(provided.applets).toContain('date');
    expect(provided.pathDirs[0]).toBe('/opt/busybox/bin');
  });

  // Debian's busybox and busybox-static (this machine's) are one source package: the same applets.
  it.skipIf(!existsSync('/bin/busybox'))('links only applets busybox has', () => {
    const list = execFileSync('/bin/busybox', ['--list']).toString().split('\n');
    expect(provided.applets.filter((a) => !list.includes(a))).toEqual([]);
  });
});
