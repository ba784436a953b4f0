// A tool result is checked against the tool's pinned output schema (hardened like argument
// schemas), so a connector whose contract drifted is caught before its output reaches the model.
import { argViolation } from './arg-schema.js';
import type { JsonValue } from './bundle-types.js';
import type { CompiledBundle } from './compile.js';

export type OutputCheck = { readonly ok: true } | { readonly ok: false; readonly reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT' | 'TOOL_NOT_DECLARED'; readonly message: string };

/** A tool without a pinned output schema accepts any output. */
export function checkOutput(bundle: CompiledBundle, toolName: string, output: JsonValue): OutputCheck {
  const tool = bundle.tools.get(toolName);
  if (!tool) return { ok: false, reasonCode: 'TOOL_NOT_DECLARED', message: `tool ${toolName} is not declared` };
  if (tool.validateOutput === null || tool.validateOutput(output)) return { ok: true };
  const v = argViolation(tool.validateOutput.errors);
  return { ok: false, reasonCode: 'ERR_CONNECTOR_CONTRACT_DRIFT', message: `output${v.field}: ${v.message}` };
}
