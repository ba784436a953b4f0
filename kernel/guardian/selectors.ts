// Which tools a rule, budget, rate limit or profile applies to.
import type { Selector, ToolDecl } from './bundle-types.js';

/** '*' matches every tool, 'crm.*' by prefix, anything else exactly. */
export function toolPatternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

export function isToolPattern(pattern: string): boolean {
  return pattern.endsWith('*');
}

/** An absent selector selects every tool; each present field must match. */
export function selects(sel: Selector | undefined, name: string, tool: ToolDecl): boolean {
  if (!sel) return true;
  if (sel.tools && !sel.tools.some((p) => toolPatternMatches(p, name))) return false;
  if (sel.domains && !sel.domains.includes(tool.domain)) return false;
  if (sel.sideEffects && !sel.sideEffects.includes(tool.sideEffect)) return false;
  return true;
}
