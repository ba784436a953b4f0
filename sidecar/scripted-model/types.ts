import type { IncomingHttpHeaders } from 'node:http';

/** What the scripted model answers to one chat completion request. */
export interface ScriptedTurn {
  content?: string;
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
  /** Misbehaviour on purpose, to test what sits in front of the model. */
  fault?: ScriptedFault;
}

export interface ScriptedFault {
  /** Wait this long before answering (headers included). */
  delayMs?: number;
  /** Answer with this HTTP status (and `body`, or an OpenAI-shaped error). */
  status?: number;
  /** Send these bytes as the whole response body instead of the scripted turn. */
  body?: string;
  /** Streaming: send this many SSE events, then cut the connection (no [DONE]). */
  truncateAfterEvents?: number;
  /** Streaming: send this many SSE events, then go silent without closing. */
  stallAfterEvents?: number;
}

/** One request as the scripted model received it. */
export interface ScriptedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (null for a request without one or with a body that is not JSON). */
  body: unknown;
}

export interface ScriptedModelOptions {
  /** Called for every chat completion with the parsed body and the 0-based turn number. */
  script: (request: unknown, turn: number) => ScriptedTurn;
  host?: string;
  port?: number;
  /** The model id /v1/models lists (default scripted-model). */
  model?: string;
  /** Characters per streamed content or arguments fragment (default 8). */
  fragment?: number;
}

export interface ScriptedModel {
  /** OpenAI-style base URL, ending in /v1 (what the openai SDK takes as baseURL). */
  url: string;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}
