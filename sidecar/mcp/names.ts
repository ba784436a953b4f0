// Tool names the gateway publishes: `<upstream>__<tool>`. The double underscore (rather than a
// dot) keeps every published name valid as an OpenAI function name (^[A-Za-z0-9_-]{1,64}$ for
// the usual tool names), an MCP tool name and a bundle tool name, so an agent that hands MCP tools
// to a model through the OpenAI proxy is judged under the same bundle name on both surfaces.

export const SEPARATOR = '__';

/**
 * Upstream names: letters, digits, '-' and single '_', not ending in '_', at most 32 characters.
 * Without '__' inside (or a trailing '_') the first '__' of a published name ends the upstream name.
 */
export const UPSTREAM_NAME = /^(?!.*__)(?!.*_$)[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** Bundle tool names (kernel/guardian/bundle-schema.ts); a longer or odder name cannot be declared. */
const BUNDLE_TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Bundle tool names under `mcp:` are reserved for relayed requests (kernel/guardian/mcp-kinds.ts). */
const RESERVED = /^mcp:/;

export function publishedName(upstream: string, tool: string): string | null {
  const name = `${upstream}${SEPARATOR}${tool}`;
  return BUNDLE_TOOL_NAME.test(name) && !RESERVED.test(name) ? name : null;
}

export function splitName(name: string): { upstream: string; tool: string } | null {
  const i = name.indexOf(SEPARATOR);
  if (i <= 0 || i + SEPARATOR.length >= name.length) return null;
  return { upstream: name.slice(0, i), tool: name.slice(i + SEPARATOR.length) };
}

/**
 * How the gateway publishes upstream names (tools, prompts): `prefixed` (default) is
 * `<upstream>__<name>`; `own` keeps the upstream's own names and is allowed with exactly one
 * upstream (with several, two upstreams could publish the same name: the gateway refuses to start).
 */
export type NamingMode = 'prefixed' | 'own';

export interface Naming {
  readonly mode: NamingMode;
  /** The published name of an upstream's tool or prompt, or null when it cannot be published. */
  publish(upstream: string, name: string): string | null;
  /** The upstream and its own name behind a published name (null: no upstream could publish it). */
  resolve(published: string): { upstream: string; name: string } | null;
}

export function namingFor(mode: NamingMode, upstreams: readonly string[]): Naming {
  if (mode === 'prefixed') {
    return {
      mode,
      publish: publishedName,
      resolve(published) {
        const s = splitName(published);
        return s && { upstream: s.upstream, name: s.tool };
      },
    };
  }
  const [only, ...more] = upstreams;
  if (only === undefined || more.length > 0) throw new Error(`naming "own" needs exactly one upstream; got ${upstreams.length}`);
  return {
    mode,
    publish: (upstream, name) => (upstream === only && BUNDLE_TOOL_NAME.test(name) && !RESERVED.test(name) ? name : null),
    resolve: (published) => ({ upstream: only, name: published }),
  };
}
