import { describe, expect, it } from 'vitest';
import { appContainerSpec, assertNoSecretInLabels, lastLines, mergeEnv } from '../../src/app/container.js';
import { envFilePath, parseEnvFile, readEnvFileCommand, renderEnvFile, writeEnvFileCommand } from '../../src/app/env-file.js';

const base = {
  deployment: { service: 'hello' }, role: 'web', version: '1.0.0', image: 'registry:5000/hello:1.0.0', envClear: { MODE: 'production' },
  envSecret: { DATABASE_URL: 'postgres://u:s3cr3t@db/x' }, network: 'gangway', appPort: 8080, deployedAt: new Date('2026-01-01T00:00:00Z'),
};

describe('appContainerSpec', () => {
  const spec = appContainerSpec(base);
  const o = spec.createOptions;
  it('names the container <service>-<role>-<version> and aliases it on the network by that name', () => {
    expect(spec.name).toBe('hello-web-1.0.0');
    expect(o.name).toBe('hello-web-1.0.0');
    expect(o.NetworkingConfig?.EndpointsConfig?.gangway?.Aliases).toEqual(['hello-web-1.0.0']);
    expect(o.HostConfig?.NetworkMode).toBe('gangway');
  });
  it('restarts unless stopped and caps its logs', () => {
    expect(o.HostConfig?.RestartPolicy).toEqual({ Name: 'always' });
    expect(o.HostConfig?.LogConfig?.Config).toEqual({ 'max-size': '10m' });
  });
  it('publishes no port', () => {
    expect(o.HostConfig?.PortBindings).toBeUndefined();
    expect(o.HostConfig?.PublishAllPorts).toBeUndefined();
    expect(o.ExposedPorts).toEqual({ '8080/tcp': {} });
  });
  it('passes clear and secret env in the create body, sorted', () => {
    expect(o.Env).toEqual(['DATABASE_URL=postgres://u:s3cr3t@db/x', 'MODE=production']);
  });
  it('keeps every secret value out of the labels', () => {
    expect(JSON.stringify(o.Labels)).not.toContain('s3cr3t');
    expect(o.Labels?.['gangway.version']).toBe('1.0.0');
  });
  it.each([
    [undefined, undefined],
    [['bin/jobs', '--queue', 'default'], ['bin/jobs', '--queue', 'default']],
  ])('cmd %j -> Cmd %j', (cmd, expected) => {
    expect(appContainerSpec({ ...base, cmd }).createOptions.Cmd).toEqual(expected);
  });
  it('points at the role env file', () => {
    expect(spec.envFilePath).toBe('/var/lib/gangway/env/hello-web.env');
  });
  it('refuses a label that would carry a secret value', () => {
    expect(() => appContainerSpec({ ...base, labels: { note: 'postgres://u:s3cr3t@db/x' } })).toThrow(/secret DATABASE_URL/);
  });
});

describe('mergeEnv / assertNoSecretInLabels', () => {
  it('refuses a key that is both clear and secret', () => {
    expect(() => mergeEnv({ A: '1' }, { A: '2' })).toThrow(/both clear and secret/);
  });
  it.each([
    [{ a: 'x' }, { S: 'topsecret' }, false],
    [{ a: 'has topsecret inside' }, { S: 'topsecret' }, true],
    [{ topsecret: 'x' }, { S: 'topsecret' }, true],
    [{ a: '' }, { S: '' }, false],
  ])('labels %j with secrets %j -> throws %s', (labels, secrets, throws) => {
    const run = () => assertNoSecretInLabels(labels, secrets);
    if (throws) expect(run).toThrow();
    else expect(run).not.toThrow();
  });
});

describe('env file', () => {
  it.each([
    [{}, ''],
    [{ B: '2', A: '1' }, 'A=1\nB=2\n'],
    [{ URL: 'a=b=c' }, 'URL=a=b=c\n'],
    [{ SPACE: ' x ' }, 'SPACE= x \n'],
  ])('renders %j', (env, text) => {
    expect(renderEnvFile(env)).toBe(text);
    expect(parseEnvFile(text)).toEqual(env);
  });
  it.each([[{ K: 'a\nb' }], [{ 'BAD-KEY': 'x' }], [{ K: 'a\rb' }]])('refuses %j without echoing the value', (env) => {
    try {
      renderEnvFile(env);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toMatch(/a\nb|a\rb/);
    }
  });
  it('writes through stdin, never argv, with umask 077, a 0700 dir and an atomic rename', () => {
    const cmd = writeEnvFileCommand(envFilePath({ service: 'hello' }, 'web'), { SECRET: 'hunter2' });
    expect(cmd.command).not.toContain('hunter2');
    expect(cmd.stdin).toBe('SECRET=hunter2\n');
    expect(cmd.command).toBe(
      'umask 077 && mkdir -p /var/lib/gangway/env && chmod 700 /var/lib/gangway/env && cat > /var/lib/gangway/env/hello-web.env.tmp && chmod 600 /var/lib/gangway/env/hello-web.env.tmp && mv -f /var/lib/gangway/env/hello-web.env.tmp /var/lib/gangway/env/hello-web.env',
    );
    expect(readEnvFileCommand('/x y/e.env').command).toBe("cat '/x y/e.env'");
  });
});

describe('lastLines', () => {
  it.each([
    ['a\nb\n\nc\n', 2, ['b', 'c']],
    ['a\r\nb\r\n', 5, ['a', 'b']],
    ['a\nb', 0, []],
  ])('lastLines(%j, %i)', (text, n, expected) => {
    expect(lastLines(text, n)).toEqual(expected);
  });
});
