export { decideServer, decideTool, allowedTools, type Grant, type Subject, type Decision, type DenyReason } from './policy.js';
