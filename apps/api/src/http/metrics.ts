import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { statsMetrics } from '../modules/stats/stats.metrics.js';

/** Prometheus metrics of one process, served at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tagdrop_' });
  const httpRequests = new Histogram({
    name: 'tagdrop_http_request_duration_seconds',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const otpRequests = new Counter({
    name: 'tagdrop_otp_requests_total',
    help: 'OTP requests by channel and outcome',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  for (const metric of statsMetrics) registry.registerMetric(metric);
  return { registry, httpRequests, otpRequests };
}
export type Metrics = ReturnType<typeof createMetrics>;
