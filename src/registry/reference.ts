// Image references ([registry/]repository[:tag][@digest]) parsed into parts, so a release can
// retarget an image to another registry without guessing where the registry part ends.
import { usageError } from '../errors.js';

export interface ImageRef {
  /** host[:port] of the registry; undefined means Docker Hub. */
  registry?: string;
  /** Path inside the registry, e.g. acme/hello. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** What Docker calls the Hub when a reference names no registry. */
const DOCKER_HUB = 'docker.io';
/** The sandbox registry's name: plain HTTP, like loopback registries. */
const SANDBOX_REGISTRY = 'registry:5000';

export const DOCKER_TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/**
 * Docker's own rule: the first path component is a registry when it contains a '.' or a ':'
 * or is 'localhost'; otherwise it is part of the repository (acme/hello lives on the Hub).
 */
function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function parseImageRef(text: string): ImageRef {
  const bad = (why: string) => usageError(`invalid image reference "${text}": ${why}`, { hint: 'expected [registry/]repository[:tag], e.g. registry.example.com/acme/hello:1.2.3' });
  let rest = text.trim();
  if (rest === '') throw bad('it is empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(`"${digest}" is not a digest`);
  }
  // The tag is after the last ':' only when that ':' comes after the last '/' (a registry port
  // also has a ':').
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!DOCKER_TAG_RE.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry: string | undefined;
  if (parts.length > 1 && looksLikeRegistry(parts[0]!)) {
    registry = parts.shift()!;
    if (!REGISTRY_RE.test(registry)) throw bad(`"${registry}" is not a registry host[:port]`);
  }
  for (const p of parts) {
    if (!PATH_COMPONENT_RE.test(p)) throw bad(`"${p}" is not a valid repository component (lower-case letters, digits, separators . _ __ -)`);
  }
  return { ...(registry ? { registry } : {}), repository: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** registry/repository, or just repository for the Hub. */
export function repositoryName(ref: Pick<ImageRef, 'registry' | 'repository'>): string {
  return ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
}

export function formatImageRef(ref: ImageRef): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export function registryOf(ref: Pick<ImageRef, 'registry'>): string {
  return ref.registry ?? DOCKER_HUB;
}

/** The same repository on another registry: an existing registry part is replaced, never nested. */
export function withRegistry(ref: ImageRef, registry: string): ImageRef {
  if (!REGISTRY_RE.test(registry) || registry.includes('/')) {
    throw usageError(`invalid registry "${registry}"`, { hint: 'expected host[:port], e.g. registry.example.com or 127.0.0.1:5000' });
  }
  return { ...ref, registry };
}

/** Same registry, compared the way engines do (case-insensitive host, Hub aliases). */
export function sameRegistry(a: string, b: string): boolean {
  const norm = (s: string) => {
    const l = s.toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    return l === 'index.docker.io' || l === 'registry-1.docker.io' ? DOCKER_HUB : l;
  };
  return norm(a) === norm(b);
}

/** Registries spoken to over plain HTTP: loopback, and the sandbox's registry name. */
export function isInsecureRegistry(registry: string, extra: readonly string[] = []): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return true;
  return [SANDBOX_REGISTRY, ...extra].some((r) => sameRegistry(r, registry));
}

/** Base URL of the registry's HTTP API v2 (the Hub's API lives on another host than its name). */
export function registryApiBase(registry: string, extraInsecure: readonly string[] = []): string {
  if (sameRegistry(registry, DOCKER_HUB)) return 'https://registry-1.docker.io';
  return `${isInsecureRegistry(registry, extraInsecure) ? 'http' : 'https'}://${registry}`;
}

/** The repository path the registry API expects (the Hub keeps official images under library/). */
export function apiRepository(ref: Pick<ImageRef, 'registry' | 'repository'>): string {
  return !ref.registry && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository;
}
