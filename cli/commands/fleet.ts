// helmctl fleet export | verify: fleet evidence packs (docs/fleet.md, docs/spec/fleet-pack.md).
// export reads the bucket alone (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never
// from the command line) and writes a deterministic tar; verify checks a pack offline against a
// trust policy. `helmctl export --bucket ...` and `helmctl verify --fleet ...` reach the same code.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { writeTar } from '../../kernel/evidence/tar.js';
import { buildFleetPack, FleetPackError, verifyFleetPack } from '../../kernel/fleet/pack.js';
import { openFleetPack } from '../../kernel/fleet/verify-portable.js';
import { FleetBucket } from '../../sidecar/ship/object-store.js';
import { flag, optional, parse, required } from '../args.js';
import { CliError, EXIT_INVALID, EXIT_OK, UsageError, type Io } from '../io.js';
import type { Command } from './command.js';
import { fleetSourceFromBucket } from './fleet-source.js';
import { loadPolicy } from './verify.js';

function time(s: string, what: string): number {
  const t = Date.parse(s);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s) || Number.isNaN(t)) throw new UsageError(`${what} ${JSON.stringify(s)} is not an RFC 3339 time (e.g. 2026-12-03T12:00:00Z)`);
  return t;
}

export async function fleetExport(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const p = parse(
    argv,
    { bucket: { type: 'string' }, 'staging-bucket': { type: 'string' }, endpoint: { type: 'string' }, region: { type: 'string' }, namespace: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
    { min: 0, max: 0 },
  );
  const bucketName = required(p, 'bucket');
  const namespace = required(p, 'namespace');
  const from = time(required(p, 'from'), '--from');
  const to = time(required(p, 'to'), '--to');
  if (to < from) throw new UsageError('--to is before --from');
  const out = required(p, 'out');
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new CliError('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the bucket (read-only credentials are enough)', 'ERR_FLEET_EXPORT_CREDENTIALS');
  const bucket = new FleetBucket({
    endpoint: optional(p, 'endpoint') ?? env.AWS_ENDPOINT_URL ?? 'https://s3.amazonaws.com',
    region: optional(p, 'region') ?? env.AWS_REGION ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
    bucket: bucketName,
    stagingBucket: optional(p, 'staging-bucket') ?? `${bucketName}-staging`,
  });
  let files;
  try {
    files = await buildFleetPack(nodeSuite, await fleetSourceFromBucket(bucket), namespace, from, to);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`exporting from s3://${bucketName}: ${(e as Error).message}`, (e as { code?: string }).code ?? 'ERR_FLEET_EXPORT');
  } finally {
    bucket.destroy();
  }
  const tar = writeTar([...files].map(([path, data]) => ({ path, data })));
  const tmp = `${out}.tmp-${process.pid}`;
  await writeFile(tmp, tar);
  await rename(tmp, out);
  const sha256 = createHash('sha256').update(tar).digest('hex');
  io.stdout.write(flag(p, 'json') ? JSON.stringify({ out, sha256, bytes: tar.length, files: files.size }) + '\n' : `wrote ${out} (${tar.length} bytes, ${files.size} files)\nsha256 ${sha256}\n`);
  return EXIT_OK;
}

export async function fleetVerify(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { 'trust-policy': { type: 'string' }, json: { type: 'boolean' }, fleet: { type: 'boolean' } }, { min: 1, max: 1 });
  const policy = await loadPolicy(required(p, 'trust-policy'));
  const path = p.positionals[0]!;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CliError(`reading ${path}: ${(e as Error).message}`, 'ERR_FLEET_PACK_IO');
  }
  const files = openFleetPack(bytes);
  try {
    const v = verifyFleetPack(nodeSuite, files, policy);
    if (flag(p, 'json')) io.stdout.write(JSON.stringify({ ok: true, ...v }) + '\n');
    else {
      const lines = [`fleet pack OK: ${v.namespace} [${new Date(v.from).toISOString()}, ${new Date(v.to).toISOString()}]`, `fleet ${v.fleet.origin}@${v.fleet.size} cosigned by ${v.fleet.witnesses.join(', ') || '(no witness)'}`];
      for (const w of v.writers) lines.push(`writer ${w.origin}: leaves [${w.from}, ${w.to})${w.closed ? ', closed' : ''}${w.gap ? ' (GAP: nothing cosigned yet)' : ''}`);
      lines.push(`${v.receipts} receipts proved`);
      io.stdout.write(lines.join('\n') + '\n');
    }
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof FleetPackError)) throw e;
    if (flag(p, 'json')) io.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }) + '\n');
    else io.stdout.write(`fleet pack INVALID\n${e.message}\n`);
    return EXIT_INVALID;
  }
}

export const fleet: Command = {
  name: 'fleet',
  usage:
    'helmctl fleet export --bucket BUCKET [--staging-bucket B] [--endpoint URL] --namespace NS --from RFC3339 --to RFC3339 --out PACK.tar [--json]\n' +
    '  helmctl fleet verify PACK.tar --trust-policy FILE [--json]',
  run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'export') return fleetExport(rest, io);
    if (sub === 'verify') return fleetVerify(rest, io);
    throw new UsageError('expected: helmctl fleet export|verify ...');
  },
};
