// helmctl keygen: a new Ed25519 key as a signed-note private key line (mode 0600) plus FILE.pub.
import { randomBytes } from 'node:crypto';
import { ALG_COSIGNATURE_V1, ALG_ED25519, isValidKeyName } from '../../kernel/crypto/keys.js';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { signingKeyFromSeed } from '../../kernel/crypto/signing-key.js';
import { flag, optional, parse, required } from '../args.js';
import { EXIT_OK, UsageError } from '../io.js';
import { writeNew } from '../key-files.js';
import type { Command } from './command.js';

const TYPES = ['log', 'node', 'root', 'exporter', 'witness'] as const;

const NOTES: Record<(typeof TYPES)[number], string> = {
  log: 'signs checkpoints; its name must be the log origin; list it as `log <vkey>` in the trust policy',
  node: 'signs ProofGraph nodes; publish it with `helmctl trust publish`',
  root: 'authorises node keys; list it as `root <vkey>` in the trust policy and keep it offline',
  exporter: 'signs pack manifests; list it as `exporter <vkey>` in the trust policy',
  witness: 'cosigns checkpoints (cosignature/v1); list it as `witness <name> <vkey>` in the trust policy',
};

export const keygen: Command = {
  name: 'keygen',
  usage: 'helmctl keygen --name NAME --out FILE [--type log|node|root|exporter|witness] [--force]',
  async run(argv, io) {
    const p = parse(argv, { name: { type: 'string' }, out: { type: 'string' }, type: { type: 'string' }, force: { type: 'boolean' } }, { min: 0, max: 0 });
    const name = required(p, 'name');
    const out = required(p, 'out');
    const type = (optional(p, 'type') ?? 'node') as (typeof TYPES)[number];
    if (!TYPES.includes(type)) throw new UsageError(`--type must be one of ${TYPES.join(', ')}`);
    if (!isValidKeyName(name)) throw new UsageError(`--name ${JSON.stringify(name)} is not a valid key name (non-empty, no '+', no white space)`);
    const key = signingKeyFromSeed(name, randomBytes(32), nodeSigner, type === 'witness' ? ALG_COSIGNATURE_V1 : ALG_ED25519);
    const force = flag(p, 'force');
    await writeNew(out, key.privateText + '\n', 0o600, force);
    await writeNew(`${out}.pub`, key.verifier.vkey + '\n', 0o644, force);
    io.stdout.write(`${key.verifier.vkey}\n`);
    io.stderr.write(`wrote ${out} (private, mode 0600) and ${out}.pub\n${type} key: ${NOTES[type]}\n`);
    return EXIT_OK;
  },
};
