// What the agent (and its model) reads in place of a call it does not receive. Names are shown
// with invisible and control characters escaped, so a homoglyph or zero-width trick in a tool
// name is visible in the explanation instead of reproducing the trick.
import { SURFACE_REFUSAL_CODES } from '../../kernel/guardian/refusal.js';
import type { CallDecision } from './gate.js';

const MAX_DETAIL = 400;

/** `s` in double quotes with control, format (zero-width, bidi) and unassigned characters escaped. */
export function visible(s: string): string {
  let out = '';
  for (const ch of s) {
    if (/[\p{C}\p{Zl}\p{Zp}"\\]/u.test(ch) || (/\p{Zs}/u.test(ch) && ch !== ' ')) {
      out += ch === '"' || ch === '\\' ? `\\${ch}` : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
    } else out += ch;
  }
  return `"${out}"`;
}

function clip(s: string): string {
  const t = s.replace(/[.\s]+$/, '');
  return t.length > MAX_DETAIL ? `${t.slice(0, MAX_DETAIL)}...` : t;
}

/** One line per call that was not delivered. */
export function explainCall(d: CallDecision): string {
  const who = `${visible(d.tool)}${d.toolCallId !== null ? ` (id ${visible(d.toolCallId)})` : ''}`;
  const receipt = d.receiptId !== null ? ` Receipt: ${d.receiptId}.` : '';
  if (d.verdict === 'ESCALATE' && d.challenge) {
    const c = d.challenge;
    const wait = d.retryAfterMs !== undefined ? ` Retry in ${Math.ceil(d.retryAfterMs / 1000)} s.` : '';
    return (
      `[HELM] The tool call ${who} needs approval ${visible(c.approval)} (${c.quorum} of ${c.approvers.length} approvers) before it can run: ESCALATE ${d.reasonCode}. ` +
      `Approval id ${c.nonce}, decision ${c.decision}; approvals are accepted from ${c.notBefore} until ${c.expiresAt}. Propose the same call again once it is approved.${wait}${receipt}`
    );
  }
  if (d.verdict === 'ESCALATE') return `[HELM] The tool call ${who} needs an approval before it can run: ESCALATE ${d.reasonCode}. ${clip(d.detail)}.${receipt}`;
  const retry = d.retryAfterMs !== undefined ? ` It may be retried in ${Math.ceil(d.retryAfterMs / 1000)} s.` : '';
  if ((SURFACE_REFUSAL_CODES as readonly string[]).includes(d.reasonCode)) return `[HELM] The tool call ${who} was refused by the proxy: DENY ${d.reasonCode}. ${clip(d.detail)}.${receipt}`;
  return `[HELM] The tool call ${who} was blocked by policy: DENY ${d.reasonCode}. ${clip(d.detail)}.${retry}${receipt}`;
}

export function explainAll(ds: readonly CallDecision[]): string {
  return ds.map(explainCall).join('\n');
}
