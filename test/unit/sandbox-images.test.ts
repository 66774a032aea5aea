import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../src/content-hash.js';
import { fileEntry, imageHash, imageTag, type ImageSpec } from '../../src/sandbox/image-spec.js';
import { parseLdd } from '../../src/sandbox/ldd.js';
import { busyboxImage } from '../../src/sandbox/images/busybox.js';
import { haproxy30Image, haproxyImage, HAPROXY_CONFIG_PATH } from '../../src/sandbox/images/haproxy.js';
import { registryConfigYaml, registryImage } from '../../src/sandbox/images/registry.js';
import { hostEntrypointScript, hostImage } from '../../src/sandbox/images/host.js';
import { helloImage } from '../../src/sandbox/images/hello.js';
import { BARE_HOST_ROOTFS, DOCKER_HOST_ROOTFS, HAPROXY_30_ROOTFS, debootstrapArgv, rootfsImageTag, rootfsKey, rootfsTarArgv, rootfsTarballPath, withMirror } from '../../src/sandbox/rootfs.js';

const base: ImageSpec = {
  name: 'demo',
  dockerfile: 'FROM scratch\nCOPY a /a\n',
  context: [fileEntry('a', 'one')],
  buildArgs: { VERSION: '1' },
};

describe('content hash of an image spec', () => {
  it('is stable for equal inputs', () => {
    expect(imageHash(base)).toBe(imageHash({ ...base, context: [fileEntry('a', Buffer.from('one'))] }));
    expect(imageHash(base)).toMatch(/^[0-9a-f]{12}$/);
  });

  it.each<[string, ImageSpec]>([
    ['the Dockerfile text', { ...base, dockerfile: `${base.dockerfile}CMD ["x"]\n` }],
    ['a copied file content', { ...base, context: [fileEntry('a', 'two')] }],
    ['a copied file mode', { ...base, context: [fileEntry('a', 'one', 0o755)] }],
    ['a copied file path', { ...base, context: [fileEntry('b', 'one')] }],
    ['an added file', { ...base, context: [...base.context, fileEntry('c', '')] }],
    ['a build argument', { ...base, buildArgs: { VERSION: '2' } }],
    ['an extra input', { ...base, extraInputs: { base: 'gangway/x:1' } }],
  ])('changes when %s changes', (_what, changed) => {
    expect(imageHash(changed)).not.toBe(imageHash(base));
  });

  it('does not depend on the order of object keys', () => {
    expect(contentHash({ a: 1, b: [1, 2] })).toBe(contentHash({ b: [1, 2], a: 1 }));
    expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
  });

  it('ignores the smoke test, which checks an image but does not shape it', () => {
    expect(imageHash({ ...base, smokeTest: { entrypoint: ['x'], cmd: [], expectOutput: /y/ } })).toBe(imageHash(base));
  });

  it('names the tag gangway/<name>:<hash12>', () => {
    expect(imageTag(base)).toBe(`gangway/demo:${imageHash(base)}`);
  });
});

