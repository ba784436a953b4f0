// Leaves of the fleet log (docs/fleet.md §Fleet log): JCS JSON objects, one per event. The fleet
// log is itself a tlog-tiles log; its leaves say which writers existed (OPEN/CLOSED), which
// writer checkpoints the collector cosigned, and which writers it caught equivocating.
import { fromUtf8 } from '../crypto/bytes.js';
import { jcs } from '../crypto/jcs.js';

export interface WriterOpen {
  kind: 'WRITER_OPEN';
  origin: string;
  namespace: string;
  /** vkey of the writer's log key, certified by the trust root. */
  logKey: string;
  /** The root-signed trust event (KEY_PUBLISH, purpose log) that certified it. */
  certification: unknown;
  /** Collector clock, ms since the epoch. */
  time: number;
}

export interface WriterCheckpoint {
  kind: 'CHECKPOINT';
  origin: string;
  size: number;
  /** The writer's signed note with the collector's cosignature line. */
  note: string;
  time: number;
}

export interface WriterClosed {
  kind: 'WRITER_CLOSED';
  origin: string;
  size: number;
  time: number;
}

export interface Equivocation {
  kind: 'EQUIVOCATION';
  origin: string;
  /** Key of the evidence object (two signed, inconsistent checkpoints) in the locked bucket. */
  evidence: string;
  time: number;
}

export type FleetEvent = WriterOpen | WriterCheckpoint | WriterClosed | Equivocation;

export function encodeFleetEvent(e: FleetEvent): Uint8Array {
  return jcs(e);
}

export class FleetEventError extends Error {
  readonly code = 'ERR_FLEET_EVENT';
}

export function decodeFleetEvent(bytes: Uint8Array): FleetEvent {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new FleetEventError('fleet leaf is not JSON');
  }
  const e = v as Partial<FleetEvent> | null;
  const str = (x: unknown): boolean => typeof x === 'string' && x !== '';
  const int = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!e || typeof e !== 'object' || !str(e.origin) || !int(e.time)) throw new FleetEventError('fleet leaf needs origin and time');
  switch (e.kind) {
    case 'WRITER_OPEN':
      if (str(e.namespace) && str(e.logKey)) return e as WriterOpen;
      break;
    case 'CHECKPOINT':
      if (int(e.size) && str(e.note)) return e as WriterCheckpoint;
      break;
    case 'WRITER_CLOSED':
      if (int(e.size)) return e as WriterClosed;
      break;
    case 'EQUIVOCATION':
      if (str(e.evidence)) return e as Equivocation;
      break;
  }
  throw new FleetEventError(`fleet leaf of kind ${JSON.stringify(e.kind)} is malformed`);
}
