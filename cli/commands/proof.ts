// helmctl proof: a c2sp.org/tlog-proof@v1 offline inclusion proof for one stored entry, against the
// first stored checkpoint that covers it (or the one of --size).
import { join } from 'node:path';
import { equalBytes } from '../../kernel/crypto/bytes.js';
import { nodeSuite } from '../../kernel/crypto/node.js';
import { parseNote } from '../../kernel/crypto/note.js';
import { CachedMerkleTree } from '../../kernel/evidence/cached-tree.js';
import { isValidLogDir } from '../../kernel/evidence/layout.js';
import { parseCheckpointText } from '../../kernel/proofgraph/checkpoint.js';
import { readLog } from '../../kernel/proofgraph/store/index.js';
import { formatTlogProof } from '../../kernel/proofgraph/tlog-proof.js';
import { nonNegativeInt, optional, parse, required } from '../args.js';
import { CliError, EXIT_OK, UsageError } from '../io.js';
import type { Command } from './command.js';

export const proof: Command = {
  name: 'proof',
  usage: 'helmctl proof --store DIR --log WRITER_ID --index N [--size CHECKPOINT_SIZE]',
  async run(argv, io) {
    const p = parse(argv, { store: { type: 'string' }, log: { type: 'string' }, index: { type: 'string' }, size: { type: 'string' } }, { min: 0, max: 0 });
    const writer = required(p, 'log');
    if (!isValidLogDir(writer)) throw new UsageError(`--log ${JSON.stringify(writer)} is not a writer id`);
    const index = nonNegativeInt(required(p, 'index'), '--index');
    const sizeArg = optional(p, 'size');
    const want = sizeArg === undefined ? null : nonNegativeInt(sizeArg, '--size');
    let log;
    try {
      log = await readLog(join(required(p, 'store'), writer));
    } catch (e) {
      throw new CliError((e as Error).message, (e as { code?: string }).code ?? 'ERR_CLI_IO');
    }
    const cps = log.checkpoints.map((note) => ({ note, cp: parseCheckpointText(parseNote(note).text) }));
    const chosen = want === null ? cps.filter((c) => c.cp.size > index).sort((a, b) => a.cp.size - b.cp.size)[0] : cps.find((c) => c.cp.size === want);
    if (!chosen) {
      throw new CliError(want === null ? `no stored checkpoint of ${writer} covers index ${index} yet` : `no stored checkpoint of ${writer} has size ${want}`, 'ERR_CLI_NO_CHECKPOINT');
    }
    if (index >= chosen.cp.size) throw new CliError(`index ${index} is not below the checkpoint size ${chosen.cp.size}`, 'ERR_CLI_NO_CHECKPOINT');
    const tree = new CachedMerkleTree(nodeSuite);
    for (let i = 0; i < chosen.cp.size; i++) tree.appendEntry(log.entries[i]!);
    if (!equalBytes(tree.root(), chosen.cp.root)) throw new CliError(`stored entries do not match checkpoint ${chosen.cp.size} of ${writer}: the store is inconsistent`, 'ERR_STORE_CORRUPT');
    io.stdout.write(formatTlogProof({ index, proof: tree.inclusionProof(index, chosen.cp.size), checkpoint: chosen.note }));
    return EXIT_OK;
  },
};