describe('parseLdd', () => {
  const output = [
    '\tlinux-vdso.so.1 (0x00007ffd)',
    '\tlibcrypt.so.1 => /lib/x86_64-linux-gnu/libcrypt.so.1 (0x00007f)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
    '',
  ].join('\n');

  it('lists every library file, the loader included, and skips the vDSO', () => {
    expect(parseLdd(output)).toEqual(['/lib/x86_64-linux-gnu/libcrypt.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });

  it('lists nothing for a static binary', () => {
    expect(parseLdd('\tstatically linked\n')).toEqual([]);
  });

  it('fails on a missing library instead of building an image that cannot start', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found\n')).toThrow(/libfoo/);
  });
});

describe('scratch images', () => {
  const libs = [fileEntry('rootfs/lib64/ld-linux-x86-64.so.2', 'ld', 0o755)];

  it('busybox installs every applet into /bin', () => {
    const spec = busyboxImage({ busybox: Buffer.from('bb') });
    expect(spec.dockerfile).toContain('FROM scratch');
    expect(spec.dockerfile).toContain('RUN ["/bin/busybox", "--install", "-s", "/bin"]');
    expect(spec.context.map((e) => e.path)).toContain('rootfs/bin/busybox');
    expect(imageHash(busyboxImage({ busybox: Buffer.from('other') }))).not.toBe(imageHash(spec));
  });

  it('registry serves on :5000 from a filesystem root directory', () => {
    const yaml = registryConfigYaml();
    expect(yaml).toMatch(/rootdirectory: \/var\/lib\/registry/);
    expect(yaml).toMatch(/addr: :5000/);
    const spec = registryImage({ binaryFiles: libs });
    expect(spec.context.map((e) => e.path)).toContain('rootfs/etc/docker/registry/config.yml');
    expect(spec.dockerfile).toContain('ENTRYPOINT ["/usr/bin/docker-registry"]');
  });

  it('haproxy reads the official image\'s config path, with the plain `haproxy -f` a Debian-built image has', () => {
    const spec = haproxyImage({ binaryFiles: libs });
    expect(HAPROXY_CONFIG_PATH).toBe('/usr/local/etc/haproxy/haproxy.cfg');
    expect(spec.dockerfile).toContain(`CMD ["haproxy", "-f", "${HAPROXY_CONFIG_PATH}"]`);
    expect(spec.dockerfile).not.toMatch(/ENTRYPOINT|-W/);
    const paths = spec.context.map((e) => e.path);
    for (const p of ['rootfs/etc/passwd', 'rootfs/etc/group', 'rootfs/tmp', 'rootfs/run', `rootfs${HAPROXY_CONFIG_PATH}`]) expect(paths).toContain(p);
    expect(spec.smokeTest?.cmd).toEqual(['-v']);
  });

  it('changes tag when a library changes', () => {
    const other = [fileEntry('rootfs/lib64/ld-linux-x86-64.so.2', 'ld2', 0o755)];
    expect(imageHash(haproxyImage({ binaryFiles: other }))).not.toBe(imageHash(haproxyImage({ binaryFiles: libs })));
  });
});

describe('haproxy-3.0 (Debian 13)', () => {
  const spec = haproxy30Image({ rootfsTag: 'gangway/haproxy-3.0-rootfs:aaa' });

  it('copies only the binary and its libraries out of the trixie rootfs onto scratch, with the same layout as the 2.6 image', () => {
    const lines = spec.dockerfile.split('\n');
    expect(lines[0]).toBe('FROM gangway/haproxy-3.0-rootfs:aaa AS debian');
    expect(lines[1]).toMatch(/^RUN .*ldd \/usr\/sbin\/haproxy/);
    expect(lines.slice(2)).toContain('FROM scratch');
    expect(spec.dockerfile).toContain(`CMD ["haproxy", "-f", "${HAPROXY_CONFIG_PATH}"]`);
    expect(spec.context.map((e) => e.path)).toEqual(haproxyImage({ binaryFiles: [] }).context.map((e) => e.path));
    expect(spec.smokeTest?.expectOutput.test('HAProxy version 3.0.11-1+deb13u4 2026/10/15')).toBe(true);
    expect(spec.smokeTest?.expectOutput.test('HAProxy version 2.6.12-1+deb12u2')).toBe(false);
  });

  it('changes with the rootfs (and so with the mirror it came from)', () => {
    expect(imageTag(haproxy30Image({ rootfsTag: 'gangway/haproxy-3.0-rootfs:bbb' }))).not.toBe(imageTag(spec));
    expect(imageTag(spec)).toMatch(/^gangway\/haproxy-3\.0:[0-9a-f]{12}$/);
  });

  it('debootstraps trixie with haproxy, keyed apart from the host rootfs', () => {
    const recipe = withMirror(HAPROXY_30_ROOTFS, 'http://mirror.example.org/debian');
    expect(debootstrapArgv(recipe, '/t')).toEqual(['--variant=minbase', '--include=haproxy', 'trixie', '/t', 'http://mirror.example.org/debian']);
    expect(rootfsImageTag(recipe)).toMatch(/^gangway\/haproxy-3\.0-rootfs:/);
  });
});

describe('host image', () => {
  it('builds on the rootfs tag and depends on it', () => {
    const a = hostImage({ flavour: 'docker-host', rootfsTag: 'gangway/docker-host-rootfs:aaa' });
    const b = hostImage({ flavour: 'docker-host', rootfsTag: 'gangway/docker-host-rootfs:bbb' });
    expect(a.dockerfile.split('\n')[0]).toBe('FROM gangway/docker-host-rootfs:aaa');
    expect(imageHash(a)).not.toBe(imageHash(b));
  });

  it('removes the host keys baked in by debootstrap so every host makes its own', () => {
    expect(hostImage({ flavour: 'docker-host', rootfsTag: 'x' }).dockerfile).toContain('rm -f /etc/ssh/ssh_host_*');
    expect(hostEntrypointScript('docker-host')).toContain('ssh-keygen -A');
  });

  it('remounts every cgroup hierarchy with a bind remount, then runs dockerd under a restart loop', () => {
    const script = hostEntrypointScript('docker-host');
    expect(script).toContain('mount -o remount,rw /sys/fs/cgroup');
    expect(script).toContain('mount -o remount,bind,rw "$dir"');
    expect(script).toContain('for dir in /sys/fs/cgroup/*/; do');
    expect(script).toContain('    dockerd --insecure-registry registry:5000 --insecure-registry faulty-registry:5000 --data-root /var/lib/docker\n');
    expect(script).not.toContain('exec dockerd');
    expect(script).toContain('supervise_dockerd &');
    expect(script.trimEnd().split('\n').pop()).toBe('wait "$supervisor"');
  });

  it('runs sshd in the foreground and no dockerd in the bare flavour', () => {
    const script = hostEntrypointScript('bare-host');
    expect(script).not.toContain('dockerd');
    expect(script.trimEnd().split('\n').pop()).toBe('exec /usr/sbin/sshd -D -e');
  });
});

describe('debootstrapped rootfs', () => {
  // A placeholder: the real mirror is this machine's (test/unit/sandbox-debian-mirror.test.ts).
  const MIRROR = 'http://mirror.example.org/debian';
  const docker = withMirror(DOCKER_HOST_ROOTFS, MIRROR);

  it('runs debootstrap with the minbase variant, the package list and the mirror it was given', () => {
    expect(debootstrapArgv(docker, '/tmp/r')).toEqual([
      '--variant=minbase',
      '--include=openssh-server,docker.io,iproute2,ca-certificates,procps,curl,socat',
      'bookworm',
      '/tmp/r',
      MIRROR,
    ]);
  });

  it('keys the cache by the package list (not its order), the suite and the mirror', () => {
    const reordered = { ...docker, packages: [...docker.packages].reverse() };
    expect(rootfsKey(reordered)).toBe(rootfsKey(docker));
    expect(rootfsKey(withMirror(BARE_HOST_ROOTFS, MIRROR))).not.toBe(rootfsKey(docker));
    expect(rootfsKey({ ...docker, suite: 'trixie' })).not.toBe(rootfsKey(docker));
    expect(rootfsKey(withMirror(DOCKER_HOST_ROOTFS, 'http://other.example.org/debian'))).not.toBe(rootfsKey(docker));
  });

  it('names the tarball and the image after the flavour and the key', () => {
    const key = rootfsKey(docker);
    expect(rootfsTarballPath('/c', docker)).toBe(`/c/docker-host-rootfs-${key}.tar`);
    expect(rootfsImageTag(docker)).toBe(`gangway/docker-host-rootfs:${key}`);
  });

  it('tars with numeric owners and without docs or apt caches', () => {
    const argv = rootfsTarArgv('/r', '/c/x.tar');
    expect(argv.slice(0, 3)).toEqual(['-C', '/r', '--numeric-owner']);
    expect(argv).toContain('--exclude=./usr/share/doc/*');
    expect(argv.slice(-3)).toEqual(['-cf', '/c/x.tar', '.']);
  });
});

describe('hello image', () => {
  const source = { dockerfile: 'ARG BASE=busybox:1.36\nFROM ${BASE}\n', files: [fileEntry('app/start', '#!/bin/sh\n', 0o755)] };

  it('passes BASE, VERSION and VARIANT as build arguments', () => {
    const spec = helloImage(source, { version: '1.2.3', variant: 'broken', base: 'gangway/busybox:abc' });
    expect(spec.buildArgs).toEqual({ BASE: 'gangway/busybox:abc', VERSION: '1.2.3', VARIANT: 'broken' });
  });

  it('gets one tag per version and variant', () => {
    const tags = new Set(
      (['ok', 'broken', 'uptest-fails'] as const).flatMap((variant) =>
        ['1.0.0', '2.0.0'].map((version) => imageTag(helloImage(source, { version, variant, base: 'b' }))),
      ),
    );
    expect(tags.size).toBe(6);
  });
});
