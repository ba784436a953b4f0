// Agent-to-agent trust, the pure part: card signatures, signed requests, delegation tokens and
// scope narrowing. Normative spec: docs/spec/a2a.md.
export * from './b64url.js';
export * from './card.js';
export * from './delegation.js';
export * from './nonces.js';
export * from './refusal.js';
export * from './request-auth.js';
export * from './scope.js';
