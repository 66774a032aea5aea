// An HTTP client bound to a container's published port: tests write paths, not URLs.
// Built on Node's fetch; always 127.0.0.1, where test ports are published.

export type JsonBody = Record<string, unknown> | unknown[];
export type Body = string | Uint8Array | URLSearchParams | JsonBody;

export interface HttpClient {
  /** http://127.0.0.1:<hostPort> */
  readonly baseUrl: string;
  request(method: string, path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  get(path: string, init?: RequestInit): Promise<Response>;
  head(path: string, init?: RequestInit): Promise<Response>;
  delete(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body?: Body, init?: RequestInit): Promise<Response>;
  put(path: string, body?: Body, init?: RequestInit): Promise<Response>;
  patch(path: string, body?: Body, init?: RequestInit): Promise<Response>;
}

/** A plain object or array goes as JSON; strings, bytes and form params as they are. */
function encodeBody(body: Body | undefined): { body?: RequestInit['body']; headers?: Record<string, string> } {
  if (body === undefined) return {};
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof URLSearchParams) return { body: body as RequestInit['body'] };
  return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

export function httpClient(hostPort: number): HttpClient {
  const baseUrl = `http://127.0.0.1:${hostPort}`;
  const url = (path: string) => new URL(path, `${baseUrl}/`).toString();
  const request = (method: string, path: string, init: RequestInit = {}) => fetch(url(path), { ...init, method });
  const withBody = (method: string) => (path: string, body?: Body, init: RequestInit = {}) => {
    const encoded = encodeBody(body);
    return request(method, path, { ...init, body: encoded.body, headers: { ...(encoded.headers ?? {}), ...headersObject(init.headers) } });
  };
  return Object.freeze({
    baseUrl,
    request: (method: string, path: string, init: RequestInit & { json?: unknown } = {}) => {
      const { json, ...rest } = init;
      return json === undefined ? request(method, path, rest) : withBody(method)(path, json as JsonBody, rest);
    },
    get: (path: string, init?: RequestInit) => request('GET', path, init),
    head: (path: string, init?: RequestInit) => request('HEAD', path, init),
    delete: (path: string, init?: RequestInit) => request('DELETE', path, init),
    post: withBody('POST'),
    put: withBody('PUT'),
    patch: withBody('PATCH'),
  });
}

function headersObject(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  return Object.fromEntries(new Headers(headers).entries());
}
