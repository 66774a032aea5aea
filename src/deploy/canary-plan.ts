// A canary step as HAProxy weights. Pure. Weights are relative (roundrobin with dynamic weights):
// a share of p% for the new server beside k old servers is new : each old = p*k : (100 - p), so
// 10% beside one old server is 10 : 90, and 100% is a plain switch (switchTo), not a weight.
import type { TrafficSplit } from '../proxy/runtime-operations.js';

/** HAProxy's largest server weight. */
const MAX_WEIGHT = 256;

export function stepSplit(percent: number, canary: string, baseline: string[]): TrafficSplit {
  if (!(percent > 0 && percent < 100)) throw new Error(`a canary step is a share above 0% and below 100%, not ${percent}%`);
  const k = Math.max(1, baseline.length);
  let canaryWeight = percent * k;
  let oldWeight = 100 - percent;
  // Fractional shares (12.5%) and many old servers: scale down to whole weights within HAProxy's range.
  const scale = Math.min(1, MAX_WEIGHT / Math.max(canaryWeight, oldWeight));
  canaryWeight = Math.max(1, Math.round(canaryWeight * scale));
  oldWeight = Math.max(1, Math.round(oldWeight * scale));
  return { canary: { name: canary, weight: canaryWeight }, baseline: baseline.map((name) => ({ name, weight: oldWeight })) };
}

/** The share of new requests the canary gets under a split (what status shows). */
export function canaryShare(split: { canaryWeight: number; baselineWeights: number[] }): number {
  const total = split.canaryWeight + split.baselineWeights.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : split.canaryWeight / total;
}
