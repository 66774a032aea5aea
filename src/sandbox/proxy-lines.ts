// Which HAProxy image of a sandbox to run: the one choice of a proxy line that tests and benches
// make, so they all name the images the same way and fail the same way on an old sandbox.
import { usageError } from '../errors.js';
import { PROXY_LINES, type ProxyLine, type SandboxInfo } from './types.js';

export function isProxyLine(value: string): value is ProxyLine {
  return (PROXY_LINES as readonly string[]).includes(value);
}

/** The line named by a flag or variable; '' or undefined is 2.6, what the sandbox has always run. */
export function parseProxyLine(value: string | undefined, from: string): ProxyLine {
  if (value === undefined || value === '') return '2.6';
  if (!isProxyLine(value)) throw usageError(`${from}: HAProxy line "${value}" is not one the sandbox builds (${PROXY_LINES.join(', ')})`);
  return value;
}

/** The sandbox's image of that line; a sandbox.json from before 3.0 was built names only 2.6. */
export function proxyImageOf(info: Pick<SandboxInfo, 'images'>, line: ProxyLine): string {
  const image = info.images.proxies?.[line] ?? (line === '2.6' ? info.images.proxy : undefined);
  if (!image) throw usageError(`this sandbox has no HAProxy ${line} image (it was started before gangway built one)`, { hint: 'start it again: `gangway sandbox down`, then `gangway sandbox up` (or run the tests without GANGWAY_SANDBOX_REUSE)' });
  return image;
}
