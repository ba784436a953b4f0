// One MCP client over a pair of byte streams (the process's stdin/stdout under `helmctl mcp
// --stdio`). The SDK's serveStdio owns the era decision: a server/discover opening selects
// 2026-07-28, an initialize opening pins the connection to the 2025 era.
import { Transform, type Readable, type Writable } from 'node:stream';
import type { McpServerFactory } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { screenMessage } from './screen.js';

/**
 * The client's lines, each screened strictly (./screen.ts) and re-serialized before the SDK reads
 * it; a line that is not a message is dropped (a refused tools/call is not: see ./screen.ts). A line longer than
 * the limit goes through as it is, so the SDK's own limit closes the connection.
 */
function screenedLines(maxBytes: number): Transform {
  let pending: Buffer = Buffer.alloc(0);
  let oversized = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a)) {
        const line = pending.subarray(0, nl);
        pending = pending.subarray(nl + 1);
        if (oversized || line.length > maxBytes) {
          oversized = false;
          this.push(Buffer.concat([line, Buffer.from('\n')]));
          continue;
        }
        const text = line.at(-1) === 0x0d ? line.subarray(0, -1) : line;
        if (text.length === 0) continue;
        const s = screenMessage(new Uint8Array(text.buffer, text.byteOffset, text.length), maxBytes);
        // A line that is not a message is dropped, as the SDK drops a line that is not JSON.
        if (s.ok) this.push(`${JSON.stringify(s.message)}\n`);
      }
      if (pending.length > maxBytes) {
        oversized = true;
        this.push(pending);
        pending = Buffer.alloc(0);
      }
      done();
    },
    flush(done) {
      if (pending.length > 0) this.push(pending);
      done();
    },
  });
}

/** Resolves when the client closes its end (input ends) and the connection is torn down. */
export function serveOverStdio(factory: McpServerFactory, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, maxMessageBytes: number, onerror: (e: Error) => void): Promise<void> {
  return new Promise((resolve) => {
    const lines = screenedLines(maxMessageBytes);
    (input as Readable).pipe(lines);
    const transport = new StdioServerTransport(lines, output as Writable, { maxBufferSize: maxMessageBytes });
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
