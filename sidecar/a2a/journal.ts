// What the A2A surface must not forget across a restart (docs/spec/a2a.md §3, §9): the nonces it
// accepted while their requests can still be fresh, and the calls allowed under each delegation
// token until the token expires. One JSON line per fact, appended and fdatasync'ed BEFORE the
// call is decided (write-ahead), in a file beside the ProofGraph logs: a crash can only make the
// sidecar remember a use that was then denied, never forget one it allowed. At start the file is
// read, expired facts are dropped, and it is rewritten with the live ones.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { NonceStore } from '../../kernel/a2a/nonces.js';
import type { Bound } from './task.js';

type Fact = { nonce: [caller: string, nonce: string, expiresAtMs: number] } | { use: string; exp: number; d: number } | { task: string; bound: Bound };

export interface JournalState {
  nonces: Array<[string, string, number]>;
  /** jti → [uses, expMs]. */
  uses: Map<string, [number, number]>;
  /** Task bindings (docs/spec/a2a.md §9) whose token has not expired. */
  tasks: Map<string, Bound>;
}

function readFacts(file: string): Fact[] {
  if (!existsSync(file)) return [];
  const out: Fact[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as Fact);
    } catch {
      // A torn last line (a crash mid-append) was never acknowledged: its call was not decided.
    }
  }
  return out;
}

export class A2aJournal {
  private tail: Promise<void> = Promise.resolve();
  private failed: Error | null = null;

  private constructor(
    private readonly file: string,
    private readonly handle: Promise<FileHandle>,
  ) {}

  /** Reads the live facts and compacts the file; call at start, before anything is served. */
  static open(file: string, nowMs: number): { journal: A2aJournal; state: JournalState } {
    const state: JournalState = { nonces: [], uses: new Map(), tasks: new Map() };
    for (const f of readFacts(file)) {
      if ('nonce' in f && Array.isArray(f.nonce) && f.nonce[2] > nowMs) state.nonces.push(f.nonce);
      if ('use' in f && typeof f.use === 'string' && f.exp > nowMs) {
        const [n] = state.uses.get(f.use) ?? [0, f.exp];
        state.uses.set(f.use, [Math.max(0, n + (Number.isSafeInteger(f.d) ? f.d : 1)), f.exp]);
      }
      if ('task' in f && typeof f.task === 'string' && typeof f.bound?.expMs === 'number' && f.bound.expMs > nowMs) state.tasks.set(f.task, f.bound);
    }
    const live = [...state.nonces.map((n) => ({ nonce: n })), ...[...state.tasks].map(([task, bound]) => ({ task, bound })), ...[...state.uses].map(([use, [n, exp]]) => ({ use, exp, d: n }))];
    const fd = openSync(`${file}.tmp`, 'w', 0o600);
    try {
      writeFileSync(fd, live.map((f) => `${JSON.stringify(f)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${file}.tmp`, file);
    return { journal: new A2aJournal(file, open(file, 'a')), state };
  }

  /** Appends a fact; durable() resolves once it and every earlier one are on disk. */
  record(f: Fact): void {
    const line = `${JSON.stringify(f)}\n`;
    this.tail = this.tail.then(async () => {
      if (this.failed) return;
      try {
        const h = await this.handle;
        await h.appendFile(line);
        await h.datasync();
      } catch (e) {
        this.failed = new Error(`A2A journal ${this.file}: ${(e as Error).message}`);
      }
    });
  }

  /** Rejects when a write failed: the caller must then deny (fail closed). */
  async durable(): Promise<void> {
    await this.tail;
    if (this.failed) throw this.failed;
  }

  async close(): Promise<void> {
    await this.tail;
    await (await this.handle).close();
  }
}

/** A nonce store that journals every nonce it accepts. */
export class JournaledNonceStore implements NonceStore {
  constructor(
    private readonly inner: NonceStore,
    private readonly journal: A2aJournal,
  ) {}

  seen(caller: string, nonce: string, expiresAtMs: number, nowMs: number): boolean {
    const was = this.inner.seen(caller, nonce, expiresAtMs, nowMs);
    if (!was) this.journal.record({ nonce: [caller, nonce, expiresAtMs] });
    return was;
  }
}
