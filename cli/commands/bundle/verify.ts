// helmctl bundle verify FILE --signature SIG --trust-root VKEY...: the PEP's own check (hash,
// revocation, trust root, Ed25519), then lint. Exit 0 valid, 1 refused (with the reason code
// every call would be denied with), 2 usage.
import { nodeSuite } from '../../../kernel/crypto/node.js';
import { loadPolicy } from '../../../kernel/guardian/index.js';
import { flag, parse } from '../../args.js';
import { EXIT_INVALID, EXIT_OK, UsageError, type Io } from '../../io.js';
import { loadVerifierKey } from '../../key-files.js';
import { pretty, readBundle, readSignature } from './files.js';

export const USAGE = 'helmctl bundle verify FILE --signature SIG_FILE --trust-root VKEY|FILE [--trust-root ...] [--revoked HANDLE ...] [--json]';

export async function verifyCmd(argv: readonly string[], io: Io): Promise<number> {
  const p = parse(argv, { signature: { type: 'string' }, 'trust-root': { type: 'string', multiple: true }, revoked: { type: 'string', multiple: true }, json: { type: 'boolean' } }, { min: 1, max: 1 });
  const roots = (p.values['trust-root'] as string[] | undefined) ?? [];
  if (roots.length === 0) throw new UsageError('--trust-root is required (a vkey or a file holding one)');
  const sigPath = p.values.signature;
  if (typeof sigPath !== 'string' || sigPath === '') throw new UsageError('--signature is required');
  const revoked = (p.values.revoked as string[] | undefined) ?? [];
  const trust = { roots: await Promise.all(roots.map((r) => loadVerifierKey(r, 'trust root'))), revoked };
  const b = await readBundle(p.positionals[0]!);
  const policy = b.ok ? loadPolicy({ bundle: b.doc, signature: await readSignature(sigPath) }, trust, nodeSuite) : null;
  const result =
    policy === null
      ? { valid: false, reasonCode: 'BUNDLE_INVALID', message: b.ok ? '' : b.message, contentHash: null }
      : policy.status === 'ready'
        ? { valid: true, contentHash: policy.bundle.contentHash, signer: policy.signer?.handle ?? null }
        : { valid: false, reasonCode: policy.reasonCode, message: policy.message, contentHash: policy.policyDigest };
  if (flag(p, 'json')) io.stdout.write(pretty(result));
  else if (result.valid) io.stdout.write(`VALID: ${result.contentHash} signed by ${'signer' in result ? result.signer : ''}\n`);
  else io.stdout.write(`INVALID: ${'reasonCode' in result ? result.reasonCode : ''}: ${'message' in result ? result.message : ''}\n`);
  return result.valid ? EXIT_OK : EXIT_INVALID;
}
