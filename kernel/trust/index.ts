export { openKeyEvent, signKeyEvent, TrustError, type KeyEvent } from './events.js';
export { TrustRegistry, type Resolution } from './registry.js';
