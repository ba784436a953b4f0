// The registered reason code a surface denies a strict-JSON refusal with (the Guardian honours
// it through context.refusal, kernel/guardian/refusal.ts).
import type { SurfaceRefusalCode } from '../guardian/refusal.js';
import type { JsonErrorCode } from './parse.js';

/** The reason code of a strict-JSON refusal; a syntax error stays ENVELOPE_INVALID (no refusal). */
export function refusalCodeOf(code: JsonErrorCode): SurfaceRefusalCode | null {
  switch (code) {
    case 'duplicate_key':
      return 'INPUT_DUPLICATE_KEY';
    case 'invalid_unicode':
      return 'INPUT_INVALID_UNICODE';
    case 'number_range':
      return 'INPUT_NUMBER_RANGE';
    case 'too_deep':
      return 'INPUT_TOO_DEEP';
    case 'too_large':
      return 'INPUT_TOO_LARGE';
    default:
      return null;
  }
}
