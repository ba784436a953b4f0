// @helm-oss/sdk: read governance, verify receipts offline, answer approvals. See README.md.
export * from './governance.js';
export * from './verify.js';
export * from './approvals.js';
export * from './openai.js';
export * from './crypto.js';
export { SPEC_VERSION, SDK_VERSION } from './version.js';
