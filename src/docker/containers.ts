// Creating a container. dockerode sends the whole create options as the query string as well as
// the body (docker-modem serialises every option after the path's "?"), so Env, secrets included,
// would travel in the request line, which dockerd logs in debug mode and an HTTP proxy in front
// of the socket may log too. Only the name and platform belong in the query; the rest goes in
// the body alone.
import type Docker from 'dockerode';

/** docker-modem's split of one options object into query and body (its `_query` / `_body`). */
export interface CreateRequest {
  _query: { name?: string; platform?: string };
  _body: Omit<Docker.ContainerCreateOptions, 'name' | 'platform'>;
}

/** The request for a create: name and platform in the query, everything else in the body. */
export function createRequest(options: Docker.ContainerCreateOptions): CreateRequest {
  const { name, platform, ...body } = options;
  const query: CreateRequest['_query'] = {};
  if (name !== undefined) query.name = name;
  if (platform !== undefined) query.platform = platform;
  return { _query: query, _body: body };
}

export async function createContainer(docker: Docker, options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
  return docker.createContainer(createRequest(options) as unknown as Docker.ContainerCreateOptions);
}
