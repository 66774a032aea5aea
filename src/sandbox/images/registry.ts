// gangway/registry: Debian's docker-registry (distribution 2.8) on scratch with its libraries.
import { dirEntry, fileEntry, type ContextEntry, type ImageSpec } from '../image-spec.js';
import { binaryWithLibraries } from '../ldd.js';
import { minimalSystemFiles, ROOTFS } from './common.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
export const REGISTRY_PORT = 5000;
const CONFIG_PATH = '/etc/docker/registry/config.yml';
const STORAGE_DIR = '/var/lib/registry';

export interface RegistryInputs {
  /** The binary and its libraries, already placed under rootfs/. */
  binaryFiles: ContextEntry[];
}

export function registryConfigYaml(port = REGISTRY_PORT): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${STORAGE_DIR}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: :${port}`,
    '',
  ].join('\n');
}

export function registryImage(inputs: RegistryInputs): ImageSpec {
  return {
    name: 'registry',
    dockerfile: [
      'FROM scratch',
      `COPY ${ROOTFS}/ /`,
      `EXPOSE ${REGISTRY_PORT}`,
      `ENTRYPOINT ["${REGISTRY_BINARY}"]`,
      `CMD ["serve", "${CONFIG_PATH}"]`,
      '',
    ].join('\n'),
    context: [
      ...inputs.binaryFiles,
      fileEntry(`${ROOTFS}${CONFIG_PATH}`, registryConfigYaml()),
      dirEntry(`${ROOTFS}${STORAGE_DIR}`),
      ...minimalSystemFiles(),
    ],
    smokeTest: { entrypoint: [REGISTRY_BINARY], cmd: ['--version'], expectOutput: /registry|distribution|v2\./i },
  };
}

export async function loadRegistryInputs(binary = REGISTRY_BINARY): Promise<RegistryInputs> {
  return { binaryFiles: await binaryWithLibraries(binary, ROOTFS) };
}
