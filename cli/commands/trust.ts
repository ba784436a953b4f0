// helmctl trust publish|rotate|revoke: root-signed key events (DSSE envelopes) for `trust` nodes.
// PUBLISH is signed by the root and the published key (proof of possession); ROTATE by the root,
// the old and the new key; REVOKE by the root alone.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { jcsString } from '../../kernel/crypto/jcs.js';
import type { SigningKey } from '../../kernel/crypto/signing-key.js';
import { formatTime } from '../../kernel/proofgraph/clock.js';
import { signKeyEvent, TrustError, type KeyEvent } from '../../kernel/trust/events.js';
import { parseSelectionTime } from '../../kernel/evidence/selection-time.js';
import { flag, nonNegativeInt, optional, parse, required, type Parsed } from '../args.js';
import { CliError, EXIT_OK, UsageError } from '../io.js';
import { loadSigningKey, loadVerifierKey, writeNew } from '../key-files.js';
import type { Command } from './command.js';

const OPTIONS = {
  'root-key': { type: 'string' },
  key: { type: 'string' },
  'new-key': { type: 'string' },
  origin: { type: 'string' },
  'from-index': { type: 'string' },
  reason: { type: 'string' },
  'issued-at': { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  purpose: { type: 'string' },
} as const;

function issuedAt(p: Parsed): string {
  const t = optional(p, 'issued-at');
  if (t === undefined) return formatTime(Date.now());
  try {
    return formatTime(parseSelectionTime(t, '--issued-at'));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function build(action: string, p: Parsed): Promise<{ event: KeyEvent; signers: SigningKey[] }> {
  const root = await loadSigningKey(required(p, 'root-key'), 'root key');
  const origin = required(p, 'origin');
  const fromIndex = nonNegativeInt(required(p, 'from-index'), '--from-index');
  const reason = optional(p, 'reason');
  const purpose = optional(p, 'purpose') ?? 'node';
  if (purpose !== 'node' && purpose !== 'log') throw new UsageError('--purpose must be node or log');
  if (purpose === 'log' && action !== 'publish') throw new UsageError('--purpose log is only for trust publish (a log-key certification)');
  const common = { purpose: purpose as 'node' | 'log', origin, fromIndex, issuedAt: issuedAt(p), ...(reason !== undefined ? { reason } : {}) };
  switch (action) {
    case 'publish': {
      const key = await loadSigningKey(required(p, 'key'), 'node key (private: KEY_PUBLISH is signed by the key it publishes)');
      return { event: { event: 'KEY_PUBLISH', key: key.verifier.vkey, ...common }, signers: [root, key] };
    }
    case 'rotate': {
      const old = await loadSigningKey(required(p, 'key'), 'old node key (private)');
      const next = await loadSigningKey(required(p, 'new-key'), 'new node key (private)');
      return { event: { event: 'KEY_ROTATE', key: old.verifier.vkey, newKey: next.verifier.vkey, ...common }, signers: [root, old, next] };
    }
    case 'revoke': {
      const key = await loadVerifierKey(required(p, 'key'), 'revoked key');
      return { event: { event: 'KEY_REVOKE', key: key.vkey, ...common }, signers: [root] };
    }
    default:
      throw new UsageError(`unknown trust action ${JSON.stringify(action)}`);
  }
}

export const trust: Command = {
  name: 'trust',
  usage: [
    'helmctl trust publish --root-key ROOT_KEY --key NODE_KEY --origin ORIGIN --from-index N --out FILE [--reason R] [--issued-at T] [--force]',
    'helmctl trust publish --purpose log --root-key ROOT_KEY --key LOG_KEY --origin ORIGIN --from-index 0 --out FILE   (certifies a log key: a trust-policy root line then trusts it)',
    'helmctl trust rotate  --root-key ROOT_KEY --key OLD_NODE_KEY --new-key NEW_NODE_KEY --origin ORIGIN --from-index N --out FILE [...]',
    'helmctl trust revoke  --root-key ROOT_KEY --key VKEY|FILE --origin ORIGIN --from-index N --out FILE [--reason R] [...]',
  ].join('\n'),
  async run(argv, io) {
    const p = parse(argv, OPTIONS, { min: 1, max: 1 });
    const action = p.positionals[0]!;
    if (!['publish', 'rotate', 'revoke'].includes(action)) throw new UsageError(`unknown trust action ${JSON.stringify(action)} (publish, rotate or revoke)`);
    const out = required(p, 'out');
    if (action !== 'rotate' && optional(p, 'new-key') !== undefined) throw new UsageError('--new-key is only for trust rotate');
    const { event, signers } = await build(action, p);
    let envelope;
    try {
      envelope = signKeyEvent(nodeSuite, event, signers);
    } catch (e) {
      if (e instanceof TrustError) throw new CliError(e.message, e.code);
      throw e;
    }
    await writeNew(out, jcsString(envelope) + '\n', 0o644, flag(p, 'force'));
    io.stdout.write(`wrote ${out}: ${event.event} ${event.newKey ?? event.key} for ${event.origin} from index ${event.fromIndex}, signed by ${signers.map((s) => s.verifier.handle).join(', ')}\n`);
    return EXIT_OK;
  },
};
