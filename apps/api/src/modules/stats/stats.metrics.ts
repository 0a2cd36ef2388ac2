import { Counter } from 'prom-client';

/**
 * Click-counting metrics. Created without a registry: the HTTP metrics registry registers them
 * (`registry.registerMetric(m)` for each of `statsMetrics`).
 */
export const clicksRecorded = new Counter({
  name: 'tagdrop_clicks_recorded_total',
  help: 'Clicks counted in the live store',
  registers: [],
});

export const clickCountFailures = new Counter({
  name: 'tagdrop_click_count_failures_total',
  help: 'Clicks or statistics reads that failed because the live store (Redis) was unavailable or erred',
  labelNames: ['operation'] as const,
  registers: [],
});

export const clicksFlushed = new Counter({
  name: 'tagdrop_clicks_flushed_total',
  help: 'Clicks moved from the live store into PostgreSQL by flush-click-stats',
  registers: [],
});

export const statsMetrics = [clicksRecorded, clickCountFailures, clicksFlushed];
