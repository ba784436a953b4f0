// The README's first quick-start command must keep working: run the demo end to end. It starts the
// real sidecar in front of the scripted model, drives it with the openai SDK (streaming too),
// approves the escalated refund through the approvals API, and verifies the evidence.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './support/shared.js';

describe('npm run demo', () => {
  it('governs the session, verifies its pack, rejects the tampered copy and prints the verify command', () => {
    const out = mkdtempSync(join(tmpdir(), 'helm-demo-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/demo.ts')], {
        cwd: repoRoot,
        env: { ...process.env, HELM_DEMO_OUT: out },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/\$ helmctl serve .*--bundle \S+support-desk\.yaml/);
      expect(r.stdout).toMatch(/\/readyz: \{"ready":true\}/);
      expect(r.stdout).toMatch(/call_1\s+crm\.lookup_customer\s+ALLOW\s+ALLOWED\s+#\d+\s+the tool call/);
      expect(r.stdout).toMatch(/call_2\s+tickets\.update\s+DENY\s+ERR_TOOL_ARGS_UNKNOWN_FIELD\s+#\d+\s+an explanation instead/);
      expect(r.stdout).toMatch(/call_3\s+billing\.refund\s+ESCALATE\s+APPROVAL_REQUIRED\s+#\d+\s+an approval id instead/);
      expect(r.stdout).toMatch(/call_4\s+ops\.restart_service\s+DENY\s+DOMAIN_SCOPE_VIOLATION/);
      expect(r.stdout).toMatch(/call_5\s+kb\.fetch_article\s+DENY\s+DATA_EGRESS_BLOCKED/);
      expect(r.stdout).toMatch(/call_6\s+billing\.refund\s+ALLOW\s+APPROVAL_GRANTED\s+#\d+\s+the tool call/);
      expect(r.stdout).toMatch(/turn 2 \(streamed, finalChatCompletion\): tool calls delivered \[\]/);
      expect(r.stdout).toMatch(/POST \/v1\/approvals signed by \S+: 201 /);
      expect(r.stdout).toMatch(/the model provider saw only the sidecar's key: \["Bearer sk-demo-held-by-the-sidecar-only"\]/);
      expect(r.stdout).toMatch(/tools\/list \(only what the bundle grants\): everything__echo, everything__get-sum, csv2json\n/);
      expect(r.stdout).toMatch(/tools\/call csv2json \(a CSV export\): \[\{"sku":"B-12","name":"bolt, hex","qty":"40"\}/);
      expect(r.stdout).toMatch(/tools\/call csv2json \(a CSV with an unterminated quote\): refused: .*ERR_COMPUTE_GUEST_FAULT/);
      expect(r.stdout).toMatch(/mcp:\S+\s+everything__echo\s+ALLOW\s+ALLOWED\s+#\d+\s+the tool result \(MCP\)/);
      expect(r.stdout).toMatch(/mcp:\S+\s+everything__echo\s+DENY\s+POLICY_VIOLATION\s+#\d+\s+an MCP error with the reason/);
      expect(r.stdout).toMatch(/\n {4}VALID: /);
      expect(r.stdout).toMatch(/\n {4}INVALID: .*tampered/);
      expect(r.stdout).toMatch(/node dist\/cli\/helmctl\.js verify \S+pack\.tar\.gz --trust-policy \S+trust-policy\.txt\n$/);
      expect(existsSync(join(out, 'pack.tar.gz'))).toBe(true);
      expect(existsSync(join(out, 'sidecar.log.jsonl'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
