// Composition: a base bundle narrowed by overlays (tenant, environment, incident). An overlay can
// add DENY and ESCALATE rules, add ALLOW requirements (which every call must then also meet),
// add budgets and rate limits, and shrink allowlists, grants, profiles and limits. Anything that
// could make a call pass that the base denies is refused with an error naming it, so the composed
// bundle never allows more than its base. The result is an ordinary bundle with its own hash.
import { jcsDecisionString } from './decision-jcs.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { bundleContentHash, type HashRef } from './bundle-parse.js';
import { BUILTIN_PROFILES, SIDE_EFFECTS, type CapabilityProfile, type Fixture, type PolicyBundleDoc, type PolicyOverlayDoc } from './bundle-types.js';
import { compileBundle, schemaIssues } from './compile.js';
import { isToolPattern, selects } from './selectors.js';
import { patternCovered } from './destinations.js';

export interface ComposeIssue {
  /** -1 for the base bundle, else the overlay's index. */
  readonly overlay: number;
  readonly path: string;
  readonly message: string;
}

export type ComposeResult = { readonly ok: true; readonly bundle: PolicyBundleDoc; readonly contentHash: HashRef } | { readonly ok: false; readonly errors: readonly ComposeIssue[] };

const same = (a: unknown, b: unknown) => jcsDecisionString(a ?? null) === jcsDecisionString(b ?? null);

/** Is every tool a pattern in `inner` admits also admitted by some pattern in `outer`? */
function patternsCovered(inner: readonly string[], outer: readonly string[]): boolean {
  return inner.every((p) => outer.some((o) => (o === '*' ? true : isToolPattern(o) ? p.startsWith(o.slice(0, -1)) : !isToolPattern(p) && p === o)));
}

function profileNarrower(p: CapabilityProfile, base: CapabilityProfile): boolean {
  if (!p.sideEffects.every((s) => base.sideEffects.includes(s))) return false;
  if (base.tools === undefined) return true;
  return p.tools !== undefined && patternsCovered(p.tools, base.tools);
}

