export { addSignature, openKeyEvent, signKeyEvent, TrustError, type KeyEvent, type KeyPurpose } from './events.js';
export { TrustRegistry, type CertifiedLogKey, type Resolution } from './registry.js';
