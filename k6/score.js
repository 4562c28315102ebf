// The contest's load test, in the project's own words: k6 sends the
// labelled payloads in file order with a ramping arrival rate, compares
// every answer with the expected decision, and scores the run with the
// contest's formula (SPEC.md, "The load test and the score").
//
// Environment:
//   PAYLOADS  test-data JSON, uncompressed (make score unpacks it)  [required]
//   URL       the service                                          [http://127.0.0.1:9999]
//   PEAK      requests/s reached at the end of the ramp            [900]
//   SECONDS   length of the ramp                                   [120]
//   RATE      if set: a constant RATE requests/s for SECONDS instead of the ramp
//   RESULTS   where to write the results JSON                      [results.json]
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { SharedArray } from 'k6/data';

const URL = __ENV.URL || 'http://127.0.0.1:9999';
const PEAK = parseInt(__ENV.PEAK || '900', 10);
const SECONDS = parseInt(__ENV.SECONDS || '120', 10);
const RATE = __ENV.RATE ? parseInt(__ENV.RATE, 10) : 0;
const RESULTS = __ENV.RESULTS || 'results.json';

const payloads = new SharedArray('payloads', function () {
  if (!__ENV.PAYLOADS) {
    throw new Error('PAYLOADS must name an uncompressed test-data JSON file');
  }
  const data = JSON.parse(open(__ENV.PAYLOADS));
  const entries = Array.isArray(data) ? data : data.entries;
  return entries.map((e) => ({ body: JSON.stringify(e.request), fraud: !e.expected_approved }));
});

const tp = new Counter('decision_tp'); // fraud denied
const tn = new Counter('decision_tn'); // legit approved
const fp = new Counter('decision_fp'); // legit denied
const fn = new Counter('decision_fn'); // fraud approved
const errors = new Counter('decision_errors'); // any status but 200, a timeout, an unreadable answer

const ramp = {
  executor: 'ramping-arrival-rate',
  startRate: 1,
  timeUnit: '1s',
  preAllocatedVUs: 50,
  maxVUs: 250,
  stages: [{ duration: `${SECONDS}s`, target: PEAK }],
};
const constant = {
  executor: 'constant-arrival-rate',
  rate: RATE,
  timeUnit: '1s',
  duration: `${SECONDS}s`,
  preAllocatedVUs: 50,
  maxVUs: 250,
};

export const options = {
  scenarios: { contest: RATE ? constant : ramp },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(99)'],
  discardResponseBodies: false,
};

const params = { headers: { 'Content-Type': 'application/json' }, timeout: '2001ms' };

export default function () {
  const p = payloads[exec.scenario.iterationInTest % payloads.length];
  const res = http.post(`${URL}/fraud-score`, p.body, params);
  if (res.status !== 200) {
    errors.add(1);
    return;
  }
  let approved;
  try {
    approved = JSON.parse(res.body).approved;
  } catch (e) {
    errors.add(1);
    return;
  }
  if (typeof approved !== 'boolean') {
    errors.add(1);
  } else if (p.fraud) {
    (approved ? fn : tp).add(1);
  } else {
    (approved ? tn : fp).add(1);
  }
}

function count(data, name) {
  const m = data.metrics[name];
  return m ? m.values.count : 0;
}

// score applies the contest's formula.
export function score(p99ms, c) {
  const n = c.tp + c.tn + c.fp + c.fn + c.errors;
  let p99Score = p99ms > 2000 ? -3000 : Math.min(3000, 1000 * Math.log10(1000 / Math.max(p99ms, 1)));
  const weighted = c.fp + 3 * c.fn + 5 * c.errors;
  const failureRate = n ? (c.fp + c.fn + c.errors) / n : 1;
  const eps = n ? weighted / n : 1;
  const detScore = failureRate > 0.15 ? -3000 : 1000 * Math.log10(1 / Math.max(eps, 0.001)) - 300 * Math.log10(1 + weighted);
  return { requests: n, weighted_errors: weighted, failure_rate: failureRate, p99_score: p99Score, detection_score: detScore, final_score: p99Score + detScore };
}

export function handleSummary(data) {
  const c = {
    tp: count(data, 'decision_tp'),
    tn: count(data, 'decision_tn'),
    fp: count(data, 'decision_fp'),
    fn: count(data, 'decision_fn'),
    errors: count(data, 'decision_errors'),
  };
  const d = data.metrics.http_req_duration.values;
  const s = score(d['p(99)'], c);
  const results = {
    url: URL,
    shape: RATE ? `constant ${RATE}/s for ${SECONDS} s` : `ramp 1 -> ${PEAK}/s over ${SECONDS} s`,
    payloads: payloads.length,
    latency_ms: { p50: d.med, p90: d['p(90)'], p99: d['p(99)'], max: d.max, avg: d.avg },
    breakdown: c,
    ...s,
  };
  const line = `score ${s.final_score.toFixed(1)} (p99 ${d['p(99)'].toFixed(3)} ms, FP ${c.fp}, FN ${c.fn}, errors ${c.errors}, requests ${s.requests})\n`;
  return { [RESULTS]: JSON.stringify(results, null, 2) + '\n', stdout: line };
}
