// POST /v1/certify (docs/operator.md §Certification): a sidecar proves which pod it runs in with its
// projected ServiceAccount token (audience helm.mindburn.org/certify); the operator checks the token
// with a TokenReview, binds it to the pod named in the request (uid and name from the token's
// extra, ServiceAccount from its username), reads that pod (same uid, injected by us, not finished),
// and answers with two trust events signed by its certification root: KEY_PUBLISH of the node key
// and the log-key certification (purpose log) for the origin, both from index 0. The sidecar adds
// its proof-of-possession signatures before recording them.
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import type { CryptoSuite } from '../../kernel/crypto/suite.js';
import type { DsseEnvelope } from '../../kernel/contracts/dsse.js';
import { signKeyEvent } from '../../kernel/trust/index.js';
import { INJECTED_LABEL, SIDECAR_CONTAINER } from '../webhook/constants.js';
import { CertifyRefusal, forbidden, unauthenticated } from './errors.js';
import { parseCertifyRequest } from './request.js';

export const CERTIFY_AUDIENCE = 'helm.mindburn.org/certify';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

export interface CertifyDeps {
  /** The operator's certification root (helmctl keygen --type root). */
  root: SigningKey;
  clusterOrigin: string;
  suite: CryptoSuite;
  /** TokenReview (authentication.k8s.io/v1) of `token` for `audiences`; throws when the API server cannot be asked. */
  reviewToken(token: string, audiences: string[]): Promise<TokenReviewStatus>;
  /** The pod as JSON; undefined when it does not exist. */
  getPod(namespace: string, name: string): Promise<unknown | undefined>;
  now(): Date;
  log?: (event: Record<string, unknown>) => void;
}

export interface CertifyAnswer {
  status: number;
  body: { events: DsseEnvelope[] } | { code: string; message: string };
}

function bearer(authorization: string | undefined): string {
  const m = /^Bearer ([\x21-\x7e]{1,16384})$/.exec(authorization ?? '');
  if (!m) throw unauthenticated('send the projected ServiceAccount token (audience helm.mindburn.org/certify) as Authorization: Bearer <token>');
  return m[1]!;
}

const one = (extra: Record<string, string[]> | undefined, key: string): string | undefined => {
  const v = extra?.[key];
  return Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' ? v[0] : undefined;
};

function podField(pod: unknown, ...path: string[]): unknown {
  let v: unknown = pod;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

async function check(authorization: string | undefined, body: string, d: CertifyDeps): Promise<{ events: DsseEnvelope[] }> {
  const token = bearer(authorization);
  const req = parseCertifyRequest(body, d.clusterOrigin);
  let review: TokenReviewStatus;
  try {
    review = await d.reviewToken(token, [CERTIFY_AUDIENCE]);
  } catch (e) {
    throw new CertifyRefusal(503, 'ERR_CERTIFY_UNAVAILABLE', `the TokenReview could not be made: ${(e as Error).message}; retry`);
  }
  if (review.authenticated !== true) throw unauthenticated(`the token is not authenticated for audience ${CERTIFY_AUDIENCE}${review.error ? ` (${review.error})` : ''}: mount a projected serviceAccountToken with that audience`);
  if (!(review.audiences ?? [CERTIFY_AUDIENCE]).includes(CERTIFY_AUDIENCE)) throw unauthenticated(`the token is not valid for audience ${CERTIFY_AUDIENCE}`);
  const user = review.user ?? {};
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user.username ?? '');
  if (!sa) throw forbidden(`the token belongs to ${user.username ?? 'nobody'}, not to a pod's ServiceAccount`);
  if (sa[1] !== req.podNamespace) throw forbidden(`the token's ServiceAccount is in namespace ${sa[1]}, the request names ${req.podNamespace}`);
  const uid = one(user.extra, POD_UID_EXTRA);
  const name = one(user.extra, POD_NAME_EXTRA);
  if (uid === undefined || name === undefined) throw forbidden('the token is not bound to a pod (no pod-uid/pod-name in its extra): use a projected serviceAccountToken volume, not a Secret token');
  if (uid !== req.podUid || name !== req.podName) throw forbidden(`the token is bound to pod ${sa[1]}/${name} (uid ${uid}); the request names ${req.podNamespace}/${req.podName} (uid ${req.podUid})`);
  let pod: unknown;
  try {
    pod = await d.getPod(req.podNamespace, req.podName);
  } catch (e) {
    throw new CertifyRefusal(503, 'ERR_CERTIFY_UNAVAILABLE', `pod ${req.podNamespace}/${req.podName} could not be read: ${(e as Error).message}; retry`);
  }
  if (pod === undefined) throw forbidden(`pod ${req.podNamespace}/${req.podName} does not exist`);
  if (podField(pod, 'metadata', 'uid') !== req.podUid) throw forbidden(`pod ${req.podNamespace}/${req.podName} has another uid than ${req.podUid} (it was replaced)`);
  if (podField(pod, 'spec', 'serviceAccountName') !== sa[2]) throw forbidden(`pod ${req.podNamespace}/${req.podName} runs as ServiceAccount ${String(podField(pod, 'spec', 'serviceAccountName'))}, the token is ${sa[2]}'s`);
  const labels = (podField(pod, 'metadata', 'labels') ?? {}) as Record<string, unknown>;
  const containers = [...((podField(pod, 'spec', 'containers') as unknown[]) ?? []), ...((podField(pod, 'spec', 'initContainers') as unknown[]) ?? [])];
  if (labels[INJECTED_LABEL] !== 'true' || !containers.some((c) => podField(c, 'name') === SIDECAR_CONTAINER)) {
    throw forbidden(`pod ${req.podNamespace}/${req.podName} was not injected by the HELM webhook (label ${INJECTED_LABEL}=true and container ${SIDECAR_CONTAINER})`);
  }
  const phase = podField(pod, 'status', 'phase');
  if (phase === 'Succeeded' || phase === 'Failed' || podField(pod, 'metadata', 'deletionTimestamp') !== undefined) throw forbidden(`pod ${req.podNamespace}/${req.podName} is finished or being deleted`);

  const issuedAt = d.now().toISOString();
  const reason = `certified for pod ${req.podNamespace}/${req.podName} (uid ${req.podUid}, ServiceAccount ${sa[2]})`;
  const events = [
    signKeyEvent(d.suite, { event: 'KEY_PUBLISH', purpose: 'node', origin: req.origin, key: req.nodeKey.vkey, fromIndex: 0, reason, issuedAt }, [d.root]),
    signKeyEvent(d.suite, { event: 'KEY_PUBLISH', purpose: 'log', origin: req.origin, key: req.logKey.vkey, fromIndex: 0, reason, issuedAt }, [d.root]),
  ];
  d.log?.({ msg: 'sidecar keys certified', namespace: req.podNamespace, pod: req.podName, uid: req.podUid, origin: req.origin, nodeKey: req.nodeKey.handle, logKey: req.logKey.handle });
  return { events };
}

/** One certification request to its answer; never throws. */
export async function certify(authorization: string | undefined, body: string, d: CertifyDeps): Promise<CertifyAnswer> {
  try {
    return { status: 200, body: await check(authorization, body, d) };
  } catch (e) {
    if (e instanceof CertifyRefusal) {
      d.log?.({ msg: 'certification refused', code: e.code, error: e.message });
      return { status: e.status, body: e.body() };
    }
    d.log?.({ msg: 'certification failed', error: String(e) });
    return { status: 500, body: { code: 'ERR_CERTIFY_INTERNAL', message: 'internal error' } };
  }
}
