// Bad input on the Streamable HTTP surface, answered before the SDK sees it with a JSON-RPC error
// whose message and data name a reason code (never a crash, never a wedged session): a body that
// is not a JSON-RPC 2.0 message (MCP_MESSAGE_INVALID), a request for a method the gateway does
// not serve (MCP_METHOD_UNKNOWN), a response posted outside any session (MCP_RESPONSE_UNSOLICITED:
// only a session is ever sent requests). Oversized bodies are refused earlier (413, INPUT_TOO_LARGE).
import type { ServerResponse } from 'node:http';
import { bad } from './sessions.js';

/** Client-to-server requests the gateway serves (both eras). */
const METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

type Id = string | number | null;

function idOf(m: Record<string, unknown>): Id {
  const id = m.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** false: the message was refused and answered. */
export function admitMessage(message: unknown, res: ServerResponse, inSession: boolean): boolean {
  const all = Array.isArray(message) ? message : [message];
  if (all.length === 0) {
    bad(res, 400, null, -32600, 'MCP_MESSAGE_INVALID', 'an empty batch is not a JSON-RPC message');
    return false;
  }
  for (const m of all) {
    if (typeof m !== 'object' || m === null || Array.isArray(m) || (m as Record<string, unknown>).jsonrpc !== '2.0') {
      bad(res, 400, null, -32600, 'MCP_MESSAGE_INVALID', 'a JSON-RPC 2.0 message is an object with "jsonrpc": "2.0"');
      return false;
    }
    const r = m as Record<string, unknown>;
    const id = r.id;
    if (id !== undefined && id !== null && typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) {
      bad(res, 400, null, -32600, 'MCP_MESSAGE_INVALID', 'a JSON-RPC id is a string or an integer');
      return false;
    }
    if (typeof r.method === 'string') {
      if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) {
        bad(res, 400, idOf(r), -32600, 'MCP_MESSAGE_INVALID', `params of ${r.method.slice(0, 64)} must be an object`);
        return false;
      }
      // Notifications of any name are accepted (and ignored when unknown), as the protocol says.
      if (id !== undefined && !METHODS.has(r.method)) {
        bad(res, 200, idOf(r), -32601, 'MCP_METHOD_UNKNOWN', `method ${JSON.stringify(r.method.slice(0, 64))} is not served by the HELM MCP gateway`);
        return false;
      }
      continue;
    }
    if (('result' in r || 'error' in r) && id !== undefined) {
      if (!inSession) {
        bad(res, 400, idOf(r), -32600, 'MCP_RESPONSE_UNSOLICITED', 'a response outside a session answers no request: the gateway sends requests only within a session');
        return false;
      }
      continue;
    }
    bad(res, 400, idOf(r), -32600, 'MCP_MESSAGE_INVALID', 'a JSON-RPC message has a method (request, notification) or an id with result or error (response)');
    return false;
  }
  return true;
}
