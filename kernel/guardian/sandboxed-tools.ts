// Sandboxed tools: a tool declared with `wasm` is a WebAssembly module the sidecar runs itself, in
// the compute sandbox (kernel/sandbox), under its sandbox profile's `compute` limits and grants.
// Lint checks everything that can be known from the bundle; computeToolOf hands an executor the
// resolved declaration. Normative prose: docs/spec/policy-bundle.md §5.7.
import { LIMIT_CEILINGS } from '../sandbox/admit.js';
import type { ComputeGrants, ComputeLimits } from '../sandbox/types.js';
import type { PolicyBundleDoc, SandboxProfile, ToolDecl } from './bundle-types.js';
import type { CompiledBundle, LintIssue } from './compile.js';

export interface ComputeProfile extends ComputeLimits {
  grants?: Partial<ComputeGrants>;
}

export interface WasmToolDecl {
  /** Module file, relative to the sidecar's module directory (default: the bundle file's directory). */
  module: string;
  /** `sha256:<hex>` of the module bytes: bytes that hash otherwise are refused. */
  sha256: string;
  /** What the guest reads on stdin: the RFC 8785 text of the arguments (default), or one string argument as UTF-8. */
  stdin?: 'args' | { arg: string };
  /** How stdout is read: a JSON value (default, checked against `output`) or text. */
  stdout?: 'json' | 'text';
  /** argv[1..] (argv[0] is "tool"). */
  argv?: string[];
}

/** Everything an executor needs to run one sandboxed tool. */
export interface ComputeTool {
  readonly name: string;
  readonly profile: string;
  readonly module: string;
  /** Lowercase hex, as kernel/sandbox takes it. */
  readonly sha256: string;
  readonly stdin: 'args' | { readonly arg: string };
  readonly stdout: 'json' | 'text';
  readonly argv: readonly string[];
  readonly limits: ComputeLimits;
  readonly grants: ComputeGrants;
}

const FILESYSTEM_MODES: Record<SandboxProfile['filesystem'], ReadonlyArray<'ro' | 'rw'>> = { none: [], 'read-only': ['ro'], 'read-write': ['ro', 'rw'] };

/** Lint of compute profiles and wasm tools (schema already checked); resolved is the tool's sandbox profile name. */
export function lintSandboxed(doc: PolicyBundleDoc, resolved: (t: ToolDecl) => string | null): LintIssue[] {
  const issues: LintIssue[] = [];
  for (const [name, p] of Object.entries(doc.sandbox?.profiles ?? {})) {
    const c = p.compute;
    if (c === undefined) continue;
    const path = `/sandbox/profiles/${name}`;
    if (p.network !== 'none') issues.push({ code: 'ERR_PROFILE', path: `${path}/network`, message: 'a profile with compute runs WebAssembly modules, which never get sockets: set network: none' });
    if (p.limits !== undefined) issues.push({ code: 'ERR_PROFILE', path: `${path}/limits`, message: 'a profile with compute takes its limits from compute (gas, wallMs, memoryPages, outputBytes): remove limits' });
    if (c.gas > LIMIT_CEILINGS.gas) issues.push({ code: 'ERR_PROFILE', path: `${path}/compute/gas`, message: `gas exceeds ${LIMIT_CEILINGS.gas}` });
    const allowed = FILESYSTEM_MODES[p.filesystem];
    const seen = new Set<string>();
    (c.grants?.preopens ?? []).forEach((d, i) => {
      if (!allowed.includes(d.mode)) issues.push({ code: 'ERR_PROFILE', path: `${path}/compute/grants/preopens/${i}/mode`, message: `filesystem: ${p.filesystem} does not allow a ${d.mode} directory; raise filesystem or lower the mode` });
      if (d.guestPath.split('/').includes('..') || d.hostPath.split('/').includes('..')) issues.push({ code: 'ERR_PROFILE', path: `${path}/compute/grants/preopens/${i}`, message: 'paths must not contain ".."' });
      if (seen.has(d.guestPath)) issues.push({ code: 'ERR_DUPLICATE', path: `${path}/compute/grants/preopens/${i}/guestPath`, message: `${d.guestPath} is granted twice` });
      seen.add(d.guestPath);
    });
  }
  for (const [name, t] of Object.entries(doc.tools)) {
    if (t.wasm === undefined) continue;
    const path = `/tools/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/wasm`;
    const profile = resolved(t);
    if (profile === null) issues.push({ code: 'ERR_REFERENCE', path, message: `a wasm tool needs a sandbox profile with compute: set sandbox: <profile> on ${name}` });
    else if (doc.sandbox?.profiles[profile] !== undefined && doc.sandbox.profiles[profile]!.compute === undefined) {
      issues.push({ code: 'ERR_REFERENCE', path, message: `sandbox profile ${profile} has no compute section: a wasm tool runs under compute limits and grants` });
    }
    if (t.wasm.module.split('/').includes('..')) issues.push({ code: 'ERR_REFERENCE', path: `${path}/module`, message: 'the module path must stay inside the module directory (no "..")' });
    const stdin = t.wasm.stdin;
    if (typeof stdin === 'object') {
      const prop = (t.args.properties as Record<string, { type?: unknown }> | undefined)?.[stdin.arg];
      const required = Array.isArray(t.args.required) && (t.args.required as unknown[]).includes(stdin.arg);
      if (prop?.type !== 'string' || !required) issues.push({ code: 'ERR_TOOL_SCHEMA', path: `${path}/stdin/arg`, message: `stdin reads argument ${stdin.arg}: args must declare it as a required string` });
    }
    if (t.connectors !== undefined) issues.push({ code: 'ERR_REFERENCE', path: `/tools/${name}/connectors`, message: 'a wasm tool runs in the sidecar, not on a connector: remove connectors' });
  }
  return issues;
}

/** The resolved declaration of a sandboxed tool, or null when the tool has no `wasm`. */
export function computeToolOf(bundle: CompiledBundle, name: string): ComputeTool | null {
  const t = bundle.tools.get(name);
  const w = t?.decl.wasm;
  if (!t || !w || t.sandbox === null) return null;
  const c = bundle.doc.sandbox?.profiles[t.sandbox]?.compute;
  if (!c) return null;
  const g = c.grants ?? {};
  return {
    name,
    profile: t.sandbox,
    module: w.module,
    sha256: w.sha256.slice('sha256:'.length),
    stdin: w.stdin ?? 'args',
    stdout: w.stdout ?? 'json',
    argv: w.argv ?? [],
    limits: { gas: c.gas, wallMs: c.wallMs, memoryPages: c.memoryPages, outputBytes: c.outputBytes },
    grants: { preopens: g.preopens ?? [], env: g.env ?? {}, clock: g.clock ?? false, random: g.random ?? false },
  };
}

/** Names of the bundle's sandboxed tools, sorted. */
export function computeToolNames(bundle: CompiledBundle): string[] {
  return [...bundle.tools.values()].filter((t) => t.decl.wasm !== undefined).map((t) => t.name).sort();
}
