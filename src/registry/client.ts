// A small client of the Docker Registry HTTP API v2: list a repository's tags and identify the
// image behind a tag, with Basic or Bearer-token auth answered from the WWW-Authenticate challenge.
import { createHash } from 'node:crypto';
import { GangwayError, messageOf } from '../errors.js';
import { basicAuthorization, parseChallenge, tokenUrl } from './challenge.js';
import { registryApiBase } from './reference.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** host[:port] as it appears in image references. */
  registry: string;
  credentials?: RegistryCredentials;
  /** Per request, token requests included. */
  timeoutMs?: number;
  /** More registries to speak plain HTTP to (loopback and registry:5000 always are). */
  insecureRegistries?: readonly string[];
}

export interface ManifestInfo {
  /** Manifest digest (Docker-Content-Digest), what `docker pull repo@digest` uses. */
  digest: string;
  mediaType: string;
  /** The image config digest (= the engine's image id); undefined for manifest lists/indexes. */
  configDigest?: string;
}

/** Everything the engine or a registry may store under a tag. */
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export class RegistryClient {
  readonly registry: string;
  private readonly base: string;
  private readonly timeoutMs: number;
  /** Bearer tokens by scope; Basic needs no cache. */
  private readonly tokens = new Map<string, string>();

  constructor(private readonly opts: RegistryClientOptions) {
    this.registry = opts.registry;
    this.base = registryApiBase(opts.registry, opts.insecureRegistries);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Every tag of the repository; [] when the repository does not exist yet. */
  async listTags(repository: string): Promise<string[]> {
    const what = `listing the tags of ${repository}`;
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    // Bounded: a registry that keeps sending "next" links must not loop forever.
    for (let page = 0; path && page < 100; page++) {
      const res = await this.request('GET', path, repository, what, { Accept: 'application/json' });
      if (res.status === 404) return tags;
      await this.expectOk(res, what);
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      path = nextPage(res.headers.get('link'));
    }
    return tags;
  }

  /** The manifest behind a tag or digest; undefined when there is none. */
  async manifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    const what = `reading the manifest of ${repository}:${reference}`;
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, repository, what, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return undefined;
    await this.expectOk(res, what);
    const bytes = Buffer.from(await res.arrayBuffer());
    const body = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; config?: { digest?: string } };
    const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const mediaType = body.mediaType ?? res.headers.get('content-type') ?? 'unknown';
    return { digest, mediaType, ...(body.config?.digest ? { configDigest: body.config.digest } : {}) };
  }

  /** Manifest digest by HEAD (no body transferred); undefined when the tag does not exist. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const what = `reading the digest of ${repository}:${reference}`;
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, repository, what, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return undefined;
    await this.expectOk(res, what);
    const digest = res.headers.get('docker-content-digest');
    // Some registries omit the header on HEAD; the body's hash is the digest then.
    return digest ?? (await this.manifest(repository, reference))?.digest;
  }

  private async request(method: string, path: string, repository: string, what: string, headers: Record<string, string>): Promise<Response> {
    const first = await this.send(method, path, headers, what, this.cachedAuthorization(repository));
    if (first.status !== 401) return first;
    await first.body?.cancel();
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    const authorization = await this.answer(challenge, repository, what);
    const second = await this.send(method, path, headers, what, authorization);
    if (second.status === 401) {
      await second.body?.cancel();
      throw this.error(`${what} was refused: authentication failed`, this.opts.credentials ? 'check the registry username and password' : 'set registry.username and registry.password in gangway.yml');
    }
    return second;
  }

  private cachedAuthorization(repository: string): string | undefined {
    return this.tokens.get(pullScope(repository));
  }

  private async answer(challenge: ReturnType<typeof parseChallenge>, repository: string, what: string): Promise<string> {
    const creds = this.opts.credentials;
    if (challenge?.scheme === 'bearer') {
      const scope = pullScope(repository);
      const url = tokenUrl(challenge, scope);
      if (!url) throw this.error(`${what} failed: the registry asked for a token without saying where to get one`);
      const res = await this.send('GET', url, { Accept: 'application/json' }, `${what} (token request)`, creds ? basicAuthorization(creds.username, creds.password) : undefined);
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw this.error(`${what} was refused: the token service rejected the credentials`, creds ? 'check the registry username and password' : 'set registry.username and registry.password in gangway.yml');
      }
      await this.expectOk(res, `${what} (token request)`);
      const body = (await res.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw this.error(`${what} failed: the token service answered without a token`);
      this.tokens.set(scope, `Bearer ${token}`);
      return `Bearer ${token}`;
    }
    if (challenge?.scheme === 'basic') {
      if (!creds) throw this.error(`${what} was refused: the registry requires a login`, 'set registry.username and registry.password in gangway.yml');
      const authorization = basicAuthorization(creds.username, creds.password);
      this.tokens.set(pullScope(repository), authorization);
      return authorization;
    }
    throw this.error(`${what} was refused (401) with an authentication scheme gangway does not speak`);
  }

  private async send(method: string, pathOrUrl: string, headers: Record<string, string>, what: string, authorization?: string): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    try {
      return await fetch(url, {
        method,
        headers: { ...headers, ...(authorization ? { Authorization: authorization } : {}) },
        redirect: 'follow',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw this.error(`${what} failed: no answer within ${this.timeoutMs} ms`, undefined, err);
      }
      const reason = e.cause?.code ?? e.cause?.message ?? messageOf(err);
      throw this.error(`${what} failed: the registry is unreachable at ${this.base} (${reason})`, 'is the registry running, and is the address in the image name right?', err);
    }
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      // Not JSON: the status says enough.
    }
    throw this.error(`${what} failed: HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
  }

  private error(message: string, hint?: string, cause?: unknown): GangwayError {
    return new GangwayError('operation', `registry ${this.registry}: ${message}`, { ...(hint ? { hint } : {}), ...(cause ? { cause } : {}) });
  }
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The path of the next page from an RFC 5988 Link header (`</v2/x/tags/list?last=a&n=2>; rel="next"`). */
export function nextPage(link: string | null): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!m) return undefined;
  const u = m[1]!;
  return u.startsWith('http') ? new URL(u).pathname + new URL(u).search : u;
}
