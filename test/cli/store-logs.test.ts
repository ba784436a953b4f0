// helmctl export's log discovery: nested certified layout, flat layout, a log directory as --store,
// and pack directory names that stay valid for long pod names.
import { join } from 'node:path';
import { isValidLogDir } from '../../kernel/evidence/layout.js';
import { ProofGraphWriter } from '../../kernel/proofgraph/graph-writer.js';
import { findLogs, selectLogs } from '../../cli/store-logs.js';
import { makeKeys, publishEvent, TestClock, tempDir } from '../evidence/fixtures.js';

async function writeLog(root: string, writerId: string, origin: string): Promise<void> {
  const keys = makeKeys([origin]);
  const k = keys.logs[origin]!;
  const w = await ProofGraphWriter.open({ root, writerId, origin, nodeKey: k.node, logKey: k.log, clock: new TestClock().read, trustEvents: [publishEvent(keys, origin)] });
  await w.close();
}

it('finds flat and nested logs, names them for the pack, and selects by namespace and pod', async () => {
  const { dir, cleanup } = await tempDir('helm-store-logs-');
  try {
    const longPod = `agent-${'x'.repeat(240)}`;
    await writeLog(dir, 'static-pod', 'helm.test/static');
    await writeLog(join(dir, 'shop', 'agent-a'), '20261203t090000z-00000001', 'helm/c/shop/u1/20261203t090000z-00000001');
    await writeLog(join(dir, 'shop', longPod), '20261203t090000z-00000002', 'helm/c/shop/u2/20261203t090000z-00000002');
    const logs = await findLogs(dir);
    expect(logs.map((l) => [l.path.length > 60 ? 'long' : l.path, l.namespace, l.pod === longPod ? 'long' : l.pod])).toEqual([
      ['shop/agent-a/20261203t090000z-00000001', 'shop', 'agent-a'],
      ['long', 'shop', 'long'],
      ['static-pod', null, 'static-pod'],
    ]);
    expect(logs[0]!.writerId).toBe('shop_agent-a_20261203t090000z-00000001');
    expect(logs.every((l) => isValidLogDir(l.writerId))).toBe(true);
    expect(new Set(logs.map((l) => l.writerId)).size).toBe(3);
    expect(selectLogs(logs, { namespace: 'shop' })).toHaveLength(2);
    expect(selectLogs(logs, { pod: 'static-pod' }).map((l) => l.origin)).toEqual(['helm.test/static']);
    // A log directory itself as the store.
    expect((await findLogs(join(dir, 'static-pod'))).map((l) => [l.writerId, l.path])).toEqual([['static-pod', '']]);
  } finally {
    await cleanup();
  }
});
