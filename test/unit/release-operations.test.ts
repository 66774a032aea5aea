import { describe, expect, it } from 'vitest';
import { describeOperation, describeOutcome, outcomeAfterFailure, releaseOperations } from '../../src/release/operations.js';
import { planPushes } from '../../src/release/plan.js';
import { releaseTargets } from '../../src/release/tags.js';

describe('release operations', () => {
  it('docker-ci-deploy --dry-run order: every tag, then every push', () => {
    const { targets } = releaseTargets({ version: '1.2.3', semver: true, images: ['acme-corp/cake-service'] });
    const { decisions } = planPushes({ targets, version: '1.2.3', remote: {}, sourceDigests: {} });
    expect(releaseOperations(decisions).map(describeOperation)).toEqual([
      'docker tag acme-corp/cake-service:1.2.3 acme-corp/cake-service:1.2',
      'docker tag acme-corp/cake-service:1.2.3 acme-corp/cake-service:1',
      'docker push acme-corp/cake-service:1.2.3',
      'docker push acme-corp/cake-service:1.2',
      'docker push acme-corp/cake-service:1',
    ]);
  });
  it('held and skipped tags are neither tagged nor pushed', () => {
    const repo = 'r:5000/hello';
    const { targets } = releaseTargets({ version: '1.2.4', semver: true, latest: true, images: ['hello'], registries: ['r:5000'] });
    const { decisions } = planPushes({ targets, version: '1.2.4', remote: { [repo]: { tags: ['1.3.0', '1.2.4'], configDigests: { '1.2.4': 'sha256:1' } } }, sourceDigests: { 'hello:1.2.4': 'sha256:1' } });
    expect(releaseOperations(decisions).map(describeOperation)).toEqual([
      'docker tag hello:1.2.4 r:5000/hello:1.2',
      'docker push r:5000/hello:1.2',
    ]);
  });
});

describe('outcome of a failed release', () => {
  const ops = [
    { kind: 'tag', source: 's', target: 'a:1' },
    { kind: 'push', ref: 'a:1', registry: 'a' },
    { kind: 'push', ref: 'b:1', registry: 'b' },
    { kind: 'push', ref: 'b:latest', registry: 'b' },
  ] as const;
  it('names what made it, what failed and what was not attempted', () => {
    const outcome = outcomeAfterFailure([...ops], [{ ref: 'a:1', digest: 'sha256:x' }], { op: ops[2], message: 'unauthorized' });
    expect(outcome.notAttempted).toEqual(['b:latest']);
    expect(describeOutcome(outcome)).toEqual(['pushed (1): a:1', 'failed: b:1: unauthorized', 'not pushed (1): b:latest']);
  });
  it('a failed tag means nothing was pushed', () => {
    const outcome = outcomeAfterFailure([...ops], [], { op: ops[0], message: 'no such image' });
    expect(describeOutcome(outcome)).toEqual(['pushed: none', 'failed: tag a:1: no such image', 'not pushed (3): a:1, b:1, b:latest']);
  });
});
