// The fleet's two buckets through @aws-sdk/client-s3 (docs/fleet.md §Object storage). Rules the
// servers we meet force on us: never rely on If-None-Match (Ceph RGW 16 ignores it), never delete
// or overwrite a locked object. An immutable PUT therefore first asks whether the key exists: a
// key in the locked bucket fixes its content, so an existing object with the same digest is the
// same write done before (a retry or a restart), and one with another digest is refused.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';

export interface BucketConfig {
  endpoint: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Object Lock bucket: full tiles and bundles, fleet checkpoints, evidence. */
  bucket: string;
  /** Unlocked bucket: partial tiles and bundles, the mutable `checkpoint` pointer. */
  stagingBucket: string;
}

export class ObjectStoreError extends Error {
  constructor(
    readonly code: 'ERR_OBJECT_CONFLICT' | 'ERR_OBJECT_STORE',
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const status = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

export class FleetBucket {
  readonly s3: S3Client;
  constructor(readonly config: BucketConfig) {
    this.s3 = new S3Client({
      endpoint: config.endpoint,
      region: config.region ?? 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      maxAttempts: 2,
    });
  }

  /** Writes a write-once object to the locked bucket; a repeat with the same bytes is a no-op. */
  async putImmutable(key: string, body: Uint8Array): Promise<'written' | 'present'> {
    const digest = sha256(body);
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      if (head.Metadata?.sha256 === digest) return 'present';
      throw new ObjectStoreError('ERR_OBJECT_CONFLICT', `s3://${this.config.bucket}/${key} exists with digest ${head.Metadata?.sha256 ?? '(none)'}, not ${digest}: a locked object is never overwritten`);
    } catch (e) {
      if (e instanceof ObjectStoreError) throw e;
      if (status(e) !== 404) throw this.fail('head', this.config.bucket, key, e);
    }
    await this.put(this.config.bucket, key, body, digest);
    return 'written';
  }

  /** Writes (or replaces) an object in the staging bucket. */
  async putStaged(key: string, body: Uint8Array): Promise<void> {
    await this.put(this.config.stagingBucket, key, body, sha256(body));
  }

  private async put(bucket: string, key: string, body: Uint8Array, digest: string): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: { sha256: digest } }));
    } catch (e) {
      throw this.fail('put', bucket, key, e);
    }
  }

  /** An object's bytes from the locked bucket, or null when it does not exist. */
  get(key: string): Promise<Uint8Array | null> {
    return this.read(this.config.bucket, key);
  }

  getStaged(key: string): Promise<Uint8Array | null> {
    return this.read(this.config.stagingBucket, key);
  }

  private async read(bucket: string, key: string): Promise<Uint8Array | null> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body!.transformToByteArray();
    } catch (e) {
      if (status(e) === 404) return null;
      throw this.fail('get', bucket, key, e);
    }
  }

  /** Every key under `prefix` in the locked bucket, sorted. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (e) {
        throw this.fail('list', this.config.bucket, prefix, e);
      }
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  private fail(op: string, bucket: string, key: string, e: unknown): ObjectStoreError {
    const name = (e as Error)?.name ?? 'Error';
    return new ObjectStoreError('ERR_OBJECT_STORE', `${op.toUpperCase()} s3://${bucket}/${key} failed: ${name} ${status(e) ?? ''} ${(e as Error)?.message ?? String(e)}`.trim());
  }

  destroy(): void {
    this.s3.destroy();
  }
}
