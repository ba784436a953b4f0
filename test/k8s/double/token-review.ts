// TokenReview (authentication.k8s.io/v1) for the double. Placeholder owned by the identity
// engineer: it answers 404 until replaced with the real review of projected ServiceAccount tokens.
import type { UserInfo } from './rbac.js';
import type { Store } from './store.js';

export interface TokenReviewRequest {
  /** The parsed request body (a TokenReview). */
  body: unknown;
  /** Who asked (already authenticated and authorized to create tokenreviews). */
  user: UserInfo;
  /** The double's bearer tokens. */
  tokens: ReadonlyMap<string, UserInfo>;
  store: Store;
}

export function tokenReviewHandler(_req: TokenReviewRequest): { code: number; body: Record<string, unknown> } {
  return { code: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'tokenreviews are not served by this double yet', reason: 'NotFound', code: 404 } };
}
