import { sendOtpJob } from './send-otp.job.js';
import type { JobSpec } from './types.js';

/** Every job the worker knows, in one list. */
export const jobSpecs: JobSpec[] = [sendOtpJob];
