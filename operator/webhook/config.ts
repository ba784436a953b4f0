// Cluster-wide injection settings (from the chart's values via the operator's environment). What
// varies per workload comes from its GuardianSidecar instead.
import type { JsonObject } from './json.js';
import type { CollectorSettings } from '../fleet/collector-settings.js';

export type SidecarMode = 'native' | 'container';
/** auto: native when every node's kubelet supports native sidecars, else container (sidecarModeForNodes). */
export type SidecarModeSetting = SidecarMode | 'auto';

export interface InjectorConfig {
  /** The operator's namespace: never injected. */
  operatorNamespace: string;
  /**
   * native: an initContainer with restartPolicy Always (kubelet >= 1.29); container: a regular
   * container; auto: decided at each admission from the nodes' kubelet versions.
   */
  sidecarMode: SidecarModeSetting;
  governedPort: number;
  adminPort: number;
  /** UID/GID the sidecar runs as; numeric so runAsNonRoot can be checked by the kubelet. */
  runAsUser: number;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Secret (in the pod's namespace) holding the sidecar's node.key, log.key and publish-node.json
   * (the root-signed publication of the node key that verifiers check receipts against).
   */
  signingKeySecret: string;
  /** Used when the GuardianSidecar sets no resources. */
  defaultResources: JsonObject;
  /** Deny pods that opt in but cannot be injected (no GuardianSidecar, lookup errors). */
  failClosed: boolean;
  /** Verifier keys trusted to sign policy bundles (the chart's trust roots); sidecars check again. */
  bundleTrustRoots: string[];
  /** The operator-managed fleet collector, when the chart enables one (docs/fleet.md). */
  fleetCollector?: CollectorSettings;
}

export const DEFAULT_INJECTOR_CONFIG: Omit<InjectorConfig, 'operatorNamespace'> = {
  sidecarMode: 'native',
  governedPort: 8080,
  adminPort: 9090,
  runAsUser: 65532,
  imagePullPolicy: 'IfNotPresent',
  signingKeySecret: 'helm-guardian-signing-keys',
  defaultResources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  failClosed: true,
  bundleTrustRoots: [],
};

export function injectorConfig(operatorNamespace: string, overrides: Partial<InjectorConfig> = {}): InjectorConfig {
  return { ...DEFAULT_INJECTOR_CONFIG, ...overrides, operatorNamespace };
}

/**
 * The kubelet, not the API server, runs the sidecar: a pod may land on any node, so native mode
 * is chosen only when every node's kubelet is >= 1.29. No nodes, an unreadable list or an
 * unparsable version choose the classic container, which works on every supported kubelet.
 */
export function sidecarModeForNodes(kubeletVersions: readonly string[] | undefined): SidecarMode {
  if (!kubeletVersions || kubeletVersions.length === 0) return 'container';
  return kubeletVersions.every((v) => sidecarModeFor(v) === 'native') ? 'native' : 'container';
}

/**
 * Native sidecars (KEP-753) are on by default from Kubernetes 1.29; older API servers drop the
 * container-level restartPolicy field and would run the sidecar as a blocking init container.
 * gitVersion strings look like "v1.29.3" or "v1.30.1-eks-1234".
 */
export function sidecarModeFor(version: { major: string; minor: string } | string): SidecarMode {
  let major: number;
  let minor: number;
  if (typeof version === 'string') {
    const m = /^v?(\d+)\.(\d+)/.exec(version);
    if (!m) return 'container';
    major = Number(m[1]);
    minor = Number(m[2]);
  } else {
    major = parseInt(version.major, 10);
    minor = parseInt(version.minor, 10); // minor may read "29+" on some distributions
  }
  if (!Number.isFinite(major) || !Number.isFinite(minor)) return 'container';
  return major > 1 || (major === 1 && minor >= 29) ? 'native' : 'container';
}
