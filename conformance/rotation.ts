// L2-TRUST-ROTATION and L2-TRUST-REVOCATION: before the kill-and-restart of --crash-command,
// while the sidecar is quiet, the runner rotates the node key the kit's sidecar.yaml names: a fresh
// node key, a KEY_ROTATE event (root, old and new key) taking over at the log's next index N, a
// KEY_REVOKE of the retired key (root) from N + 1 (a retired key later found compromised), and
// sidecar.yaml rewritten to the new key with both events added to trustEvents. The restarted
// sidecar (it reads sidecar.yaml again) records the events and signs with the new key.
// The revocation starts one index after the rotation so that each event alone refuses some node:
// the verifier names revocation first (kernel/trust/registry.ts), so at N the retired key is
// refused as rotated, from N + 1 as revoked.
// A SIGKILL (not a clean stop) matters: a clean stop writes a shutdown heartbeat with the old key.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { keygen } from '../cli/commands/keygen.js';
import { loadSigningKey } from '../cli/key-files.js';
import { jcsString } from '../kernel/crypto/jcs.js';
import { nodeSuite } from '../kernel/crypto/node.js';
import { formatTime } from '../kernel/proofgraph/clock.js';
import { readLog } from '../kernel/proofgraph/store/index.js';
import { signKeyEvent } from '../kernel/trust/events.js';
import type { KitManifest } from './kit.js';
import type { KitPaths } from './kit-paths.js';

export interface Rotation {
  /** The first index the new key signs; the old key is retired from here on. */
  fromIndex: number;
  oldKey: string;
  newKey: string;
  oldKeyFile: string;
  eventFile: string;
  /** The first index at which the retired key is revoked (fromIndex + 1). */
  revokedFrom: number;
  revokeFile: string;
}

interface SidecarYaml {
  nodeKey: string;
  trustEvents: string[];
  proofgraphDir: string;
  writerId: string;
}

async function logSize(c: SidecarYaml): Promise<number> {
  const log = await readLog(join(c.proofgraphDir, c.writerId));
  return log.first + log.entries.length;
}

/** Writes the rotation into the kit; the caller restarts the sidecar right after. */
export async function prepareRotation(kit: { manifest: KitManifest; paths: KitPaths }): Promise<Rotation> {
  const p = kit.paths;
  const text = await readFile(p.sidecarConfig, 'utf8');
  const config = parse(text) as SidecarYaml;
  const old = await loadSigningKey(config.nodeKey, 'node key of sidecar.yaml');
  let fromIndex = await logSize(config);
  const newKeyFile = join(p.dir, 'keys', `node-${fromIndex}.key`);
  const io = { stdout: { write: () => true }, stderr: { write: () => true } };
  if ((await keygen.run(['--type', 'node', '--name', `helm-conformance/node-${fromIndex}`, '--out', newKeyFile, '--force'], io)) !== 0) {
    throw Object.assign(new Error(`helmctl keygen of the rotated node key ${newKeyFile} failed`), { code: 'ERR_CONFORMANCE_ROTATION' });
  }
  const next = await loadSigningKey(newKeyFile, 'rotated node key');
  const root = await loadSigningKey(p.rootKey, 'kit root key');
  const sign = (at: number) =>
    signKeyEvent(nodeSuite, { event: 'KEY_ROTATE', purpose: 'node', origin: kit.manifest.origin, key: old.verifier.vkey, newKey: next.verifier.vkey, fromIndex: at, issuedAt: formatTime(Date.now()), reason: 'helm conformance L2-TRUST-ROTATION' }, [root, old, next]);
  const revoke = (at: number) =>
    signKeyEvent(nodeSuite, { event: 'KEY_REVOKE', purpose: 'node', origin: kit.manifest.origin, key: old.verifier.vkey, fromIndex: at, issuedAt: formatTime(Date.now()), reason: 'helm conformance L2-TRUST-REVOCATION: the retired key found compromised' }, [root]);
  let event = sign(fromIndex);
  let revocation = revoke(fromIndex + 1);
  // A heartbeat that landed meanwhile moves the next index: sign again for it.
  for (let now = await logSize(config); now !== fromIndex; now = await logSize(config)) {
    event = sign((fromIndex = now));
    revocation = revoke(fromIndex + 1);
  }
  const eventFile = join(p.dir, 'keys', `rotate-${fromIndex}.json`);
  const revokeFile = join(p.dir, 'keys', `revoke-${fromIndex + 1}.json`);
  await writeFile(eventFile, jcsString(event) + '\n');
  await writeFile(revokeFile, jcsString(revocation) + '\n');
  const header = text.startsWith('#') ? text.slice(0, text.indexOf('\n') + 1) : '';
  await writeFile(`${p.sidecarConfig}.tmp`, header + stringify({ ...config, nodeKey: newKeyFile, trustEvents: [...(config.trustEvents ?? []), eventFile, revokeFile] }));
  await rename(`${p.sidecarConfig}.tmp`, p.sidecarConfig);
  return { fromIndex, oldKey: old.verifier.handle, newKey: next.verifier.handle, oldKeyFile: config.nodeKey, eventFile, revokedFrom: fromIndex + 1, revokeFile };
}
