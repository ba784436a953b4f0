// The pinned identity of a tool definition: what a model reads (description) and what it may send
// or receive (input and output schemas). A server that rewrites any of them after the bundle was
// reviewed ("tool poisoning", a rug pull) no longer matches its pin.
import { toHex } from '../../kernel/crypto/bytes.js';
import { jcs } from '../../kernel/crypto/jcs.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import type { HashRef } from '../../kernel/contracts/node.js';

export interface ToolDefinition {
  description?: string | undefined;
  inputSchema?: unknown;
  outputSchema?: unknown;
}

/** sha256 of JCS({description, inputSchema, outputSchema}), absent members left out. */
export function definitionHash(t: ToolDefinition): HashRef {
  const def: Record<string, unknown> = {};
  if (t.description !== undefined) def.description = t.description;
  if (t.inputSchema !== undefined) def.inputSchema = t.inputSchema;
  if (t.outputSchema !== undefined) def.outputSchema = t.outputSchema;
  return `sha256:${toHex(nodeSuite.sha256(jcs(def)))}`;
}
