// The layer rules of issue 13, checked by `npm run lint:layers` (part of scripts/test.sh).
// Exactly three: no cycles (between files, and between the folders of src/), nothing below the
// CLI imports src/cli, and the public testing library (gangway/testing) reaches no app code.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles between files of src/, type-only imports included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'No cycles between the folders of src/ (deploy -> provision -> deploy is a knot even when no single file closes it).',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'cli-on-top',
      severity: 'error',
      comment:
        'Nothing under src/ but src/cli imports src/cli: the CLI loads the config and passes it down. ' +
        "(src/index.ts, the package's public face, sits above the CLI and may export its main.)",
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/index\\.ts$'] },
      to: { path: '^src/cli/' },
    },
    {
      name: 'testing-free-of-app-code',
      severity: 'error',
      comment:
        'gangway/testing is a public library: src/testing reaches (directly or not) only its own files, node builtins, npm packages, ' +
        'the error type (src/errors.ts, a leaf) and the Docker engine module (src/docker).',
      from: { path: '^src/testing/' },
      to: { path: '^src/', pathNot: ['^src/testing/', '^src/errors\\.ts$', '^src/docker/'], reachable: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 has no JavaScript API for dependency-cruiser to parse with; swc reads the .ts files.
    parser: 'swc',
    // Type-only imports count: a cycle of types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
