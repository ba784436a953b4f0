// The new policy language (exact decimals, path scopes, URL patterns) through a real PEP, a
// ProofGraph pack and policy replay: every recorded decision re-decides identically from its
// stored canonical input, and the pack verifies.
import { nodeSuite } from '../../kernel/crypto/node.js';
import { exportPack } from '../../kernel/evidence/export.js';
import { replayPack } from '../../kernel/evidence/replay.js';
import { parseTrustPolicy } from '../../kernel/evidence/trust-policy.js';
import { verifyPack } from '../../kernel/evidence/verify-core.js';
import type { PolicyBundleDoc } from '../../kernel/guardian/index.js';
import { guardianReplayer } from '../../kernel/pep/index.js';
import { Lab, pepBundle, req, signed } from '../pep/support.js';

function languageBundle(): PolicyBundleDoc {
  return pepBundle((d) => {
    d.destinations = { ...d.destinations, api: ['https://api.example.com/v1/'] };
    d.tools['billing.pay'] = {
      domain: 'billing',
      sideEffect: 'write',
      connectors: ['payments-api'],
      args: {
        type: 'object',
        properties: { amount: { type: 'number', multipleOf: 0.01 }, fee: { type: 'number' }, receipt: { type: 'string' }, callback: { type: 'string' } },
        required: ['amount', 'fee', 'receipt', 'callback'],
      },
      paths: [{ arg: '/receipt', under: ['/workspace'] }],
      destinations: [{ arg: '/callback', kind: 'url', allow: ['api'] }],
    } as PolicyBundleDoc['tools'][string];
    d.rules.push({ id: 'pay-up-to-100', match: { tools: ['billing.pay'] }, when: 'args.amount + args.fee <= 100.00', verdict: 'ALLOW' });
  });
}

const lab = await Lab.create();
afterAll(() => lab.cleanup());
const h = await lab.harness('language', { policy: signed(languageBundle()) });
const pay = (amount: number, fee: number, receipt = '/workspace/r.json', callback = 'https://api.example.com/v1/hook') => req('billing.pay', { amount, fee, receipt, callback }, { connector: 'payments-api' });
const outcomes: Array<{ verdict: string; reasonCode: string }> = [];
for (const r of [pay(99.9, 0.1), pay(99.91, 0.1), pay(12.5, 0.3), pay(0.1 + 0.2, 0), pay(1, 0, '/workspace/../etc/passwd'), pay(1, 0, '/workspace/%2e%2e/x'), pay(1, 0, '/workspace/r', 'https://api.example.com/v2/hook')]) {
  outcomes.push(await h.pep.decide(r));
}
await lab.close();
const { bytes: pack } = await exportPack({ store: lab.root, exporterKey: lab.keys.exporter });

describe('replay of decisions made with decimals, path scopes and URL patterns', () => {
  it('records the expected verdicts', () => {
    expect(outcomes.map((o) => `${o.verdict} ${o.reasonCode}`)).toEqual([
      'ALLOW ALLOWED',
      'DENY MISSING_REQUIREMENT',
      'ALLOW ALLOWED',
      'DENY DECIMAL_PRECISION_EXCEEDED',
      'DENY PATH_OUTSIDE_SCOPE',
      'DENY PATH_UNSAFE',
      'DENY DATA_EGRESS_BLOCKED',
    ]);
  });

  it('replays every decision identically and the pack verifies', async () => {
    const r = replayPack(pack, { suite: nodeSuite, decisions: guardianReplayer({ suite: nodeSuite }) });
    expect(r.problems).toEqual([]);
    expect(r.decisions).toMatchObject({ decisions: 7, identical: 7, diverged: 0, skipped: 0 });
    expect((await verifyPack(pack, parseTrustPolicy(lab.policyText(), 'lab.policy'), { suite: nodeSuite })).ok).toBe(true);
  });
});
