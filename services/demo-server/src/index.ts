export { createDemoServerApp, type DemoServerApp } from './app.js';
export { registerDemoTools } from './tools.js';
export { demoServerEnv } from './config.js';
