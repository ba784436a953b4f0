// TokenReview (authentication.k8s.io/v1) as the real API server answers it, for tokens the test
// registers: a registered token authenticates as its user (username, uid, groups, extra such as
// the pod binding of a projected token) only for the audiences it was issued for. spec.audiences
// empty means the API server's own audience. An unknown token, or one for other audiences, is
// answered 201 with status.authenticated false and an error, never an HTTP error.
import { errors } from './errors.js';
import type { Obj } from './store.js';

export const API_SERVER_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

export interface TokenIdentity {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  /** Audiences the token was issued for (a projected token's `audience`). */
  audiences: string[];
}

export class TokenReviews {
  private readonly tokens = new Map<string, TokenIdentity>();
  /** Reviews answered, for assertions. */
  readonly reviews: Array<{ audiences: string[]; authenticated: boolean }> = [];

  register(token: string, identity: TokenIdentity): void {
    this.tokens.set(token, identity);
  }

  revoke(token: string): void {
    this.tokens.delete(token);
  }

  /** A projected ServiceAccount token bound to a pod, as the kubelet mounts it. */
  registerPodToken(token: string, pod: { namespace: string; name: string; uid: string; serviceAccount: string }, audiences: string[]): void {
    this.register(token, {
      username: `system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`,
      uid: `sa-uid-${pod.namespace}-${pod.serviceAccount}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${pod.namespace}`, 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': [pod.name], 'authentication.kubernetes.io/pod-uid': [pod.uid] },
      audiences,
    });
  }

  review(body: unknown): { code: number; body: Obj } {
    const o = (body ?? {}) as { apiVersion?: unknown; kind?: unknown; spec?: { token?: unknown; audiences?: unknown } };
    if (o.kind !== 'TokenReview' || o.apiVersion !== 'authentication.k8s.io/v1') throw errors.badRequest('the body must be an authentication.k8s.io/v1 TokenReview');
    const token = o.spec?.token;
    if (typeof token !== 'string' || token === '') throw errors.badRequest('spec.token: Required value');
    const asked = Array.isArray(o.spec?.audiences) && o.spec.audiences.length > 0 ? (o.spec.audiences as string[]) : [API_SERVER_AUDIENCE];
    const id = this.tokens.get(token);
    const granted = id ? asked.filter((a) => id.audiences.includes(a)) : [];
    const spec = { token, ...(Array.isArray(o.spec?.audiences) ? { audiences: o.spec.audiences } : {}) };
    const out = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec };
    this.reviews.push({ audiences: asked, authenticated: granted.length > 0 });
    if (!id || granted.length === 0) {
      const error = id ? `[invalid bearer token, token audiences ${JSON.stringify(id.audiences)} is invalid for the target audiences ${JSON.stringify(asked)}]` : '[invalid bearer token, square/go-jose: error in cryptographic primitive]';
      return { code: 201, body: { ...out, status: { user: {}, error } } as unknown as Obj };
    }
    const user = { username: id.username, ...(id.uid ? { uid: id.uid } : {}), groups: id.groups ?? ['system:authenticated'], ...(id.extra ? { extra: id.extra } : {}) };
    return { code: 201, body: { ...out, status: { authenticated: true, user, audiences: granted } } as unknown as Obj };
  }
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews. */
export function tokenReviewHandler(reviews: TokenReviews, raw: string): { code: number; body: Obj } {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw errors.badRequest('the request body is not valid JSON');
  }
  return reviews.review(body);
}
