/**
 * Import this module first on a page served with a strict Content-Security-Policy (no `'unsafe-eval'`), as both
 * SPAs do: it turns off zod's code-generating fast path before any schema is built. Without it, building the first
 * object schema probes `new Function('')`; the probe's error is caught, but the browser still reports a CSP
 * violation (`script-src blocked eval`). Parsing stays the same, only without generated code.
 */
import { config } from 'zod';

config({ jitless: true });
