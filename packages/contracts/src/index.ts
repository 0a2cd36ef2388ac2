export * from './errors.js';
export * from './schemas/admin.js';
export * from './schemas/auth.js';
export * from './schemas/files.js';
export * from './schemas/stats.js';
