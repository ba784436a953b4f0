// Points every app container at the sidecar: the SDK base-URL variables and the MCP URL. A value
// the app already set is replaced, since an app that talks to the provider directly is ungoverned.
// When the GuardianSidecar holds the model key (llmUpstream.apiKeySecretRef) the app's
// OPENAI_API_KEY is replaced by a placeholder, whatever it was (a secretKeyRef would hand the app
// the key): SDKs refuse to start without one, and the sidecar swaps it for the real key that only
// it can read. Without a key in the GuardianSidecar the app's own key is kept (it is forwarded).
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { SIDECAR_CONTAINER } from '../constants.js';
import type { InjectorConfig } from '../config.js';
import type { GuardianView } from '../guardian.js';
import { arrayAt, isObject, jsonEqual, pointer, type JsonObject, type PatchOp } from '../json.js';
import { APP_ENV, SIDECAR_HTTP } from '../sidecar-contract.js';

/** SDK variables that take an OpenAI-compatible base URL ending in /v1. */
export const OPENAI_BASE_URL_VARS = [
  'OPENAI_BASE_URL', // openai (Python >= 1, Node), LiteLLM, many agent frameworks
  'OPENAI_API_BASE', // openai Python < 1, LangChain
] as const;

export function appEnv(config: InjectorConfig, guardian?: GuardianView): { enforced: IEnvVar[]; defaults: IEnvVar[] } {
  const base = `http://127.0.0.1:${config.governedPort}`;
  const placeholder = { name: APP_ENV.placeholderKey, value: APP_ENV.placeholderKeyValue };
  const sidecarHoldsKey = guardian?.llmUpstream?.apiKeySecretRef !== undefined;
  return {
    enforced: [
      ...OPENAI_BASE_URL_VARS.map((name) => ({ name, value: `${base}${SIDECAR_HTTP.openAiBase}` })),
      { name: APP_ENV.mcpUrl, value: `${base}${SIDECAR_HTTP.mcp}` },
      ...(sidecarHoldsKey ? [placeholder] : []),
    ],
    defaults: sidecarHoldsKey ? [] : [placeholder],
  };
}

function containerEnvOps(container: JsonObject, index: number, config: InjectorConfig, guardian?: GuardianView): PatchOp[] {
  const { enforced, defaults } = appEnv(config, guardian);
  const envPath = (...rest: (string | number)[]) => pointer('spec', 'containers', index, 'env', ...rest);
  if (!Array.isArray(container.env)) {
    return [{ op: 'add', path: envPath(), value: [...enforced, ...defaults] as unknown as JsonObject[] }];
  }
  const current = container.env;
  const ops: PatchOp[] = [];
  const position = (name: string) => current.findIndex((e) => isObject(e) && e.name === name);
  for (const want of enforced) {
    const at = position(want.name);
    if (at < 0) ops.push({ op: 'add', path: envPath('-'), value: want as unknown as JsonObject });
    else if (!jsonEqual(current[at], want)) ops.push({ op: 'replace', path: envPath(at), value: want as unknown as JsonObject });
  }
  for (const want of defaults) if (position(want.name) < 0) ops.push({ op: 'add', path: envPath('-'), value: want as unknown as JsonObject });
  return ops;
}

/** App containers are the pod's regular containers other than the sidecar itself. */
export function appEnvPatch(pod: unknown, config: InjectorConfig, guardian?: GuardianView): PatchOp[] {
  // Indices into the raw list: the patch addresses the pod as it arrived.
  return (arrayAt(pod, 'spec', 'containers') ?? []).flatMap((c, i) =>
    isObject(c) && c.name !== SIDECAR_CONTAINER ? containerEnvOps(c, i, config, guardian) : [],
  );
}
