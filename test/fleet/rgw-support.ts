// A real S3 server for the fleet tests: a single-node Ceph RGW (scripts/ceph-rgw.sh) in a temp dir.
// Where Ceph is absent the suites say how to install it and skip (pattern: test/interop/go-support.ts).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/shared.js';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';

const run = promisify(execFile);
const script = join(repoRoot, 'scripts', 'ceph-rgw.sh');
const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph-authtool', 'ceph'];

const missing = BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
export const haveCeph = missing.length === 0;
if (!haveCeph) {
  console.warn(`[helm] fleet S3 tests skipped: ${missing.join(', ')} not on PATH. Install with: apt-get update && apt-get install -y ceph-mon ceph-osd radosgw`);
}

/** describe() when Ceph RGW can be started here, otherwise a skipped suite that says why. */
export const describeWithRgw: jest.Describe = haveCeph ? describe : (describe.skip as jest.Describe);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Rgw {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  client(): S3Client;
  /** Creates a versioned bucket with Object Lock (COMPLIANCE, `days` default retention). */
  lockedBucket(name: string, days?: number): Promise<void>;
  stop(): Promise<void>;
}

export function s3Client(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
}

export async function startRgw(): Promise<Rgw> {
  const dir = await mkdtemp(join(tmpdir(), 'helm-rgw-'));
  const [rgwPort, monPort] = [await freePort(), await freePort()];
  let out: string;
  try {
    out = (await run('bash', [script, 'start', dir, String(rgwPort), String(monPort)], { timeout: 150_000 })).stdout;
  } catch (e) {
    await run('bash', [script, 'stop', dir]).catch(() => undefined);
    throw e;
  }
  const kv = Object.fromEntries(out.trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  const rgw: Rgw = {
    endpoint: kv.endpoint!,
    accessKeyId: kv.access_key!,
    secretAccessKey: kv.secret_key!,
    client: () => s3Client(rgw.endpoint, rgw.accessKeyId, rgw.secretAccessKey),
    async lockedBucket(name, days = 1) {
      const s3 = rgw.client();
      await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: name,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } } },
        }),
      );
      s3.destroy();
    },
    async stop() {
      await run('bash', [script, 'stop', dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return rgw;
}

/** Starts one RGW for the enclosing describe block (stopped after it); call the result inside tests. */
export function useRgw(): () => Rgw {
  let rgw: Rgw | undefined;
  beforeAll(async () => {
    rgw = await startRgw();
  }, 180_000);
  afterAll(async () => {
    await rgw?.stop();
  }, 60_000);
  return () => rgw ?? (() => { throw new Error('RGW is not started (use it inside a test)'); })();
}
