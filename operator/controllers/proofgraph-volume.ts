// The ProofGraph volume a (Cluster)GuardianSidecar chose, made real and reported. storageClass:
// one ReadWriteMany PVC per governed namespace, created (server-side apply) and labelled as ours;
// the operator never deletes one, since it holds evidence (delete it after exporting). Other
// choices only get reported. The result is the ProofGraphVolume condition.
import { FIELD_MANAGER, LABEL_MANAGED_BY, MANAGED_BY, type Condition } from '../api/v1alpha1.js';
import { apiStatus } from '../runtime/errors.js';
import type { Informer } from '../runtime/informer.js';
import { PERSISTENT_VOLUME_CLAIMS, type KObject, type Kube } from '../runtime/kube.js';
import { ACK_FIELD, proofGraphProblem, type ProofGraphChoice } from '../webhook/guardian-config.js';
import { GUARDIAN_ANNOTATION } from '../webhook/constants.js';

export type VolumeCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

interface ClaimLike extends KObject {
  spec?: { storageClassName?: string };
}

/** Applies missing claims; returns the condition (status False when any claim could not be made). */
export async function ensureProofGraphVolume(
  pg: ProofGraphChoice,
  owner: string,
  namespaces: readonly string[],
  claims: Informer,
  kube: Kube,
): Promise<VolumeCondition> {
  const type = 'ProofGraphVolume';
  const problem = proofGraphProblem(pg);
  if (problem) return { type, status: 'False', reason: pg.kind === 'unchosen' ? 'VolumeNotChosen' : 'EmptyDirNotAcknowledged', message: problem };
  if (pg.kind === 'emptyDir') return { type, status: 'True', reason: 'EmptyDir', message: `emptyDir (${ACK_FIELD}: true): receipts are lost when a pod is deleted` };
  if (pg.kind === 'existingClaim') return { type, status: 'True', reason: 'ExistingClaim', message: `pods mount PVC ${pg.claimName}, which must exist in each governed namespace (ReadWriteMany)` };
  if (pg.kind !== 'storageClass') return { type, status: 'False', reason: 'VolumeNotChosen', message: 'unknown volume choice' };
  const failures: string[] = [];
  for (const ns of namespaces) {
    const existing = claims.get(ns, pg.claimName) as ClaimLike | undefined;
    if (existing) {
      if (existing.spec?.storageClassName !== pg.storageClassName) failures.push(`${ns}/${pg.claimName} exists with storage class ${existing.spec?.storageClassName ?? '(none)'}, not ${pg.storageClassName}`);
      continue;
    }
    try {
      await kube.apply(
        PERSISTENT_VOLUME_CLAIMS,
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: pg.claimName, namespace: ns, labels: { [LABEL_MANAGED_BY]: MANAGED_BY }, annotations: { [GUARDIAN_ANNOTATION]: owner } },
          spec: { accessModes: ['ReadWriteMany'], storageClassName: pg.storageClassName, resources: { requests: { storage: pg.size } } },
        },
        { fieldManager: FIELD_MANAGER, force: false },
      );
    } catch (e) {
      failures.push(`${ns}/${pg.claimName}: ${apiStatus(e)?.message ?? (e as Error).message}`);
    }
  }
  if (failures.length > 0) return { type, status: 'False', reason: 'ClaimFailed', message: failures.join('; ') };
  return { type, status: 'True', reason: 'StorageClass', message: `PVC ${pg.claimName} (storage class ${pg.storageClassName}, ReadWriteMany) in ${namespaces.length} namespace${namespaces.length === 1 ? '' : 's'}; kept when the GuardianSidecar is deleted` };
}
