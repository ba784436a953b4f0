// The commands helmctl knows: name and one-line summary here, the command itself loaded only when
// it runs (the sidecar image starts `helmctl serve`, which must not pay for the other commands'
// modules: evidence export, conformance, fleet, MCP SDKs).
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'keygen', summary: 'generate a key pair (private key file + FILE.pub)', load: async () => (await import('./keygen.js')).keygen },
  { name: 'trust', summary: 'sign KEY_PUBLISH / KEY_ROTATE / KEY_REVOKE events with the root key', load: async () => (await import('./trust.js')).trust },
  { name: 'export', summary: 'export an evidence pack (.tar.gz) from a ProofGraph store', load: async () => (await import('./export.js')).exportCmd },
  { name: 'verify', summary: 'verify an evidence pack offline against a trust policy', load: async () => (await import('./verify.js')).verify },
  { name: 'replay', summary: 're-derive every node of a pack, list causal chains, re-evaluate every decision (no trust policy needed)', load: async () => (await import('./replay.js')).replay },
  { name: 'proof', summary: 'print an offline inclusion proof (c2sp.org/tlog-proof@v1) for one entry', load: async () => (await import('./proof.js')).proof },
  { name: 'bundle', summary: 'policy bundles: hash, sign, verify, lint, test fixtures, compose overlays', load: async () => (await import('./bundle.js')).bundle },
  { name: 'approve', summary: 'sign one approval (or rejection) of an escalated call', load: async () => (await import('./approve.js')).approve },
  { name: 'serve', summary: 'run the Guardian sidecar: governed OpenAI-compatible proxy, probes, metrics, approvals', load: async () => (await import('./serve.js')).serve },
  { name: 'mcp', summary: 'serve the governed MCP gateway to one client over stdio', load: async () => (await import('./mcp.js')).mcp },
  { name: 'conformance', summary: 'conformance levels L1/L2/L3 and OWASP threat vectors against a live sidecar; signed reports', load: async () => (await import('./conformance.js')).conformance },
  { name: 'fleet', summary: 'fleet evidence packs: export from the bucket, verify offline', load: async () => (await import('./fleet.js')).fleet },
];
