// The object store as it really behaves: Ceph RGW with versioning and Object Lock. These facts are
// what the shipper and collector are designed around (docs/fleet.md §Object storage).
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeWithRgw, startRgw, type Rgw } from './rgw-support.js';

describeWithRgw('Ceph RGW (real S3 server)', () => {
  let rgw: Rgw;
  let s3: S3Client;
  beforeAll(async () => {
    rgw = await startRgw();
    s3 = rgw.client();
    await rgw.lockedBucket('probe');
  }, 180_000);
  afterAll(async () => {
    s3?.destroy();
    await rgw?.stop();
  }, 60_000);

  const body = async (key: string): Promise<string> => (await (await s3.send(new GetObjectCommand({ Bucket: 'probe', Key: key }))).Body!.transformToString());

  it('versions a rewritten key and ignores If-None-Match (so nothing may rely on it)', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: 'probe', Key: 'k', Body: 'one' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: 'probe', Key: 'k', Body: 'two', IfNoneMatch: '*' }));
    // RGW 16 answers 200 where AWS S3 answers 412: the conditional write is silently ignored.
    expect(second.VersionId).toBeDefined();
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(await body('k')).toBe('two');
  });

  it('refuses to delete a version under COMPLIANCE retention (403)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'probe', Key: 'locked', Body: 'x' }));
    await expect(s3.send(new DeleteObjectCommand({ Bucket: 'probe', Key: 'locked', VersionId: put.VersionId }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    expect(await body('locked')).toBe('x');
  });
});
