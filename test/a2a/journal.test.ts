// The A2A state journal (sidecar/a2a/journal.ts, docs/spec/a2a.md §3, §9): what it remembers
// across a reopen, what it forgets (expired facts, a torn last line) and that it compacts.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryNonceStore } from '../../kernel/a2a/nonces.js';
import { A2aJournal, JournaledNonceStore } from '../../sidecar/a2a/journal.js';
import { DelegationLedger, type Bound } from '../../sidecar/a2a/task.js';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helm-a2a-journal-'));
  file = join(dir, 'w.a2a-state.jsonl');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const bound = (expMs: number): Bound => ({ decision: { origin: 'helm.test/b', index: 3, hash: `sha256:${'aa'.repeat(32)}`, lamport: 4 }, caller: 'agent-a', jti: 'jti-1', expMs, tools: ['crm.*'], budget: 5 });

describe('A2A state journal', () => {
  test('nonces, token uses and task bindings survive a reopen; expired ones and a torn line do not; the file is compacted', async () => {
    const { journal } = A2aJournal.open(file, NOW);
    const nonces = new JournaledNonceStore(new MemoryNonceStore(), journal);
    expect(nonces.seen('k1', 'n-live', NOW + 60_000, NOW)).toBe(false);
    expect(nonces.seen('k1', 'n-live', NOW + 60_000, NOW)).toBe(true);
    nonces.seen('k1', 'n-old', NOW + 1_000, NOW);
    const ledger = new DelegationLedger();
    ledger.attach(journal, { nonces: [], uses: new Map(), tasks: new Map() });
    expect(ledger.reserve('jti-1', NOW + 600_000, NOW)).toBe(0);
    expect(ledger.reserve('jti-1', NOW + 600_000, NOW)).toBe(1);
    expect(ledger.reserve('jti-1', NOW + 600_000, NOW)).toBe(2);
    ledger.release('jti-1');
    ledger.reserve('jti-gone', NOW + 1_000, NOW);
    ledger.bind('sha256:task', bound(NOW + 600_000));
    ledger.bind('sha256:old', bound(NOW + 1_000));
    await ledger.durable();
    await journal.close();
    await appendFile(file, '{"use":"jti-1","exp":');

    const later = NOW + 10_000;
    const { journal: j2, state } = A2aJournal.open(file, later);
    expect(state.nonces).toEqual([['k1', 'n-live', NOW + 60_000]]);
    expect([...state.uses]).toEqual([['jti-1', [2, NOW + 600_000]]]);
    expect([...state.tasks.keys()]).toEqual(['sha256:task']);
    const again = new DelegationLedger();
    again.attach(j2, state);
    expect(again.used('jti-1')).toBe(2);
    expect(again.task('sha256:task')).toEqual(bound(NOW + 600_000));
    await j2.close();
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(3);
  });

  test('a journal that cannot be written makes durable() reject (the caller denies)', async () => {
    const { journal } = A2aJournal.open(file, NOW);
    await journal.close();
    journal.record({ nonce: ['k', 'n', NOW + 1] });
    await expect(journal.durable()).rejects.toThrow(/A2A journal/);
  });
});

describe('delegation token counts at capacity', () => {
  it('never forgets a live token to make room (its budget would come back): a new token is refused (-1) until one expires', () => {
    const ledger = new DelegationLedger(2);
    expect(ledger.reserve('a', NOW + 600_000, NOW)).toBe(0);
    expect(ledger.reserve('b', NOW + 1_000, NOW)).toBe(0);
    expect(ledger.reserve('c', NOW + 600_000, NOW)).toBe(-1);
    expect(ledger.used('a')).toBe(1);
    expect(ledger.reserve('a', NOW + 600_000, NOW)).toBe(1); // a known token still counts
    // Once b has expired its count may go, and c is tracked.
    expect(ledger.reserve('c', NOW + 600_000, NOW + 2_000)).toBe(0);
    expect(ledger.used('b')).toBe(0);
    expect(ledger.used('a')).toBe(2);
  });
});

