// Certified identity makes a new log per start, so a sidecar killed with kill -9 leaves a log no
// later start reopens. The next start ships it up to its last signed checkpoint: closed when that
// covers the whole log (then retention may free it), left OPEN at the cosigned size when an
// unsigned tail remains (a reported gap; the tail stays durable on the volume).
import { join } from 'node:path';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { writerPrefix } from '../../kernel/fleet/layout.js';
import { LogWriter, readLog } from '../../kernel/proofgraph/store/index.js';
import { findLogCertification } from '../../sidecar/ship/attach.js';
import { CollectorClient } from '../../sidecar/ship/collector-client.js';
import { shipEarlierBoots } from '../../sidecar/ship/earlier-boots.js';
import { readEntries } from '../../sidecar/ship/publish.js';
import { freeShippedBoots } from '../../sidecar/ship/retention.js';
import { buildStore } from '../evidence/fixtures.js';
import { buckets, mirrorKey, startCollector } from './fleet-support.js';
import { describeWithRgw, useRgw } from './rgw-support.js';

const POD = 'helm/c/ns-e/uid-1';

describeWithRgw('earlier boots of a pod', () => {
  const rgw = useRgw();

  it('ships each earlier boot up to its last signed checkpoint; closes only a whole one; retention then frees it', async () => {
    const s = await buildStore({ writers: { b0: `${POD}/b0`, b1: `${POD}/b1`, b2: `${POD}/b2` }, calls: 4, checkpointEvery: 5, certifyLogs: true });
    const config = await buckets(rgw(), 'fleet-boots');
    const { collector, bucket, url, stop } = await startCollector(config, { rootKey: s.keys.root });
    try {
      // b2 was killed after acknowledging entries its last signed checkpoint does not cover.
      const tail = await LogWriter.open({ dir: join(s.root, 'b2'), origin: `${POD}/b2` });
      await tail.append(new TextEncoder().encode('{"unsigned":1}'));
      await tail.append(new TextEncoder().encode('{"unsigned":2}'));
      await tail.close();
      const local = { b1: (await readLog(join(s.root, 'b1'))).entries, b2: (await readLog(join(s.root, 'b2'))).entries };

      const boots = await shipEarlierBoots({ logDir: join(s.root, 'b0'), origin: `${POD}/b0`, bucket, collector: new CollectorClient(url), collectorKey: mirrorKey.verifier, namespace: 'ns-e', certification: findLogCertification });
      const by = Object.fromEntries(boots.map((b) => [b.origin, b]));
      expect(by[`${POD}/b1`]).toMatchObject({ entries: local.b1.length, cosigned: local.b1.length, closed: true });
      expect(by[`${POD}/b2`]).toMatchObject({ entries: local.b2.length, cosigned: local.b2.length - 2, closed: false });
      expect(by[`${POD}/b0`]).toBeUndefined();
      expect(collector.writer(`${POD}/b1`)).toMatchObject({ status: 'closed', size: local.b1.length });
      expect(collector.writer(`${POD}/b2`)).toMatchObject({ status: 'open', size: local.b2.length - 2 });
      const shipped = await readEntries(bucket, writerPrefix(nodeSuite, `${POD}/b1`), 0, local.b1.length);
      expect(shipped.map((e) => Buffer.from(e).toString('base64'))).toEqual(local.b1.map((e) => Buffer.from(e).toString('base64')));

      // Retention at a later start frees the whole, closed boot only.
      expect(await freeShippedBoots(join(s.root, 'b0'), `${POD}/b0`, mirrorKey.verifier)).toEqual(['b1']);
    } finally {
      await stop();
      await s.cleanup();
    }
  }, 120_000);
});
