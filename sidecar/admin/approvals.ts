// The approvals API: list what waits for approvers, and accept signed answers. There is no login:
// the Ed25519 signature over the approval message is the authentication, checked by the PEP
// against the approver keys of the bundle that escalated. A request without a valid signature
// changes nothing; every refusal comes back with its code.
import type { ServerResponse } from 'node:http';
import type { ApprovalResult } from '../../kernel/pep/index.js';
import type { PendingApproval } from '../approvals/pending.js';
import { errorText, type Logger } from '../log.js';
import type { SidecarMetrics } from '../observe/metrics.js';
import { BodyError, isJson, readJson, sendJson, type Routes } from './http.js';

export interface ApprovalsApi {
  list(): PendingApproval[];
  get(nonce: string): PendingApproval | null;
  submit(submission: unknown): Promise<ApprovalResult>;
}

/** Submissions are a few hundred bytes; anything near this is not one. */
const MAX_SUBMISSION_BYTES = 16 * 1024;

const STATUS: Record<string, number> = {
  ERR_APPROVAL_MALFORMED: 400,
  ERR_APPROVAL_BAD_SIGNATURE: 403,
  ERR_APPROVAL_WRONG_KEY: 403,
  ERR_APPROVAL_UNKNOWN_NONCE: 404,
  ERR_APPROVAL_DECISION_MISMATCH: 409,
  ERR_APPROVAL_REPLAYED: 409,
  ERR_APPROVAL_TOO_EARLY: 409,
  ERR_APPROVAL_EXPIRED: 409,
  ERR_APPROVAL_BUNDLE_UNAVAILABLE: 409,
  ERR_APPROVAL_UNRECORDED: 503,
};

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { accepted: false, code, message });
}

export function approvalRoutes(routes: Routes, api: ApprovalsApi, metrics: SidecarMetrics, log: Logger): Routes {
  routes.get('/v1/approvals', (_req, res) => {
    sendJson(res, 200, { pending: api.list() });
  });
  routes.get('/v1/approvals/:nonce', (_req, res, params) => {
    const p = api.get(params.nonce!);
    if (!p) return refuse(res, 404, 'ERR_APPROVAL_UNKNOWN_NONCE', `no pending approval has nonce ${JSON.stringify(params.nonce)}`);
    sendJson(res, 200, p);
  });
  routes.post('/v1/approvals', async (req, res) => {
    if (!isJson(req)) {
      metrics.approvalSubmission('ERR_APPROVAL_MALFORMED');
      return refuse(res, 415, 'ERR_APPROVAL_MALFORMED', 'send the signed approval as application/json');
    }
    let body: unknown;
    try {
      body = await readJson(req, MAX_SUBMISSION_BYTES);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      metrics.approvalSubmission('ERR_APPROVAL_MALFORMED');
      return refuse(res, e.status, 'ERR_APPROVAL_MALFORMED', e.message);
    }
    let result: ApprovalResult;
    try {
      result = await api.submit(body);
    } catch (e) {
      log.error('approval submission failed', { error: errorText(e) });
      metrics.approvalSubmission('ERR_APPROVAL_UNRECORDED');
      return refuse(res, 503, 'ERR_APPROVAL_UNRECORDED', 'the approval could not be processed');
    }
    if (!result.accepted) {
      metrics.approvalSubmission(result.code);
      log.warn('approval refused', { code: result.code, message: result.message });
      return refuse(res, STATUS[result.code] ?? 400, result.code, result.message);
    }
    metrics.approvalSubmission('accepted');
    log.info('approval accepted', { receipt: result.node.entryHash, approvals: result.approvals, quorum: result.quorum });
    sendJson(res, 201, { accepted: true, receipt: result.node.entryHash, index: result.node.index, approvals: result.approvals, quorum: result.quorum, allowedFrom: result.allowedFrom });
  });
  return routes;
}
