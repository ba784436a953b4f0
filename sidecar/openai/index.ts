// The governed OpenAI-compatible surface of the sidecar (see README.md in this folder).
export { createOpenAiProxy, type OpenAiProxy, type OpenAiProxyOptions } from './proxy.js';
export type { ProxyObserver } from './observer.js';
export type { CallDecision, ProxyPrincipal, ToolRoute } from './gate.js';
export type { DecisionView, HelmSummary } from './summary.js';
export type { DeniedCallMode } from './completion.js';
export type { ProxyErrorCode } from './errors.js';