/** host patterns: equal, or a base '*.x' covering 'a.x' / '*.a.x' with the same port. */
export function composeBundles(base: unknown, overlays: readonly unknown[], suite: CryptoSuite): ComposeResult {
  const errors: ComposeIssue[] = [];
  const baseIssues = schemaIssues(base);
  if (baseIssues.length || (base as { kind?: unknown }).kind !== 'PolicyBundle') {
    return { ok: false, errors: [{ overlay: -1, path: baseIssues[0]?.path ?? '/kind', message: baseIssues[0]?.message ?? 'the base must be a PolicyBundle' }] };
  }
  overlays.forEach((o, i) => {
    const issues = schemaIssues(o);
    if (issues.length || (o as { kind?: unknown }).kind !== 'PolicyOverlay') errors.push({ overlay: i, path: issues[0]?.path ?? '/kind', message: issues[0]?.message ?? 'an overlay must have kind PolicyOverlay' });
  });
  if (errors.length) return { ok: false, errors };

  const out = JSON.parse(JSON.stringify(base)) as PolicyBundleDoc;
  const composedFrom: HashRef[] = [...((out.metadata.composedFrom as HashRef[] | undefined) ?? [bundleContentHash(base, suite)])];
  const fixtures: Fixture[] = [];
  let layer = Math.max(0, ...out.rules.map((r) => r.layer ?? 0));
  overlays.forEach((raw, i) => {
    const o = raw as PolicyOverlayDoc;
    const err = (path: string, message: string) => errors.push({ overlay: i, path, message });
    layer += 1;
    composedFrom.push(bundleContentHash(o, suite));
    const profiles: Record<string, CapabilityProfile> = { ...BUILTIN_PROFILES, ...(out.profiles ?? {}) };

    for (const [name, p] of Object.entries(o.profiles ?? {})) {
      const prior = profiles[name];
      if (prior && !profileNarrower(p, prior)) err(`/profiles/${name}`, `profile ${name} would widen (side effects or tools beyond the base profile)`);
      else (out.profiles ??= {})[name] = p;
    }
    const resolved: Record<string, CapabilityProfile> = { ...BUILTIN_PROFILES, ...(out.profiles ?? {}) };
    (o.grants ?? []).forEach((g, gi) => {
      const at = out.grants.findIndex((x) => x.id === g.id);
      const prior = out.grants[at];
      if (!prior) return err(`/grants/${gi}`, `grant ${g.id} is not in the base: overlays cannot add grants`);
      const ids = g.principals.ids ?? [];
      const roles = g.principals.roles ?? [];
      if (!ids.every((x) => (prior.principals.ids ?? []).includes(x)) || !roles.every((x) => (prior.principals.roles ?? []).includes(x))) return err(`/grants/${gi}/principals`, `grant ${g.id} would cover principals the base grant does not`);
      if (!g.domains.every((d) => prior.domains.includes(d))) return err(`/grants/${gi}/domains`, `grant ${g.id} would add domains`);
      const np = resolved[g.profile];
      const bp = resolved[prior.profile];
      if (!np || !bp || !profileNarrower(np, bp)) return err(`/grants/${gi}/profile`, `grant ${g.id} would switch to profile ${g.profile}, which is not narrower than ${prior.profile}`);
      out.grants[at] = g;
    });
    if (o.connectors) {
      const extra = Object.keys(o.connectors).filter((c) => !Object.hasOwn(out.connectors ?? {}, c));
      if (extra.length) err('/connectors', `connectors ${extra.join(', ')} are not allowlisted by the base`);
      else {
        out.connectors = o.connectors;
        for (const t of Object.values(out.tools)) if (t.connectors) t.connectors = t.connectors.filter((c) => Object.hasOwn(o.connectors!, c));
      }
    }
    for (const [name, list] of Object.entries(o.destinations ?? {})) {
      const prior = out.destinations?.[name];
      if (!prior) err(`/destinations/${name}`, `destination list ${name} is not in the base`);
      else if (!list.every((p) => patternCovered(p, prior))) err(`/destinations/${name}`, `destination list ${name} would admit hosts the base list does not`);
      else out.destinations![name] = list;
    }
    for (const s of SIDE_EFFECTS) {
      const p = o.sandbox?.classes[s];
      if (p === undefined) continue;
      const prior = out.sandbox?.classes?.[s];
      if (prior !== undefined && prior !== p) err(`/sandbox/classes/${s}`, `class ${s} already runs in sandbox ${prior}; an overlay may add a mapping, not change one`);
      else if (!out.sandbox || !Object.hasOwn(out.sandbox.profiles, p)) err(`/sandbox/classes/${s}`, `unknown sandbox profile ${p}`);
      else (out.sandbox.classes ??= {})[s] = p;
    }
    for (const [id, a] of Object.entries(o.approvals ?? {})) {
      if (Object.hasOwn(out.approvals ?? {}, id)) err(`/approvals/${id}`, `approval requirement ${id} already exists in the base`);
      else (out.approvals ??= {})[id] = a;
    }
    (o.rules ?? []).forEach((r, ri) => {
      if (out.rules.some((x) => x.id === r.id)) return err(`/rules/${ri}`, `rule id ${r.id} already exists`);
      const unknown = (r.match?.tools ?? []).filter((t) => !isToolPattern(t) && !Object.hasOwn(out.tools, t));
      if (unknown.length) return err(`/rules/${ri}/match/tools`, `rule ${r.id} names tools the base does not declare (${unknown.join(', ')}): overlays cannot widen`);
      if (r.verdict === 'ALLOW' && !Object.entries(out.tools).some(([n, t]) => selects(r.match, n, t))) return err(`/rules/${ri}`, `ALLOW rule ${r.id} selects no declared tool`);
      out.rules.push({ ...r, layer });
    });
    for (const [bi, b] of (o.budgets ?? []).entries()) {
      const prior = (out.budgets ?? []).find((x) => x.id === b.id);
      if (!prior) {
        (out.budgets ??= []).push(b);
        continue;
      }
      const loosens =
        prior.scope !== b.scope || prior.windowSeconds !== b.windowSeconds || !same(prior.match, b.match) ||
        (prior.maxCalls !== undefined && (b.maxCalls === undefined || b.maxCalls > prior.maxCalls)) ||
        (prior.maxCost !== undefined && (b.maxCost === undefined || b.maxCost > prior.maxCost));
      if (loosens) err(`/budgets/${bi}`, `budget ${b.id} would loosen the base limit (same scope, window and match required; limits may only decrease)`);
      else Object.assign(prior, b);
    }
    for (const [ri, r] of (o.rateLimits ?? []).entries()) {
      const prior = (out.rateLimits ?? []).find((x) => x.id === r.id);
      if (!prior) {
        (out.rateLimits ??= []).push(r);
        continue;
      }
      const fasterRefill = BigInt(r.refillTokens) * BigInt(prior.refillIntervalMs) > BigInt(prior.refillTokens) * BigInt(r.refillIntervalMs);
      if (prior.scope !== r.scope || !same(prior.match, r.match) || r.capacity > prior.capacity || fasterRefill) err(`/rateLimits/${ri}`, `rate limit ${r.id} would loosen the base limit`);
      else Object.assign(prior, r);
    }
    fixtures.push(...(o.fixtures ?? []));
  });
  if (errors.length) return { ok: false, errors };
  out.metadata = { ...out.metadata, composedFrom };
  // Base fixtures describe the base alone; the composed bundle carries the overlays' fixtures.
  if (fixtures.length) out.fixtures = fixtures;
  else delete out.fixtures;
  const c = compileBundle(out, suite);
  if (!c.ok) return { ok: false, errors: c.errors.map((e) => ({ overlay: -1, path: e.path, message: `composed bundle fails lint: ${e.message}` })) };
  return { ok: true, bundle: out, contentHash: c.bundle.contentHash };
}
