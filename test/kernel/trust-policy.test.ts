import { ALG_COSIGNATURE_V1, ALG_ED25519, makeVerifierKey, parseVerifierKey } from '../../kernel/crypto/keys.js';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { describeKeySources, parseTrustPolicy, quorumSatisfied, type TrustPolicy } from '../../kernel/evidence/trust-policy.js';

const pub = (i: number) => nodeSigner(new Uint8Array(32).fill(i + 1)).publicKey;
const logV = (name: string, i: number) => makeVerifierKey(name, pub(i), ALG_ED25519).vkey;
const witV = (name: string, i: number) => makeVerifierKey(name, pub(i), ALG_COSIGNATURE_V1).vkey;

const LOG = logV('helm.example/log', 0);
const W = (i: number) => witV(`w${i}.example`, i);

function syntaxError(text: string): string {
  try {
    parseTrustPolicy(text, 'p.policy');
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ERR_POLICY_SYNTAX');
    return (e as Error).message;
  }
  throw new Error(`policy was accepted:\n${text}`);
}

describe('trust policy: the C2SP example', () => {
  const text = [
    '# HELM trust policy (c2sp.org/tlog-policy + root/exporter)',
    `log ${LOG} https://log.helm.example/`,
    '',
    `witness X1 ${W(1)}`,
    `  witness X2\t${W(2)}   https://w2.example/submit  `,
    `witness X3 ${W(3)}`,
    'group X-witnesses 2 X1 X2 X3',
    '\t# Y: another organisation',
    `witness Y1 ${W(4)}`,
    `witness Y2 ${W(5)}`,
    `witness Y3 ${W(6)}`,
    'group Y-witnesses any Y1 Y2 Y3',
    '   ',
    'group X-and-Y all X-witnesses Y-witnesses',
    'quorum X-and-Y',
    `root ${logV('helm.example/root', 7)}`,
    `exporter ${logV('helm.example/exporter-1', 8)}`,
    `exporter ${logV('helm.example/exporter-2', 9)}`,
  ].join('\n') + '\n';
  let p: TrustPolicy;
  beforeAll(() => {
    p = parseTrustPolicy(text, 'example.policy');
  });

  it('parses logs, witnesses, groups, quorum, root and exporters with their lines', () => {
    expect(p.source).toBe('example.policy');
    expect(p.logs).toEqual([{ key: parseVerifierKey(LOG), line: 2, url: 'https://log.helm.example/' }]);
    expect([...p.witnesses.keys()]).toEqual(['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3']);
    expect(p.witnesses.get('X2')).toEqual({ key: parseVerifierKey(W(2)), line: 5, url: 'https://w2.example/submit' });
    expect(p.witnesses.get('X1')!.url).toBeUndefined();
    expect(p.groups.get('X-witnesses')).toEqual({ threshold: 2, members: ['X1', 'X2', 'X3'], line: 7 });
    expect(p.groups.get('Y-witnesses')).toEqual({ threshold: 1, members: ['Y1', 'Y2', 'Y3'], line: 12 });
    expect(p.groups.get('X-and-Y')).toEqual({ threshold: 2, members: ['X-witnesses', 'Y-witnesses'], line: 14 });
    expect(p.quorum).toBe('X-and-Y');
    expect(p.root?.line).toBe(16);
    expect(p.root?.key.name).toBe('helm.example/root');
    expect(p.exporters.map((e) => [e.key.name, e.line])).toEqual([
      ['helm.example/exporter-1', 17],
      ['helm.example/exporter-2', 18],
    ]);
  });

  it.each([
    [['X1', 'X2', 'Y1'], true],
    [['X1', 'X3', 'Y3'], true],
    [['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3'], true],
    [['X1', 'Y1', 'Y2', 'Y3'], false],
    [['X1', 'X2', 'X3'], false],
    [[], false],
    [['X1', 'X2', 'Y1-typo'], false],
  ])('quorum with cosigners %j is %s', (names, want) => {
    expect(quorumSatisfied(p, new Set(names))).toBe(want);
  });

  it('describes where every trusted key came from', () => {
    const lines = describeKeySources(p);
    expect(lines[0]).toBe(`log key ${parseVerifierKey(LOG).handle}: trust policy example.policy line 2`);
    expect(lines).toContain(`witness Y3 key ${parseVerifierKey(W(6)).handle}: trust policy example.policy line 11`);
    expect(lines).toContain(`root key ${p.root!.key.handle}: trust policy example.policy line 16`);
    expect(lines.at(-1)).toBe(`exporter key ${p.exporters[1]!.key.handle}: trust policy example.policy line 18`);
    expect(lines).toHaveLength(1 + 6 + 1 + 2);
  });
});

