// Authentication and RBAC authorization the way kube-apiserver does them: a bearer token maps to
// a user (unknown or missing token: 401), and every resource request is authorized against the
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the store (created through the API
// or seeded from a rendered chart). Users in system:masters bypass RBAC, as on a real cluster.
// Not modelled: aggregated ClusterRoles, escalation/bind checks on writes to RBAC objects,
// impersonation, and resourceNames on list/watch with a metadata.name field selector.
import { ApiError } from './errors.js';
import type { ResourceDef } from './resources.js';
import type { Obj, Store } from './store.js';

export interface UserInfo {
  username: string;
  groups?: string[];
}

/** The identity of a ServiceAccount token, with the groups the token authenticator adds. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { username: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
}

/** What a request asks for, in RBAC terms. */
export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

const has = (list: string[] | undefined, v: string): boolean => (list ?? []).includes('*') || (list ?? []).includes(v);

function resourceMatches(rule: PolicyRule, a: Attributes): boolean {
  const want = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  if (resources.includes('*') || resources.includes(want)) return true;
  // "*/status" grants that subresource of every resource.
  return a.subresource !== undefined && resources.includes(`*/${a.subresource}`);
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb) || !has(rule.apiGroups, a.group) || !resourceMatches(rule, a)) return false;
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  // A name-restricted rule never covers requests without a name (create, list, watch).
  return a.name !== undefined && names.includes(a.name);
}

function subjectMatches(s: Subject, user: UserInfo): boolean {
  if (s.kind === 'User') return s.name === user.username;
  if (s.kind === 'Group') return (user.groups ?? []).includes(s.name);
  if (s.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${s.namespace ?? ''}:${s.name}`;
  return false;
}

export class Authorizer {
  constructor(
    private readonly store: Store,
    private readonly resources: ResourceDef[],
  ) {}

  private def(plural: string): ResourceDef {
    const r = this.resources.find((x) => x.group === 'rbac.authorization.k8s.io' && x.plural === plural);
    if (!r) throw new Error(`RBAC resource ${plural} not registered`);
    return r;
  }

  private rulesOf(ref: { kind: string; name: string }, bindingNamespace: string | undefined): PolicyRule[] {
    const role = ref.kind === 'ClusterRole' ? this.store.get(this.def('clusterroles'), undefined, ref.name) : this.store.get(this.def('roles'), bindingNamespace, ref.name);
    return ((role as Obj | undefined)?.rules ?? []) as PolicyRule[];
  }

  /** The rules that apply to user for a request in namespace (undefined: cluster scope). */
  private rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const rules: PolicyRule[] = [];
    for (const b of this.store.list(this.def('clusterrolebindings'), undefined)) {
      if (((b.subjects ?? []) as Subject[]).some((s) => subjectMatches(s, user))) rules.push(...this.rulesOf(b.roleRef as { kind: string; name: string }, undefined));
    }
    if (namespace !== undefined) {
      for (const b of this.store.list(this.def('rolebindings'), namespace)) {
        if (((b.subjects ?? []) as Subject[]).some((s) => subjectMatches(s, user))) rules.push(...this.rulesOf(b.roleRef as { kind: string; name: string }, namespace));
      }
    }
    return rules;
  }

  allowed(user: UserInfo, a: Attributes): boolean {
    if ((user.groups ?? []).includes('system:masters')) return true;
    return this.rulesFor(user, a.namespace).some((r) => ruleAllows(r, a));
  }

  /** Throws 403 Forbidden, with the real server's message and details, unless allowed. */
  authorize(user: UserInfo, a: Attributes): void {
    if (this.allowed(user, a)) return;
    throw forbidden(user, a);
  }
}

export function forbidden(user: UserInfo, a: Attributes): ApiError {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const what = a.name ? `${qualified(a)} "${a.name}"` : qualified(a);
  const scope = a.namespace !== undefined ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new ApiError(403, 'Forbidden', `${what} is forbidden: User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`, {
    ...(a.name ? { name: a.name } : {}),
    group: a.group,
    kind: a.resource,
  });
}

function qualified(a: Attributes): string {
  return a.group ? `${a.resource}.${a.group}` : a.resource;
}

/** Bearer token to user; 401 for a missing or unknown token. */
export function authenticate(tokens: ReadonlyMap<string, UserInfo>, header: string | undefined): UserInfo {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  const user = m ? tokens.get(m[1]!) : undefined;
  if (!user) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  return { username: user.username, groups: [...(user.groups ?? []), 'system:authenticated'] };
}
