export * from './errors.js';
export * from './schemas/auth.js';
