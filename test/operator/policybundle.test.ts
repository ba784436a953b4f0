// PolicyBundle controller end to end: real operator code, real @kubernetes/client-node, over HTTP
// against the API-server double.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseBundleText, bundleContentHash, verifyBundle } from '../../kernel/guardian/index.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { BUNDLE_FILE, BUNDLE_FINALIZER, SIGNATURE_FILE, distributedConfigMapName } from '../../operator/api/v1alpha1.js';
import type { Operator } from '../../operator/operator.js';
import type { ApiServerDouble } from '../k8s/api-server-double.js';
import { repoRoot } from '../support/shared.js';
import {
  GROUP,
  OPERATOR_NS,
  bundleStatus,
  bundleText,
  governedNamespace,
  clusterGuardianSidecar,
  operatorFor,
  otherSigner,
  policyBundle,
  readyReason,
  signedSpec,
  startDouble,
  trust,
  waitFor,
  withIdentity,
} from './support.js';

let d: ApiServerDouble;
let op: Operator;

beforeEach(async () => {
  d = await startDouble();
  governedNamespace(d, 'agents-a');
  governedNamespace(d, 'agents-b');
  governedNamespace(d, 'elsewhere', { team: 'x' });
  op = operatorFor(d);
  await op.start();
});

afterEach(async () => {
  await op.stop();
  await d.stop();
});

const CM = distributedConfigMapName('support-desk');