describe('trust policy: quorum forms', () => {
  it('quorum none needs no witnesses and no logs', () => {
    const p = parseTrustPolicy('quorum none', 'min.policy');
    expect(p.logs).toEqual([]);
    expect(p.root).toBeNull();
    expect(quorumSatisfied(p, new Set())).toBe(true);
  });

  it('a single witness as quorum', () => {
    const p = parseTrustPolicy(`witness A ${W(1)}\nquorum A\n`, 'one.policy');
    expect(quorumSatisfied(p, new Set(['A']))).toBe(true);
    expect(quorumSatisfied(p, new Set())).toBe(false);
  });

  it('numeric threshold k of n, including k = n', () => {
    const p = parseTrustPolicy(`witness A ${W(1)}\nwitness B ${W(2)}\nwitness C ${W(3)}\ngroup g 3 A B C\nquorum g`, 'k.policy');
    expect(quorumSatisfied(p, new Set(['A', 'B']))).toBe(false);
    expect(quorumSatisfied(p, new Set(['A', 'B', 'C']))).toBe(true);
  });

  it('names are opaque octet strings: "K" and the Kelvin sign are different witnesses', () => {
    const p = parseTrustPolicy(`witness K ${W(1)}\nwitness \u212a ${W(2)}\ngroup both all K \u212a\nquorum both\n`, 'k.policy');
    expect(quorumSatisfied(p, new Set(['K']))).toBe(false);
    expect(quorumSatisfied(p, new Set(['K', '\u212a']))).toBe(true);
  });
});

