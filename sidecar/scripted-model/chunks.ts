// The wire shapes of an OpenAI chat completion, streamed and whole, as the scripted model sends
// them: the same field order and the same split of a streamed tool call (a first delta with id,
// type and name, then the arguments in several fragments) as the real API.
import type { ScriptedTurn } from './types.js';

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

const FINGERPRINT = 'fp_helm_scripted';

function finishReason(t: ScriptedTurn): 'tool_calls' | 'stop' {
  return t.toolCalls && t.toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

/** A rough token count (4 characters a token) so clients see plausible usage figures. */
export function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usage(promptText: string, t: ScriptedTurn) {
  const out = (t.content ?? '') + (t.toolCalls ?? []).map((c) => c.name + c.arguments).join('');
  const prompt = tokens(promptText);
  const completion = tokens(out);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function completion(meta: CompletionMeta, t: ScriptedTurn, promptText: string) {
  const calls = t.toolCalls ?? [];
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: t.content ?? null,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}),
          annotations: [],
        },
        logprobs: null,
        finish_reason: finishReason(t),
      },
    ],
    usage: usage(promptText, t),
    system_fingerprint: FINGERPRINT,
  };
}

/** Splits text into pieces of at most `size` characters (code points, never half a surrogate pair). */
export function pieces(text: string, size: number): string[] {
  const cps = [...text];
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

/** The SSE data payloads of a streamed turn, without the final [DONE]. */
export function streamChunks(meta: CompletionMeta, t: ScriptedTurn, promptText: string, o: { includeUsage: boolean; fragment: number }): string[] {
  const base = { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: FINGERPRINT };
  const withUsage = o.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...withUsage });
  const out: string[] = [];
  const calls = t.toolCalls ?? [];
  const content = t.content ?? '';
  if (content.length > 0 || calls.length === 0) {
    out.push(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const p of pieces(content, o.fragment)) out.push(chunk({ content: p }));
  }
  calls.forEach((c, index) => {
    const head = { index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } };
    out.push(chunk(index === 0 && out.length === 0 ? { role: 'assistant', content: null, tool_calls: [head], refusal: null } : { tool_calls: [head] }));
    for (const p of pieces(c.arguments, o.fragment)) out.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
  });
  out.push(chunk({}, finishReason(t)));
  if (o.includeUsage) out.push(JSON.stringify({ ...base, choices: [], usage: usage(promptText, t) }));
  return out;
}
