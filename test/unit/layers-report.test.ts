import { describe, expect, test } from 'vitest';
import { layersReport, type CruiseResult } from '../../scripts/layers-report.js';

const rules = { forbidden: [{ name: 'no-cycles' }, { name: 'cli-on-top' }] };

describe('layersReport', () => {
  test('one passed test per rule when nothing is violated', () => {
    const { report, lines } = layersReport({ summary: { violations: [], ruleSetUsed: rules } }, '/repo/.dependency-cruiser.cjs');
    expect(report.numPassedTests).toBe(2);
    expect(report.numFailedTests).toBe(0);
    expect(report.testResults[0]!.assertionResults.map((t) => `${t.title}:${t.status}`)).toEqual(['no-cycles:passed', 'cli-on-top:passed']);
    expect(lines).toEqual(['ok  layer rule no-cycles', 'ok  layer rule cli-on-top']);
  });

  test('a rule with violations fails, and each violation is printed (a cycle in full)', () => {
    const result: CruiseResult = {
      summary: {
        ruleSetUsed: rules,
        violations: [
          { rule: { name: 'cli-on-top' }, from: 'src/deploy/session.ts', to: 'src/cli/context.ts' },
          { rule: { name: 'no-cycles' }, from: 'src/a.ts', to: 'src/b.ts', cycle: [{ name: 'src/b.ts' }, { name: 'src/a.ts' }] },
        ],
      },
    };
    const { report, lines } = layersReport(result, '/repo/.dependency-cruiser.cjs');
    expect(report.numFailedTests).toBe(2);
    expect(report.testResults[0]!.status).toBe('failed');
    expect(lines).toContain('no-cycles: src/a.ts -> src/b.ts -> src/a.ts');
    expect(lines).toContain('cli-on-top: src/deploy/session.ts -> src/cli/context.ts');
    expect(lines).toContain('FAILED  layer rule cli-on-top (1 violation)');
  });
});