describe('PolicyBundle controller', () => {
  it('a valid bundle becomes Active and is distributed to every governed namespace', async () => {
    const spec = signedSpec(bundleText());
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    d.seed(GROUP, 'policybundles', policyBundle('desk', spec));
    const status = await waitFor('Active', () => bundleStatus(d, 'desk')?.phase === 'Active' && bundleStatus(d, 'desk'));
    expect(status.verifiedHash).toBe(spec.contentHash);
    expect(status.observedGeneration).toBe(1);
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['SignatureVerified', 'True', 'Verified'],
      ['Ready', 'True', 'Distributed'],
    ]);
    const copies = await waitFor('copies', () => {
      const a = d.get('', 'configmaps', 'agents-a', CM);
      const b = d.get('', 'configmaps', 'agents-b', CM);
      return a && b && [a, b];
    });
    expect(d.get('', 'configmaps', 'elsewhere', CM)).toBeUndefined();
    for (const cm of copies) {
      // What a sidecar does with the mounted files: verify them again itself.
      const doc = parseBundleText(cm.data[BUNDLE_FILE]);
      expect(bundleContentHash(doc, nodeSuite)).toBe(spec.contentHash);
      expect(verifyBundle(doc, JSON.parse(cm.data[SIGNATURE_FILE]), trust, nodeSuite).ok).toBe(true);
    }
    const pb = d.get(GROUP, 'policybundles', OPERATOR_NS, 'desk')!;
    expect(pb.metadata.finalizers).toContain(BUNDLE_FINALIZER);
    expect(pb.metadata.managedFields.some((m: { manager: string; subresource?: string }) => m.manager === 'helm-operator' && m.subresource === 'status')).toBe(true);
    const event = await waitFor('Distributed event', () => d.list('events.k8s.io', 'events', OPERATOR_NS).find((e) => e.reason === 'Distributed' && e.regarding.name === 'desk'));
    expect(event.type).toBe('Normal');
    expect(event.reportingController).toBe('helm.mindburn.org/operator');
  });

  it('a bad signature ends Failed with SignatureInvalid and distributes nothing', async () => {
    const good = signedSpec(bundleText());
    const forged = signedSpec(bundleText(), {}, otherSigner);
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    // A well-formed signature by another key, presented under the trusted key's handle.
    d.seed(GROUP, 'policybundles', policyBundle('desk', { ...good, signature: forged.signature }));
    const status = await waitFor('Failed', () => bundleStatus(d, 'desk')?.phase === 'Failed' && bundleStatus(d, 'desk'));
    expect(readyReason(status)).toBe('SignatureInvalid');
    expect(status.conditions?.find((c) => c.type === 'SignatureVerified')?.status).toBe('False');
    expect(status.message).toMatch(/does not verify/);
    expect(status.verifiedHash).toBeUndefined();
    expect(d.get('', 'configmaps', 'agents-a', CM)).toBeUndefined();
    const events = await waitFor('warning event', () => d.list('events.k8s.io', 'events', OPERATOR_NS).find((e) => e.reason === 'SignatureInvalid'));
    expect(events.type).toBe('Warning');
  });

  it('an untrusted signer ends Failed with SignerUntrusted', async () => {
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText(), {}, otherSigner)));
    const status = await waitFor('Failed', () => bundleStatus(d, 'desk')?.phase === 'Failed' && bundleStatus(d, 'desk'));
    expect(readyReason(status)).toBe('SignerUntrusted');
  });

  it('content that does not hash to contentHash ends Failed with HashMismatch', async () => {
    const spec = signedSpec(bundleText());
    d.seed(GROUP, 'policybundles', policyBundle('desk', { ...spec, inline: bundleText('tampered') }));
    const status = await waitFor('Failed', () => bundleStatus(d, 'desk')?.phase === 'Failed' && bundleStatus(d, 'desk'));
    expect(readyReason(status)).toBe('HashMismatch');
    expect(status.message).toContain(spec.contentHash);
  });

  it('the published sample applies and ends Failed with SignatureInvalid (fail closed)', async () => {
    const sample = parseYaml(readFileSync(join(repoRoot, 'crds', 'samples', 'policybundle.yaml'), 'utf8')) as Record<string, any>;
    const created = d.seed(GROUP, 'policybundles', sample);
    expect(created.spec.inline).toContain('helm-policy-bundle/v1');
    // The sample's contentHash is the real hash of its inline text: only the signature is a placeholder.
    expect(bundleContentHash(parseBundleText(sample.spec.inline), nodeSuite)).toBe(sample.spec.contentHash);
    const status = await waitFor('Failed', () => bundleStatus(d, sample.metadata.name)?.phase === 'Failed' && bundleStatus(d, sample.metadata.name));
    expect(readyReason(status)).toBe('SignatureInvalid');
  });

  it('an updated bundle is verified again and redistributed', async () => {
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    const v1 = signedSpec(bundleText());
    d.seed(GROUP, 'policybundles', policyBundle('desk', v1));
    await waitFor('v1 distributed', () => d.get('', 'configmaps', 'agents-a', CM)?.metadata.annotations['helm.mindburn.org/content-hash'] === v1.contentHash);
    const v2 = signedSpec(bundleText('v2'), { version: 2 });
    const kube = op.kube;
    await kube.mergePatch({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, OPERATOR_NS, 'desk', { spec: v2 });
    await waitFor('v2 distributed everywhere', () =>
      ['agents-a', 'agents-b'].every((ns) => {
        const cm = d.get('', 'configmaps', ns, CM);
        return cm?.metadata.annotations['helm.mindburn.org/content-hash'] === v2.contentHash && bundleContentHash(parseBundleText(cm.data[BUNDLE_FILE]), nodeSuite) === v2.contentHash;
      }),
    );
    const status = await waitFor('observed generation 2', () => bundleStatus(d, 'desk')?.observedGeneration === 2 && bundleStatus(d, 'desk'));
    expect(status.phase).toBe('Active');
    expect(status.verifiedHash).toBe(v2.contentHash);
    // An update that breaks the signature withdraws the copies: no stale policy stays in force.
    await kube.mergePatch({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, OPERATOR_NS, 'desk', { spec: { inline: bundleText('v3') } });
    await waitFor('copies withdrawn', () => d.get('', 'configmaps', 'agents-a', CM) === undefined && d.get('', 'configmaps', 'agents-b', CM) === undefined);
    await waitFor('HashMismatch', () => readyReason(bundleStatus(d, 'desk')) === 'HashMismatch');
    expect(bundleStatus(d, 'desk')?.phase).toBe('Failed');
  });

  it('a namespace that becomes governed receives the bundle; one that leaves loses it', async () => {
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('distributed', () => d.get('', 'configmaps', 'agents-a', CM));
    const core = op.kube.core;
    await core.patchNamespace({ name: 'elsewhere', body: { metadata: { labels: { 'helm.mindburn.org/governed': 'true' } } } }, (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'));
    await waitFor('new namespace served', () => d.get('', 'configmaps', 'elsewhere', CM));
    await core.patchNamespace({ name: 'agents-a', body: { metadata: { labels: { 'helm.mindburn.org/governed': null } } } }, (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'));
    await waitFor('left namespace cleaned', () => d.get('', 'configmaps', 'agents-a', CM) === undefined);
  });

  it('deleting the bundle removes every copy through the finalizer, then the bundle', async () => {
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('distributed', () => d.get('', 'configmaps', 'agents-a', CM) && d.get('', 'configmaps', 'agents-b', CM));
    await op.kube.delete({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, OPERATOR_NS, 'desk');
    await waitFor('bundle gone', () => d.get(GROUP, 'policybundles', OPERATOR_NS, 'desk') === undefined);
    expect(d.get('', 'configmaps', 'agents-a', CM)).toBeUndefined();
    expect(d.get('', 'configmaps', 'agents-b', CM)).toBeUndefined();
  });

  it('an older version with the same bundleId is Superseded and the newest is distributed', async () => {
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk-v2'));
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian-old', 'desk-v1'));
    const v1 = signedSpec(bundleText());
    const v2 = signedSpec(bundleText('v2'), { version: 2 });
    d.seed(GROUP, 'policybundles', policyBundle('desk-v1', v1));
    await waitFor('v1 Active', () => bundleStatus(d, 'desk-v1')?.phase === 'Active');
    d.seed(GROUP, 'policybundles', policyBundle('desk-v2', v2));
    await waitFor('v1 Superseded', () => bundleStatus(d, 'desk-v1')?.phase === 'Superseded');
    await waitFor('v2 Active', () => bundleStatus(d, 'desk-v2')?.phase === 'Active');
    await waitFor('v2 content distributed', () => d.get('', 'configmaps', 'agents-a', CM)?.metadata.annotations['helm.mindburn.org/content-hash'] === v2.contentHash);
    expect(readyReason(bundleStatus(d, 'desk-v1'))).toBe('Superseded');
    // When the newer one goes, the older one takes over again.
    await op.kube.delete({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, OPERATOR_NS, 'desk-v2');
    await waitFor('v1 Active again', () => bundleStatus(d, 'desk-v1')?.phase === 'Active');
    await waitFor('v1 content back', () => d.get('', 'configmaps', 'agents-a', CM)?.metadata.annotations['helm.mindburn.org/content-hash'] === v1.contentHash);
  });

  it('spec.bundleId and spec.version must be the signed content\'s: a bundle signed as support-desk is not payments-prod v999', async () => {
    const relabelled = signedSpec(bundleText(), { bundleId: 'payments-prod', version: 999 }, undefined, false);
    d.seed(GROUP, 'policybundles', policyBundle('payments', relabelled));
    const status = await waitFor('Failed', () => bundleStatus(d, 'payments')?.phase === 'Failed' && bundleStatus(d, 'payments'));
    expect(readyReason(status)).toBe('BundleIdMismatch');
    expect(status.message).toMatch(/spec\.bundleId "payments-prod" is not the signed content's metadata\.name "support-desk"/);
    const replayed = signedSpec(withIdentity(bundleText(), 'support-desk', 1), { version: 999 }, undefined, false);
    d.seed(GROUP, 'policybundles', policyBundle('replayed', replayed));
    const v = await waitFor('Failed', () => bundleStatus(d, 'replayed')?.phase === 'Failed' && bundleStatus(d, 'replayed'));
    expect(readyReason(v)).toBe('VersionMismatch');
    expect(v.message).toMatch(/spec\.version 999 is not the signed content's metadata\.version "1"/);
  });

  it('supersession is per namespace, and a bundle never writes or deletes a ConfigMap it does not own', async () => {
    governedNamespace(d, 'team-b', { team: 'b' });
    // A ConfigMap of that name the operator did not make.
    d.seed('', 'configmaps', { metadata: { name: CM, namespace: 'agents-b' }, data: { note: 'mine' } });
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian', 'desk'));
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText())));
    await waitFor('agents-a copy', () => d.get('', 'configmaps', 'agents-a', CM)?.metadata.annotations?.['helm.mindburn.org/source'] === `${OPERATOR_NS}/desk`);
    const a = await waitFor('conflict reported', () => bundleStatus(d, 'desk')?.conditions?.find((c) => c.type === 'DistributionConflict' && c.status === 'True'));
    expect(a.message).toMatch(/agents-b\/helm-policy-support-desk belongs to a ConfigMap the operator did not create/);
    expect(d.get('', 'configmaps', 'agents-b', CM)?.data).toEqual({ note: 'mine' });
    // The same bundleId at a higher version in another namespace: both Active, neither supersedes.
    d.seed(GROUP, 'clusterguardiansidecars', clusterGuardianSidecar('guardian-b', 'desk', {}, 'team-b'));
    d.seed(GROUP, 'policybundles', policyBundle('desk', signedSpec(bundleText('b'), { version: 2 }), 'team-b'));
    await waitFor('team-b Active', () => bundleStatus(d, 'desk', 'team-b')?.phase === 'Active');
    expect(bundleStatus(d, 'desk')?.phase).toBe('Active');
    const b = await waitFor('team-b conflict', () => bundleStatus(d, 'desk', 'team-b')?.conditions?.find((c) => c.type === 'DistributionConflict' && c.status === 'True'));
    expect(b.message).toMatch(new RegExp(`agents-a/helm-policy-support-desk belongs to PolicyBundle ${OPERATOR_NS}/desk`));
    expect(d.get('', 'configmaps', 'agents-a', CM)?.metadata.annotations?.['helm.mindburn.org/source']).toBe(`${OPERATOR_NS}/desk`);
    // Deleting the team-b bundle removes none of the other bundle's copies.
    await op.kube.delete({ group: GROUP, version: 'v1alpha1', plural: 'policybundles', kind: 'PolicyBundle', namespaced: true }, 'team-b', 'desk');
    await waitFor('team-b bundle gone', () => d.get(GROUP, 'policybundles', 'team-b', 'desk') === undefined);
    expect(d.get('', 'configmaps', 'agents-a', CM)?.metadata.annotations?.['helm.mindburn.org/source']).toBe(`${OPERATOR_NS}/desk`);
    expect(d.get('', 'configmaps', 'agents-b', CM)?.data).toEqual({ note: 'mine' });
  });
});
