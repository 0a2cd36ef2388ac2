export * from './errors.js';
export * from './file-kinds.js';
export * from './schemas/admin.js';
export * from './schemas/auth.js';
export * from './schemas/files.js';
export * from './schemas/passkeys.js';
export * from './schemas/stats.js';
