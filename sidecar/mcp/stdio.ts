// One MCP client over a pair of byte streams (the process's stdin/stdout under `helmctl mcp
// --stdio`). The SDK's serveStdio owns the era decision: a server/discover opening selects
// 2026-07-28, an initialize opening pins the connection to the 2025 era.
import type { Readable, Writable } from 'node:stream';
import type { McpServerFactory } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';

/** Resolves when the client closes its end (input ends) and the connection is torn down. */
export function serveOverStdio(factory: McpServerFactory, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, maxMessageBytes: number, onerror: (e: Error) => void): Promise<void> {
  return new Promise((resolve) => {
    const transport = new StdioServerTransport(input as Readable, output as Writable, { maxBufferSize: maxMessageBytes });
    const handle = serveStdio(factory, { transport, onerror });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      handle.close().then(resolve, () => resolve());
    };
    // The transport closes itself on end of input and on a message over the size limit.
    const closed = transport.onclose;
    transport.onclose = () => {
      closed?.();
      finish();
    };
    input.once('end', finish);
    input.once('close', finish);
  });
}
