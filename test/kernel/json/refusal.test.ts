// A surface's refusal reaches the Guardian through the decision input (context.refusal) and is
// denied with its own registered code, whatever the bundle would say; anything else there is
// ignored, and a strict-JSON error maps to its code.
import { evaluate } from '../../../kernel/guardian/evaluate.js';
import { fixtureInput } from '../../../kernel/guardian/fixtures.js';
import { REASON_CODES } from '../../../kernel/guardian/reason-codes.js';
import { SURFACE_REFUSAL_CODES } from '../../../kernel/guardian/refusal.js';
import { refusalCodeOf } from '../../../kernel/json/codes.js';
import { compiled, signedPolicy } from '../../guardian/helpers.js';

const policy = signedPolicy();
const bundle = compiled();
const allowed = fixtureInput(bundle, bundle.doc.fixtures!.find((f) => f.expect.verdict === 'ALLOW')!);

describe('context.refusal', () => {
  it('the fixture input is allowed as it is', () => {
    expect(evaluate(policy, allowed).verdict).toBe('ALLOW');
  });

  it.each(SURFACE_REFUSAL_CODES)('%s denies an input the bundle would allow, with that code', (code) => {
    const d = evaluate(policy, { ...allowed, context: { refusal: { reasonCode: code, detail: 'tool call id reused: call_1' } } });
    expect([d.verdict, d.reasonCode, d.detail]).toEqual(['DENY', code, 'tool call id reused: call_1']);
    expect(REASON_CODES[code].verdict).toBe('DENY');
  });

  it('a refusal of a string argument (what a surface submits) keeps its code, not ENVELOPE_INVALID', () => {
    const d = evaluate(policy, { ...allowed, args: 'refused by the OpenAI proxy: duplicate key', context: { refusal: { reasonCode: 'INPUT_DUPLICATE_KEY', detail: 'x' } } });
    expect(d.reasonCode).toBe('INPUT_DUPLICATE_KEY');
  });

  it('another code, or a malformed refusal, is ignored (it can never allow or pick a code)', () => {
    for (const refusal of [{ reasonCode: 'ALLOWED' }, { reasonCode: 'APPROVAL_REJECTED' }, 'INPUT_TOO_DEEP', null, [1]]) {
      expect(evaluate(policy, { ...allowed, context: { refusal } }).verdict).toBe('ALLOW');
    }
  });

  it('maps each strict-JSON error to its code (syntax stays ENVELOPE_INVALID)', () => {
    expect(['duplicate_key', 'invalid_unicode', 'number_range', 'too_deep', 'too_large', 'syntax'].map((c) => refusalCodeOf(c as never))).toEqual(['INPUT_DUPLICATE_KEY', 'INPUT_INVALID_UNICODE', 'INPUT_NUMBER_RANGE', 'INPUT_TOO_DEEP', 'INPUT_TOO_LARGE', null]);
  });
});
