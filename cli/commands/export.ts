// helmctl export: write an evidence pack from a ProofGraph store.
import { exportPack } from '../../kernel/evidence/export.js';
import { ExportError } from '../../kernel/evidence/window.js';
import { flag, optional, parse, required } from '../args.js';
import { CliError, EXIT_OK } from '../io.js';
import { loadSigningKey } from '../key-files.js';
import type { Command } from './command.js';

export const exportCmd: Command = {
  name: 'export',
  summary: 'export an evidence pack (.tar.gz) from a ProofGraph store',
  usage: 'helmctl export --store DIR --out PACK --key EXPORTER_KEY [--from RFC3339] [--to RFC3339] [--json]',
  async run(argv, io) {
    const p = parse(argv, { store: { type: 'string' }, out: { type: 'string' }, key: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0 });
    const store = required(p, 'store');
    const out = required(p, 'out');
    const exporterKey = await loadSigningKey(required(p, 'key'), 'exporter key');
    const from = optional(p, 'from');
    const to = optional(p, 'to');
    let r;
    try {
      r = await exportPack({ store, out, exporterKey, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    } catch (e) {
      if (e instanceof ExportError || (e as { code?: string }).code?.startsWith('ERR_STORE')) throw new CliError((e as Error).message, (e as { code: string }).code);
      throw e;
    }
    if (flag(p, 'json')) {
      io.stdout.write(JSON.stringify({ out, sha256: r.sha256, bytes: r.bytes.length, logs: r.logs, selection: r.manifest.selection, notes: r.notes }, null, 2) + '\n');
      return EXIT_OK;
    }
    const lines = [`wrote ${out} (${r.bytes.length} bytes)`, `sha256 ${r.sha256}`, `signed by exporter key ${exporterKey.verifier.handle}`];
    for (const l of r.logs) lines.push(`log ${l.dir} (${l.origin}): entries ${l.from}..${l.size - 1} (${l.entries}), ${l.checkpoints} checkpoint(s)`);
    for (const n of r.notes) lines.push(`note: ${n}`);
    io.stdout.write(lines.join('\n') + '\n');
    return EXIT_OK;
  },
};
