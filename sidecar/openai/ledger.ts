// The tool calls this proxy has decided, by (principal, tool_call id): a role:"tool" message is
// accepted only as the answer to a call the kernel ALLOWED for the same principal, and its RESULT
// is recorded once (the agent re-sends the whole conversation on every turn). The ledger lives in
// memory and is bounded (20,000 calls, oldest first out): after a restart, or once an id has been
// evicted, an answer to it is refused as unknown (fail closed; the agent starts a new turn).
import type { HashRef } from '../../kernel/contracts/node.js';
import type { Verdict } from '../../kernel/guardian/reason-codes.js';

export interface RecordedResult {
  /** SHA-256 of the tool message content as the agent sent it. */
  readonly digest: string;
  readonly node: HashRef;
  readonly lamport: number;
  /** The output drifted from the pinned schema: it must never reach the model. */
  readonly rejected: boolean;
  readonly detail?: string;
}

export interface LedgerEntry {
  readonly callId: string;
  readonly tool: string;
  readonly verdict: Verdict;
  readonly decision: HashRef;
  effect: HashRef | null;
  /** This proxy holds the decision's claim (Pep.claim): it records the execution the agent reports. */
  claimed?: boolean;
  result: RecordedResult | null;
  /** A result being recorded: a concurrent request with the same answer waits for it. */
  pending: Promise<unknown> | null;
}

const RESERVED = 'reserved' as const;

export class ToolCallLedger {
  private readonly entries = new Map<string, LedgerEntry | typeof RESERVED>();

  constructor(private readonly max = 20_000) {}

  private key(principal: string, id: string): string {
    return JSON.stringify([principal, id]);
  }

  /** Claims an id before its decision; false when the id is already taken (a duplicate). */
  reserve(principal: string, id: string): boolean {
    const k = this.key(principal, id);
    if (this.entries.has(k)) return false;
    this.entries.set(k, RESERVED);
    this.trim();
    return true;
  }

  private trim(): void {
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  settle(principal: string, id: string, e: LedgerEntry): void {
    // An id evicted while its decision was made comes back as newest; the cap still holds.
    this.entries.set(this.key(principal, id), e);
    this.trim();
  }

  /** Frees an id whose decision was never recorded (so it never reached the agent). */
  release(principal: string, id: string): void {
    const k = this.key(principal, id);
    if (this.entries.get(k) === RESERVED) this.entries.delete(k);
  }

  /** The decided call, or null when the id is unknown or its decision is still being made. */
  get(principal: string, id: string): LedgerEntry | null {
    const e = this.entries.get(this.key(principal, id));
    return e === undefined || e === RESERVED ? null : e;
  }

  get size(): number {
    return this.entries.size;
  }
}
