// Mounts the A2A surface on the governed listener (docs/spec/a2a.md §8): /a2a/out/<agent> for
// the agent's outbound calls, /a2a/in for callers (only with a2aAgentUrl).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MemoryNonceStore, type NonceStore } from '../../kernel/a2a/nonces.js';
import { nodeSigner } from '../../kernel/crypto/node.js';
import { signingKeyFromText, type SigningKey } from '../../kernel/crypto/signing-key.js';
import type { Pep } from '../../kernel/pep/index.js';
import type { Principal } from '../config/load.js';
import type { GovernedSurface } from '../governed/handler.js';
import type { Logger } from '../log.js';
import { SidecarError } from '../errors.js';
import type { A2aContext } from './context.js';
import { jsonAnswer } from './http.js';
import { inboundCall, inboundCard } from './inbound.js';
import { outboundCall, outboundCard } from './outbound.js';
import { A2aJournal, JournaledNonceStore } from './journal.js';
import { ledgerOf } from './task.js';

const OUT = /^\/a2a\/out\/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})(\/\.well-known\/agent-card\.json)?$/;
const IN = /^\/a2a\/in(\/\.well-known\/agent-card\.json)?$/;

export interface A2aSurfaceOptions {
  pep: Pep;
  principal: Principal;
  /** This agent's A2A key (loadA2aKey). */
  key: SigningKey;
  agentUrl: string | null;
  log: Logger;
  maxBodyBytes?: number;
  fetchTimeoutMs?: number;
  random?: (n: number) => Uint8Array;
  /** The journal of nonces and token uses (docs/spec/a2a.md §3); absent: kept in memory only. */
  stateFile?: string;
}

/** Reads the A2A key file (PRIVATE+KEY line): at start, before anything is opened. */
export async function loadA2aKey(file: string): Promise<SigningKey> {
  try {
    return signingKeyFromText((await readFile(file, 'utf8')).trim(), nodeSigner);
  } catch (e) {
    throw new SidecarError('ERR_SIDECAR_A2A_KEY', `a2aKey ${file}: ${(e as Error).message} (write one with helmctl keygen)`, { file });
  }
}

export function a2aSurface(o: A2aSurfaceOptions): GovernedSurface {
  const key = o.key;
  const ledger = ledgerOf(o.pep);
  const memory = new MemoryNonceStore();
  let nonces: NonceStore = memory;
  let journal: A2aJournal | null = null;
  if (o.stateFile !== undefined) {
    const nowMs = o.pep.now();
    const opened = openJournal(o.stateFile, nowMs);
    journal = opened.journal;
    for (const [caller, nonce, exp] of opened.state.nonces) memory.seen(caller, nonce, exp, nowMs);
    ledger.attach(journal, opened.state);
    nonces = new JournaledNonceStore(memory, journal);
  }
  const ctx: A2aContext = {
    pep: o.pep,
    principal: o.principal,
    key,
    agentUrl: o.agentUrl?.replace(/\/+$/, '') ?? null,
    nonces,
    nonceJournal: journal,
    ledger,
    random: o.random ?? ((n) => new Uint8Array(randomBytes(n))),
    log: o.log,
    maxBodyBytes: o.maxBodyBytes ?? 4 * 1024 * 1024,
    fetchTimeoutMs: o.fetchTimeoutMs ?? 30_000,
    ownCard: null,
    tasks: new Map(),
  };
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    return p.finally(() => inflight.delete(p));
  };
  o.log.info('A2A surface ready', { key: key.verifier.handle, inbound: ctx.agentUrl !== null });
  return {
    name: 'a2a',
    matches: (path) => path.startsWith('/a2a/'),
    handle: (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const out = OUT.exec(path);
      const inb = IN.exec(path);
      const card = req.method === 'GET';
      if (out && card === (out[2] !== undefined)) return track(card ? outboundCard(ctx, out[1]!, req, res) : outboundCall(ctx, out[1]!, req, res));
      if (inb && ctx.agentUrl !== null && card === (inb[1] !== undefined)) return track(card ? inboundCard(ctx, ctx.agentUrl, req, res) : inboundCall(ctx, ctx.agentUrl, req, res));
      jsonAnswer(res, 404, { error: { code: 'not_found', message: `no A2A route ${req.method} ${path} (GET|POST /a2a/out/<agent>, /a2a/in${ctx.agentUrl === null ? ': inbound needs a2aAgentUrl' : ''})` } });
      return Promise.resolve();
    },
    drain: () => Promise.allSettled([...inflight]).then(() => journal?.close()),
  };
}

function openJournal(file: string, nowMs: number): ReturnType<typeof A2aJournal.open> {
  try {
    return A2aJournal.open(file, nowMs);
  } catch (e) {
    throw new SidecarError('ERR_SIDECAR_A2A_STATE', `A2A state ${file}: ${(e as Error).message} (the sidecar must be able to read and write it; it holds the nonces and token uses a restart must not forget)`, { file });
  }
}
