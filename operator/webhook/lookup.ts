// What the webhook needs to read from the cluster, as a small interface. The operator backs it
// with its informer caches (so admission never waits on the API server); tests back it with maps
// or with the API-server double.
import { stringAt } from './json.js';

export interface ClusterLookup {
  /** Labels of a namespace; undefined when it does not exist. */
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  /** Every GuardianSidecar in the cluster, as raw objects. */
  guardianSidecars(): Promise<readonly unknown[]>;
  /** Every ClusterGuardianSidecar, as raw objects. */
  clusterGuardianSidecars(): Promise<readonly unknown[]>;
  /**
   * status.nodeInfo.kubeletVersion of every node (sidecar mode "auto"); undefined when the nodes
   * cannot be read, which makes the injector fall back to the classic sidecar.
   */
  kubeletVersions(): Promise<readonly string[] | undefined>;
  /** A PolicyBundle as a raw object; undefined when it does not exist. */
  policyBundle(namespace: string, name: string): Promise<unknown | undefined>;
}

export interface LookupState {
  namespaces: Record<string, Record<string, string>>;
  guardianSidecars: unknown[];
  policyBundles: unknown[];
  clusterGuardianSidecars?: unknown[];
  kubeletVersions?: string[];
}

/** A lookup over plain data, read on every call so callers may change it in place. */
export function mapLookup(state: LookupState): ClusterLookup {
  return {
    namespaceLabels: async (name) => state.namespaces[name],
    guardianSidecars: async () => state.guardianSidecars,
    clusterGuardianSidecars: async () => state.clusterGuardianSidecars ?? [],
    kubeletVersions: async () => state.kubeletVersions,
    policyBundle: async (namespace, name) =>
      state.policyBundles.find((b) => stringAt(b, 'metadata', 'namespace') === namespace && stringAt(b, 'metadata', 'name') === name),
  };
}
