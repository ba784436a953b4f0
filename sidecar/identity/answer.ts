// Checks the operator's answer to a certification request before anything trusts it: exactly two
// root-signed KEY_PUBLISH events from index 0 for this origin, one publishing this node key
// (purpose node), one certifying this log key (purpose log). Each gets the proof-of-possession
// signature of the key it names, and must then open under the certification root as a verifier
// would (kernel/trust openKeyEvent). Anything else is refused: never allow with an uncertified key.
import { fromBase64, fromUtf8 } from '../../kernel/crypto/bytes.js';
import type { VerifierKey } from '../../kernel/crypto/keys.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import type { DsseEnvelope } from '../../kernel/contracts/dsse.js';
import { addSignature, openKeyEvent, TrustError } from '../../kernel/trust/index.js';
import { CertifyError } from './errors.js';

export interface Certified {
  /** The two events with this sidecar's signatures added, node key first: recorded as trust nodes. */
  events: DsseEnvelope[];
}

function claimed(envelope: unknown): { purpose?: unknown; key?: unknown } {
  try {
    const payload = (envelope as { payload?: unknown }).payload;
    if (typeof payload !== 'string') return {};
    const st = JSON.parse(fromUtf8(fromBase64(payload))) as { predicate?: { purpose?: unknown; key?: unknown } };
    return st.predicate ?? {};
  } catch {
    return {};
  }
}

export function acceptAnswer(suite: CryptoSuite, answer: unknown, id: { nodeKey: SigningKey; logKey: SigningKey; origin: string }, root: VerifierKey): Certified {
  const bad = (why: string) => new CertifyError('ERR_CERTIFY_ANSWER', `the certification answer is refused: ${why}`);
  const events = (answer as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length !== 2) throw bad('expected {events: [two trust event envelopes]}');
  const out: Partial<Record<'node' | 'log', DsseEnvelope>> = {};
  for (const [i, env] of events.entries()) {
    const c = claimed(env);
    const purpose = c.purpose === 'node' || c.purpose === 'log' ? c.purpose : null;
    const mine = purpose === 'node' ? id.nodeKey : purpose === 'log' ? id.logKey : null;
    if (!purpose || !mine || c.key !== mine.verifier.vkey) throw bad(`event ${i} does not name this sidecar's ${purpose ?? 'node or log'} key`);
    if (out[purpose]) throw bad(`two events for the ${purpose} key`);
    const signed = addSignature(env as DsseEnvelope, mine);
    let ev;
    try {
      ev = openKeyEvent(suite, signed, root);
    } catch (e) {
      if (e instanceof TrustError) throw bad(`event ${i} (${purpose} key): ${e.code}: ${e.message}`);
      throw e;
    }
    if (ev.event !== 'KEY_PUBLISH' || ev.origin !== id.origin || ev.fromIndex !== 0 || ev.purpose !== purpose || ev.key !== mine.verifier.vkey) {
      throw bad(`event ${i} is ${ev.event} ${ev.purpose} for ${ev.origin} from index ${ev.fromIndex}; expected KEY_PUBLISH ${purpose} for ${id.origin} from index 0`);
    }
    out[purpose] = signed;
  }
  if (!out.node || !out.log) throw bad('the node key and the log key must each be certified');
  return { events: [out.node, out.log] };
}