describe('trust policy: every syntax rule', () => {
  const w3 = `witness A ${W(1)}\nwitness B ${W(2)}\nwitness C ${W(3)}\n`;
  it.each<[string, string, RegExp]>([
    ['unknown keyword', `logs ${LOG}\nquorum none`, /p\.policy:1: unknown keyword "logs"/],
    ['keywords are case-sensitive', `Log ${LOG}\nquorum none`, /p\.policy:1: unknown keyword/],
    ['log without a key', 'log\nquorum none', /p\.policy:1: expected: log <vkey>/],
    ['log with two extra fields', `log ${LOG} https://a https://b\nquorum none`, /p\.policy:1: expected: log/],
    ['log with a cosignature (0x04) key', `log ${W(1)}\nquorum none`, /p\.policy:1: .*type 0x04/],
    ['log key with a wrong key id', `log ${LOG.replace(/\+[0-9a-f]{8}\+/, '+00000000+')}\nquorum none`, /p\.policy:1: log key: verifier key id/],
    ['log key that is not a vkey', 'log 0123456789abcdef\nquorum none', /p\.policy:1: log key/],
    ['duplicate log (same public key under another name)', `log ${LOG}\nlog ${logV('other.example/log', 0)}\nquorum none`, /p\.policy:2: duplicate log: same public key as line 1/],
    ['witness with an Ed25519 (0x01) key', `witness A ${LOG}\nquorum A`, /p\.policy:1: .*type 0x01.*0x04/],
    ['witness without a key', 'witness A\nquorum none', /p\.policy:1: expected: witness <name> <vkey>/],
    ['duplicate witness (same public key under another name)', `witness A ${W(1)}\nwitness B ${witV('renamed.example', 1)}\nquorum A`, /p\.policy:2: duplicate witness: same public key as line 1/],
    ['duplicate witness name', `witness A ${W(1)}\nwitness A ${W(2)}\nquorum A`, /p\.policy:2: witness name "A" is already defined/],
    ['witness named none', `witness none ${W(1)}\nquorum none`, /p\.policy:1: witness name "none" is already defined/],
    ['log key reused as a witness key', `log ${LOG}\nwitness A ${witV('helm.example/log', 0)}\nquorum A`, /p\.policy:2: duplicate witness \(key is also a log key\)/],
    ['witness key reused as a log key', `witness A ${W(1)}\nlog ${logV('w1.example', 1)}\nquorum A`, /p\.policy:2: duplicate log \(key is also a witness key\)/],
    ['group named like a witness', `${w3}group A any B C\nquorum A`, /p\.policy:4: group name "A" is already defined/],
    ['group named none', `${w3}group none any A\nquorum none`, /p\.policy:4: group name "none"/],
    ['group without members', `${w3}group g any\nquorum g`, /p\.policy:4: expected: group .*at least one member/],
    ['group with an undefined member', `${w3}group g any A D\nquorum g`, /p\.policy:4: group g member "D" is not defined/],
    ['group referring to a later name', `witness A ${W(1)}\ngroup g any A B\nwitness B ${W(2)}\nquorum g`, /p\.policy:2: group g member "B" is not defined on an earlier line/],
    ['group referring to itself', `${w3}group g any A g\nquorum g`, /p\.policy:4: group g member "g" is not defined/],
    ['none as a group member', `${w3}group g any A none\nquorum g`, /p\.policy:4: "none" cannot be a group member/],
    ['k = 0', `${w3}group g 0 A B C\nquorum g`, /p\.policy:4: group g threshold 0 is not in 1\.\.3/],
    ['k > n', `${w3}group g 4 A B C\nquorum g`, /p\.policy:4: group g threshold 4 is not in 1\.\.3/],
    ['k not a number', `${w3}group g two A B C\nquorum g`, /p\.policy:4: group g threshold "two"/],
    ['negative k', `${w3}group g -1 A B C\nquorum g`, /p\.policy:4: group g threshold "-1"/],
    ['a member listed twice in one group', `${w3}group g 2 A A B\nquorum g`, /p\.policy:4: "A" is already listed as a group member \(line 4\)/],
    ['a member listed in two groups', `${w3}group g1 any A B\ngroup g2 any A C\ngroup q all g1 g2\nquorum q`, /p\.policy:5: "A" is already listed as a group member \(line 4\)/],
    ['no quorum line', `${w3}group g any A B C\n`, /p\.policy:4: no quorum line/],
    ['two quorum lines', `${w3}quorum A\nquorum B`, /p\.policy:5: second quorum line \(the first is line 4\)/],
    ['two identical quorum lines', 'quorum none\nquorum none', /p\.policy:2: second quorum line/],
    ['quorum naming an undefined name', `${w3}quorum D`, /p\.policy:4: quorum "D" is not a witness or group defined/],
    ['quorum naming a later group', `${w3}quorum g\ngroup g any A`, /p\.policy:4: quorum "g" is not/],
    ['quorum with two names', `${w3}quorum A B`, /p\.policy:4: expected: quorum <name>/],
    ['quorum without a name', 'quorum', /p\.policy:1: expected: quorum <name>/],
    ['carriage return (CRLF file)', 'quorum none\r\n', /p\.policy:1: control character U\+000d/],
    ['NUL', 'quorum none\n#\u0000\n', /p\.policy:2: control character U\+0000/],
    ['DEL in a comment', 'quorum none\n# \u007f\n', /p\.policy:2: control character U\+007f/],
    ['vertical tab as whitespace', 'quorum\u000bnone\n', /p\.policy:1: control character U\+000b/],
    ['form feed', '\u000c\nquorum none\n', /p\.policy:1: control character U\+000c/],
    ['two root lines', `root ${logV('r1.example', 7)}\nroot ${logV('r2.example', 8)}\nquorum none`, /p\.policy:2: second root line \(the first is line 1\)/],
    ['root with a cosignature key', `root ${witV('r.example', 7)}\nquorum none`, /p\.policy:1: root key .* type 0x04/],
    ['root with a URL', `root ${logV('r.example', 7)} https://r\nquorum none`, /p\.policy:1: expected: root <vkey>/],
    ['duplicate exporter', `exporter ${logV('e1.example', 8)}\nexporter ${logV('e2.example', 8)}\nquorum none`, /p\.policy:2: duplicate exporter/],
    ['exporter with a cosignature key', `exporter ${witV('e.example', 8)}\nquorum none`, /p\.policy:1: exporter key .* type 0x04/],
  ])('refuses %s', (_what, text, message) => {
    expect(syntaxError(text)).toMatch(message);
  });

  it('accepts tabs as separators, indented comments, blank lines and a missing final newline', () => {
    const p = parseTrustPolicy(`\t# c\n\n \t \nlog\t${LOG}\t\n  witness\t A ${W(1)}\nquorum\tA`, 'ws.policy');
    expect(p.logs[0]!.line).toBe(4);
    expect(p.witnesses.get('A')!.line).toBe(5);
    expect(p.quorum).toBe('A');
  });

  it('allows non-ASCII in comments, names and URLs', () => {
    const p = parseTrustPolicy(`# Zeugen für die Prüfung\nwitness zürich ${W(1)} https://zürich.example/\nquorum zürich\n`, 'utf8.policy');
    expect(p.witnesses.get('zürich')!.url).toBe('https://zürich.example/');
  });

  it('a `#` after fields is not a comment', () => {
    expect(syntaxError(`log ${LOG} # the log\nquorum none`)).toMatch(/p\.policy:1: expected: log/);
  });

  it('accepts a vkey whose key material contains "+"', () => {
    // Seed 8 gives a public key whose base64 contains '+'. Go's note.NewVerifier splits a vkey at
    // the first two '+' only; a parser that split on every '+' would refuse about half of all keys.
    const vkey = makeVerifierKey('w8.example', nodeSigner(new Uint8Array(32).fill(8)).publicKey, ALG_COSIGNATURE_V1).vkey;
    expect(vkey.split('+').length).toBeGreaterThan(3);
    const p = parseTrustPolicy(`witness A ${vkey}\nquorum A\n`, 'plus.policy');
    expect(p.witnesses.get('A')!.key.vkey).toBe(vkey);
  });
});
