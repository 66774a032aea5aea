import { describe, expect, it } from 'vitest';
import { fileEntry, imageHash } from '../../src/sandbox/image-spec.js';
import { acmeImage } from '../../src/sandbox/images/acme.js';
import { PEBBLE_LISTENER_CERT, pebbleConfigJson, pebbleEntrypointScript, pebbleImage, uniqueByPath } from '../../src/sandbox/images/pebble.js';

const libs = [fileEntry('rootfs/lib/x86_64-linux-gnu/libc.so.6', 'libc', 0o755)];

describe('pebble image', () => {
  it('validates HTTP-01 on port 80 with the listener pair the entrypoint makes', () => {
    const config = JSON.parse(pebbleConfigJson()) as { pebble: Record<string, unknown> };
    expect(config.pebble.httpPort).toBe(80);
    expect(config.pebble.certificate).toBe(PEBBLE_LISTENER_CERT);
    expect(config.pebble.listenAddress).toBe('0.0.0.0:14000');
    const script = pebbleEntrypointScript();
    expect(script).toContain(`-out ${PEBBLE_LISTENER_CERT}`);
    expect(script).toContain('DNS:pebble');
    expect(script).toMatch(/exec pebble -config \/etc\/pebble\/config\.json "\$@"/);
  });

  it('holds no key material of its own and changes tag with a binary', () => {
    const spec = pebbleImage({ busybox: Buffer.from('bb'), binaryFiles: libs });
    expect(spec.context.some((e) => /\.key$|listener\.pem$/.test(e.path))).toBe(false);
    const other = pebbleImage({ busybox: Buffer.from('bb'), binaryFiles: [fileEntry('rootfs/lib/x86_64-linux-gnu/libc.so.6', 'libc2', 0o755)] });
    expect(imageHash(other)).not.toBe(imageHash(spec));
  });

  it('keeps one entry per path when binaries share libraries', () => {
    const twice = [...libs, fileEntry('rootfs/usr/bin/a', 'a'), ...libs];
    expect(uniqueByPath(twice).map((e) => e.path)).toEqual(['rootfs/lib/x86_64-linux-gnu/libc.so.6', 'rootfs/usr/bin/a']);
  });
});

describe('acme image', () => {
  it('carries lego, socat, busybox and the CA bundle', () => {
    const spec = acmeImage({ busybox: Buffer.from('bb'), binaryFiles: libs, caBundle: Buffer.from('ca') });
    const paths = spec.context.map((e) => e.path);
    expect(paths).toContain('rootfs/bin/busybox');
    expect(paths).toContain('rootfs/etc/ssl/certs/ca-certificates.crt');
    expect(spec.smokeTest?.expectOutput.test('lego version dev\nsocat version 1.7\nping\nOpenSSL 3.0\n')).toBe(true);
    expect(imageHash(acmeImage({ busybox: Buffer.from('bb'), binaryFiles: libs, caBundle: Buffer.from('ca2') }))).not.toBe(imageHash(spec));
  });
});
