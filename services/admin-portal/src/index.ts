export { createAdminPortalApp } from './app.js';
export { buildAdminPortalDeps, type AdminPortalDeps } from './deps.js';
export { adminPortalEnv, readConfig, type AdminPortalConfig } from './config.js';
export { openApiDocument } from './routes/openapi.routes.js';
