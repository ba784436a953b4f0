// helmctl export: write an evidence pack from a ProofGraph volume. Logs are found at any depth of
// the certified layout (<namespace>/<pod>/<boot>) or flat (<writerId>), or --store names one log
// directory. --namespace, --pod and --from/--to select. A selection whose logs cannot verify
// together is refused (exit 2, nothing written); with --trust-policy the pack is verified first.
import { rename, writeFile } from 'node:fs/promises';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { verifyPackNode } from '../../kernel/evidence/verify-node.js';
import { ExportError } from '../../kernel/evidence/window.js';
import { flag, optional, parse, required } from '../args.js';
import { checkLogsTogether } from '../export-checks.js';
import { CliError, EXIT_OK } from '../io.js';
import { loadSigningKey } from '../key-files.js';
import { findLogs, selectLogs } from '../store-logs.js';
import type { Command } from './command.js';
import { fleetExport } from './fleet.js';
import { formatProblem, loadPolicy } from './verify.js';

export const exportCmd: Command = {
  name: 'export',
  usage: 'helmctl export --store DIR --out PACK --key EXPORTER_KEY [--namespace NS] [--pod POD] [--from RFC3339] [--to RFC3339] [--trust-policy FILE] [--json]',
  async run(argv, io) {
    if (argv.includes('--bucket')) return fleetExport(argv, io); // a fleet pack from the bucket (fleet.ts)
    const p = parse(
      argv,
      { store: { type: 'string' }, out: { type: 'string' }, key: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, namespace: { type: 'string' }, pod: { type: 'string' }, 'trust-policy': { type: 'string' }, json: { type: 'boolean' } },
      { min: 0, max: 0 },
    );
    const store = required(p, 'store');
    const out = required(p, 'out');
    const exporterKey = await loadSigningKey(required(p, 'key'), 'exporter key');
    const from = optional(p, 'from');
    const to = optional(p, 'to');
    const namespace = optional(p, 'namespace');
    const pod = optional(p, 'pod');
    const policyPath = optional(p, 'trust-policy');
    const policy = policyPath !== undefined ? await loadPolicy(policyPath) : null;
    let r;
    try {
      const found = await findLogs(store);
      const logs = selectLogs(found, { ...(namespace !== undefined ? { namespace } : {}), ...(pod !== undefined ? { pod } : {}) });
      if (logs.length === 0) {
        const what = namespace !== undefined || pod !== undefined ? ` for${namespace !== undefined ? ` namespace ${namespace}` : ''}${pod !== undefined ? ` pod ${pod}` : ''} (--namespace/--pod match the certified layout <namespace>/<pod>/<boot> under --store)` : '';
        throw new ExportError('ERR_EXPORT_NOTHING', `no ProofGraph log under ${store}${what}; found ${found.length} log(s) in all`);
      }
      r = await exportPack({ store, exporterKey, logs, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
      const exported = new Set(r.logs.map((l) => l.dir));
      checkLogsTogether(nodeSuite, logs.filter((l) => exported.has(l.writerId)));
    } catch (e) {
      if (e instanceof ExportError || (e as { code?: string }).code?.startsWith('ERR_STORE')) throw new CliError((e as Error).message, (e as { code: string }).code);
      throw e;
    }
    if (policy) {
      const v = await verifyPackNode(r.bytes, policy);
      if (!v.ok) {
        const shown = v.problems.slice(0, 5).map(formatProblem).join('\n  ');
        throw new CliError(`the pack would not verify under ${policyPath}, so it is not written (${v.problems.length} problem(s)):\n  ${shown}`, 'ERR_EXPORT_UNVERIFIABLE');
      }
    }
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, r.bytes, { mode: 0o644 });
      await rename(tmp, out);
    } catch (e) {
      throw new CliError(`writing ${out}: ${(e as Error).message}`, 'ERR_EXPORT_IO');
    }
    if (flag(p, 'json')) {
      io.stdout.write(JSON.stringify({ out, sha256: r.sha256, bytes: r.bytes.length, logs: r.logs, selection: r.manifest.selection, notes: r.notes, verified: policy !== null }, null, 2) + '\n');
      return EXIT_OK;
    }
    const lines = [`wrote ${out} (${r.bytes.length} bytes)`, `sha256 ${r.sha256}`, `signed by exporter key ${exporterKey.verifier.handle}`];
    for (const l of r.logs) lines.push(`log ${l.dir} (${l.origin}): entries ${l.from}..${l.size - 1} (${l.entries}), ${l.checkpoints} checkpoint(s)`);
    lines.push(policy ? `verified under ${policyPath}` : 'checked: one origin per log, node keys published, one root (add --trust-policy to verify the pack in full before it is written)');
    for (const n of r.notes) lines.push(`note: ${n}`);
    io.stdout.write(lines.join('\n') + '\n');
    return EXIT_OK;
  },
};
