export { bootstrap, ADMIN_GROUP, DEMO_GROUP, DEMO_SERVER_ID } from './bootstrap.js';
export { stackEnv } from './config.js';
