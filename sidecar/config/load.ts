// Resolves the sidecar's settings: a flag beats an environment variable, which beats the config
// file, which beats the default. Every value is type-checked where it came from, then the keys are
// checked against each other, and the result says where each value came from.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, KEYS, type ConfigKeyName, type KeySpec } from './keys.js';
import { checkValue, fromEnv, fromFile, fromFlag, parseListen, type HostPort, type ToolRoutes, type Value } from './values.js';
import type { McpUpstreamConfig } from '../mcp/types.js';
import { ALG_ED25519, parseVerifierKey } from '../../kernel/crypto/keys.js';

export interface Principal {
  id: string;
  roles: string[];
  attributes: Record<string, string>;
}

/** certified identity: where and how the sidecar gets its fresh keys certified (docs/sidecar.md §Identity). */
export interface CertifyConfig {
  clusterOrigin: string;
  url: string;
  /** Inline PEM or a file holding it. */
  ca: string;
  tokenFile: string;
  /** The certification root's verifier key. */
  root: string;
  podNamespace: string;
  podName: string;
  podUid: string;
}

export interface SidecarConfig {
  listen: HostPort;
  adminListen: HostPort;
  bundle: string | null;
  bundleSignature: string | null;
  bundleTrustRoots: string[];
  bundleRevoked: string[];
  bundlePollIntervalMs: number;
  readyWithoutBundle: boolean;
  proofgraphDir: string;
  writerId: string;
  origin: string | null;
  /** static identity: key files. null with identity certified (keys are made in memory). */
  nodeKey: string | null;
  logKey: string | null;
  trustEvents: string[];
  identity: 'static' | 'certified';
  certify: CertifyConfig | null;
  heartbeatIntervalMs: number;
  checkpointEvery: number;
  startSnapshot: boolean;
  upstreamUrl: string;
  upstreamApiKeyFile: string | null;
  upstreamApiKey: string | null;
  upstreamTimeoutMs: number;
  deniedCallMode: 'explain' | 'error';
  maxBodyBytes: number | null;
  toolRoutes: ToolRoutes;
  mcpUpstreams: McpUpstreamConfig[];
  /** A2A surface (docs/spec/a2a.md): the A2A key file, and this agent's own A2A server. */
  a2aKey: string | null;
  a2aAgentUrl: string | null;
  sandboxModuleDir: string | null;
  sandboxWorkers: number;
  principal: Principal;
  shutdownTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export type ValueSource = 'flag' | 'env' | 'file' | 'default' | 'derived';

export interface LoadedConfig {
  config: SidecarConfig;
  /** Where each key's value came from (secrets included: only the source, never the value). */
  sources: Record<ConfigKeyName, ValueSource>;
  /** The config file read, if any. */
  file: string | null;
  /** Problems worth a log line that do not stop the sidecar (e.g. an unknown HELM_* variable). */
  warnings: string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

const WRITER_ID = /^[A-Za-z0-9._-]{1,128}$/;

function flagOptions() {
  const o: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { [CONFIG_FILE_FLAG]: { type: 'string' } };
  for (const s of KEYS as readonly KeySpec[]) {
    if (s.flag === null) continue;
    o[s.flag] = s.type === 'bool' ? { type: 'boolean' } : { type: 'string', ...(s.type === 'list' || s.type === 'routes' ? { multiple: true } : {}) };
  }
  return o;
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean | string[] | undefined> {
  try {
    const r = parseArgs({ args: [...argv], options: flagOptions(), allowPositionals: false, allowNegative: true, strict: true });
    return r.values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    throw new ConfigError('ERR_CONFIG_USAGE', (e as Error).message);
  }
}

async function readConfigFile(path: string, readText: (p: string) => Promise<string>): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readText(path);
  } catch (e) {
    throw new ConfigError('ERR_CONFIG_FILE', `cannot read: ${(e as Error).message}`, `config file ${path}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { version: '1.2', schema: 'core', uniqueKeys: true, merge: false });
  } catch (e) {
    throw new ConfigError('ERR_CONFIG_FILE', `not YAML or JSON: ${(e as Error).message.split('\n')[0]}`, `config file ${path}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('ERR_CONFIG_FILE', 'must be a mapping of settings', `config file ${path}`);
  const specs = new Map((KEYS as readonly KeySpec[]).map((s) => [s.key, s]));
  for (const key of Object.keys(doc)) {
    const s = specs.get(key);
    if (!s) throw new ConfigError('ERR_CONFIG_UNKNOWN_KEY', `unknown setting ${JSON.stringify(key)} (see docs/sidecar.md)`, `config file ${path}`);
    if (!s.inFile) throw new ConfigError('ERR_CONFIG_UNKNOWN_KEY', `${key} is a secret: set it through ${s.env.join(' or ')}, not a config file`, `config file ${path}`);
  }
  return doc as Record<string, unknown>;
}

/**
 * Loads the configuration of `helmctl serve` from its arguments, an environment and the config
 * file they name. Throws ConfigError with the place (flag, variable, file key) that is wrong.
 */
export async function loadConfig(argv: readonly string[], env: Env, readText: (p: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<LoadedConfig> {
  const flags = parseFlags(argv);
  const set = (v: string | undefined): v is string => v !== undefined && v !== '';
  const filePath = typeof flags[CONFIG_FILE_FLAG] === 'string' ? (flags[CONFIG_FILE_FLAG] as string) : set(env[CONFIG_FILE_ENV]) ? env[CONFIG_FILE_ENV]! : null;
  const file = filePath !== null ? await readConfigFile(filePath, readText) : {};

  const values = {} as Record<ConfigKeyName, Value>;
  const sources = {} as Record<ConfigKeyName, ValueSource>;
  for (const s of KEYS as readonly KeySpec[]) {
    const key = s.key as ConfigKeyName;
    const flagValue = s.flag !== null ? flags[s.flag] : undefined;
    const envName = s.env.find((n) => set(env[n]));
    let v: Value | undefined;
    let where = '';
    if (flagValue !== undefined) {
      where = `--${s.flag}`;
      v = fromFlag(s, flagValue, where);
      sources[key] = 'flag';
    } else if (envName !== undefined) {
      where = `environment variable ${envName}`;
      v = fromEnv(s, env[envName]!, where);
      sources[key] = 'env';
    } else if (Object.hasOwn(file, s.key)) {
      where = `config file key ${s.key}`;
      v = fromFile(s, file[s.key], where);
      sources[key] = 'file';
    } else {
      v = s.default === undefined ? null : (s.default as Value);
      if (Array.isArray(v)) v = [...(v as string[])];
      sources[key] = 'default';
    }
    if (sources[key] !== 'default') checkValue(s, v, where);
    values[key] = v;
  }
  const config = assemble(values, sources);
  const known = new Set((KEYS as readonly KeySpec[]).flatMap((s) => s.env).concat(CONFIG_FILE_ENV));
  const warnings = Object.keys(env)
    .filter((n) => n.startsWith('HELM_') && !known.has(n) && set(env[n]))
    .map((n) => `environment variable ${n} is not a sidecar setting (typo?)`);
  return { config, sources, file: filePath, warnings };
}

function need(values: Record<ConfigKeyName, Value>, key: ConfigKeyName): string {
  const v = values[key];
  const s = (KEYS as readonly KeySpec[]).find((x) => x.key === key)!;
  if (typeof v !== 'string' || v === '') {
    const ways = [s.flag !== null ? `--${s.flag}` : null, ...s.env, s.inFile ? `config file key ${s.key}` : null].filter((x) => x !== null);
    throw new ConfigError('ERR_CONFIG_MISSING', `${key} is required (${ways.join(', ')})`);
  }
  return v;
}

const str = (v: Value): string | null => (typeof v === 'string' ? v : null);
const list = (v: Value): string[] => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : []);

/** Cross-key rules and derived values (principal, writer id). */
function assemble(values: Record<ConfigKeyName, Value>, sources: Record<ConfigKeyName, ValueSource>): SidecarConfig {
  const bundle = str(values.bundle);
  const bundleSignature = str(values.bundleSignature);
  const roots = list(values.bundleTrustRoots);
  if (bundle !== null && bundleSignature === null) throw new ConfigError('ERR_CONFIG_MISSING', 'bundleSignature is required with a bundle (--bundle-signature, HELM_BUNDLE_SIGNATURE)');
  if (bundle === null && bundleSignature !== null) throw new ConfigError('ERR_CONFIG_CONFLICT', 'bundleSignature is set but bundle is not');
  if (bundle !== null && roots.length === 0) throw new ConfigError('ERR_CONFIG_MISSING', 'bundleTrustRoots is required with a bundle (--bundle-trust-root, HELM_BUNDLE_TRUST_ROOTS)');
  if (str(values.upstreamApiKey) !== null && str(values.upstreamApiKeyFile) !== null) {
    throw new ConfigError('ERR_CONFIG_CONFLICT', 'set the upstream API key either as HELM_UPSTREAM_API_KEY or as a file (upstreamApiKeyFile), not both');
  }

  const listen = parseListen(need(values, 'listen'), 'listen');
  const adminListen = parseListen(need(values, 'adminListen'), 'adminListen');
  if (listen.port !== 0 && listen.port === adminListen.port && listen.host === adminListen.host) {
    throw new ConfigError('ERR_CONFIG_CONFLICT', `listen and adminListen are both ${listen.host}:${listen.port}`);
  }

  const podName = str(values.podName);
  const podNamespace = str(values.podNamespace);
  const podServiceAccount = str(values.podServiceAccount);
  const identity = values.identity === 'certified' ? 'certified' : 'static';
  const certify = identity === 'certified' ? certifyConfig(values, sources) : null;
  if (certify) values.writerId = null;
  let writerId = str(values.writerId);
  if (writerId === null && podName !== null) {
    writerId = podName;
    sources.writerId = 'derived';
  }
  if (writerId === null) throw new ConfigError('ERR_CONFIG_MISSING', 'writerId is required (--writer-id, HELM_WRITER_ID, or the pod name from POD_NAME)');
  if (!WRITER_ID.test(writerId)) throw new ConfigError('ERR_CONFIG_VALUE', `writer id ${JSON.stringify(writerId)} must match ${WRITER_ID}`, 'writerId');

  let principalId = str(values.principalId);
  if (principalId === null && podNamespace !== null && podServiceAccount !== null) {
    principalId = `system:serviceaccount:${podNamespace}:${podServiceAccount}`;
    sources.principalId = 'derived';
  }
  if (principalId === null) throw new ConfigError('ERR_CONFIG_MISSING', 'principalId is required (--principal-id, HELM_PRINCIPAL_ID, or POD_NAMESPACE with POD_SERVICE_ACCOUNT)');
  if (principalId.length > 512 || !principalId.isWellFormed()) throw new ConfigError('ERR_CONFIG_VALUE', 'principal id must be 1 to 512 characters of well-formed text', 'principalId');
  const roles = list(values.principalRoles);
  for (const r of roles) if (r.length > 128) throw new ConfigError('ERR_CONFIG_VALUE', `role ${JSON.stringify(r.slice(0, 40))}... is longer than 128 characters`, 'principalRoles');
  if (new Set(roles).size !== roles.length) throw new ConfigError('ERR_CONFIG_VALUE', 'roles must not repeat', 'principalRoles');
  const attributes: Record<string, string> = {};
  if (podNamespace !== null) attributes.namespace = podNamespace;
  if (podServiceAccount !== null) attributes.serviceAccount = podServiceAccount;
  if (podName !== null) attributes.pod = podName;

  return {
    listen,
    adminListen,
    bundle,
    bundleSignature,
    bundleTrustRoots: roots,
    bundleRevoked: list(values.bundleRevoked),
    bundlePollIntervalMs: values.bundlePollIntervalMs as number,
    readyWithoutBundle: values.readyWithoutBundle === true,
    proofgraphDir: need(values, 'proofgraphDir'),
    writerId,
    origin: str(values.origin),
    nodeKey: certify ? null : need(values, 'nodeKey'),
    logKey: certify ? null : need(values, 'logKey'),
    trustEvents: list(values.trustEvents),
    identity,
    certify,
    heartbeatIntervalMs: values.heartbeatIntervalMs as number,
    checkpointEvery: values.checkpointEvery as number,
    startSnapshot: values.startSnapshot as boolean,
    upstreamUrl: need(values, 'upstreamUrl'),
    upstreamApiKeyFile: str(values.upstreamApiKeyFile),
    upstreamApiKey: str(values.upstreamApiKey),
    upstreamTimeoutMs: values.upstreamTimeoutMs as number,
    deniedCallMode: values.deniedCallMode as SidecarConfig['deniedCallMode'],
    maxBodyBytes: typeof values.maxBodyBytes === 'number' ? values.maxBodyBytes : null,
    toolRoutes: (values.toolRoutes as ToolRoutes | null) ?? {},
    mcpUpstreams: (values.mcpUpstreams as McpUpstreamConfig[] | null) ?? [],
    a2aKey: str(values.a2aKey),
    a2aAgentUrl: str(values.a2aAgentUrl),
    sandboxModuleDir: str(values.sandboxModuleDir),
    sandboxWorkers: values.sandboxWorkers as number,
    principal: { id: principalId, roles, attributes },
    shutdownTimeoutMs: values.shutdownTimeoutMs as number,
    logLevel: values.logLevel as SidecarConfig['logLevel'],
  };
}

const CLUSTER_ORIGIN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
// A Kubernetes name or UID: lower-case DNS characters (pod names may hold dots).
const POD_FIELD = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/**
 * identity certified: the keys, origin and log directory are made at start, so static key
 * material is refused rather than silently ignored, and every certification setting is required.
 */
function certifyConfig(values: Record<ConfigKeyName, Value>, sources: Record<ConfigKeyName, ValueSource>): CertifyConfig {
  for (const key of ['nodeKey', 'logKey', 'trustEvents', 'origin', 'writerId'] as const) {
    if (sources[key] === 'default') continue;
    const s = (KEYS as readonly KeySpec[]).find((x) => x.key === key)!;
    throw new ConfigError(
      'ERR_CONFIG_CONFLICT',
      `${key} is set (${s.env[0]} or --${s.flag}) but identity certified makes fresh node and log keys, the origin and the log directory at every start: remove ${key}, or use identity static`,
    );
  }
  const clusterOrigin = need(values, 'clusterOrigin');
  if (!CLUSTER_ORIGIN.test(clusterOrigin) || clusterOrigin.length > 200) throw new ConfigError('ERR_CONFIG_VALUE', `cluster origin ${JSON.stringify(clusterOrigin)} must be path segments of letters, digits, '.', '_' or '-' separated by '/', e.g. helm/prod-eu1`, 'clusterOrigin');
  const url = need(values, 'certifyUrl');
  if (!url.startsWith('https://')) throw new ConfigError('ERR_CONFIG_VALUE', `certifyUrl ${url} must be https:// (the token is a credential)`, 'certifyUrl');
  const root = need(values, 'certifyRoot');
  try {
    if (parseVerifierKey(root).alg !== ALG_ED25519) throw new Error('not an Ed25519 note key (type 0x01)');
  } catch (e) {
    throw new ConfigError('ERR_CONFIG_VALUE', `certifyRoot is not a verifier key (name+keyid+base64, as in the .pub file of helmctl keygen --type root): ${(e as Error).message}`, 'certifyRoot');
  }
  const pod = (key: 'podNamespace' | 'podName' | 'podUid'): string => {
    const v = need(values, key);
    if (!POD_FIELD.test(v)) throw new ConfigError('ERR_CONFIG_VALUE', `${key} ${JSON.stringify(v)} is not a Kubernetes name or UID`, key);
    return v;
  };
  return { clusterOrigin, url, ca: need(values, 'certifyCa'), tokenFile: need(values, 'certifyTokenFile'), root, podNamespace: pod('podNamespace'), podName: pod('podName'), podUid: pod('podUid') };
}

/** The usage text of `helmctl serve`, from the key table. */
export function serveUsage(): string {
  const lines = ['helmctl serve [--config FILE] [options]   (every option also has a HELM_* variable and a config-file key; see docs/sidecar.md)'];
  for (const s of KEYS as readonly KeySpec[]) {
    if (s.flag === null) continue;
    const arg = s.type === 'bool' ? '' : s.type === 'list' ? ' VALUE (repeatable)' : s.type === 'routes' ? ' TOOL=connector:NAME[,sandbox:NAME] (repeatable)' : s.type === 'enum' ? ` ${s.values!.join('|')}` : ' VALUE';
    lines.push(`  --${s.flag}${arg}  [${s.env[0]}]`);
  }
  return lines.join('\n');
}
