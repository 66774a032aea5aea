import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createRequest } from '../../src/docker/containers.js';

describe('createRequest', () => {
  const options: Docker.ContainerCreateOptions = { name: 'app-web-1', platform: 'linux/amd64', Image: 'app:1', Env: ['TOKEN=hunter2'], Labels: { a: 'b' } };

  it('keeps only name and platform for the query string', () => {
    expect(createRequest(options)._query).toEqual({ name: 'app-web-1', platform: 'linux/amd64' });
  });

  it('sends everything else in the body alone', () => {
    expect(createRequest(options)._body).toEqual({ Image: 'app:1', Env: ['TOKEN=hunter2'], Labels: { a: 'b' } });
  });

  it('leaves a nameless create with an empty query', () => {
    expect(createRequest({ Image: 'app:1' })._query).toEqual({});
  });

  // What docker-modem would put in the request line for each form: the reason this module exists.
  it('keeps the environment out of the request line docker-modem builds', () => {
    const modem = new Docker().modem as unknown as { buildQuerystring(o: object): string };
    expect(modem.buildQuerystring(options)).toContain('hunter2');
    expect(modem.buildQuerystring(createRequest(options)._query)).not.toContain('hunter2');
  });
});
