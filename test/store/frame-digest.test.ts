// The node encoder's entry digest is reused as the record frame hash (one SHA-256 less per node):
// the framed bytes must be exactly those of the documented framing (docs/spec/store.md).
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { encodeEntryRecord, encodeRecord, scanRecords } from '../../kernel/proofgraph/store/codec.js';

describe('entry record framing with a reused digest', () => {
  const entries = [Buffer.from('{"payload":"e30=","payloadType":"x","signatures":[]}'), Buffer.alloc(0), Buffer.alloc(4096, 0x61)];

  it.each(entries.map((e, i) => [i, e] as const))('entry %i: the same bytes as hashing it again, and the RFC 6962 leaf hash', (_i, entry) => {
    const digest = createHash('sha256').update(entry).digest();
    const reused = encodeEntryRecord(entry, digest);
    const fresh = encodeEntryRecord(entry);
    expect(Buffer.compare(reused.record, fresh.record)).toBe(0);
    expect(Buffer.compare(reused.record, encodeRecord(entry))).toBe(0);
    expect(reused.leaf.toString('hex')).toBe(createHash('sha256').update(Buffer.concat([Buffer.from([0]), entry])).digest('hex'));
    const seen: Buffer[] = [];
    expect(scanRecords(reused.record, 0, (p) => seen.push(Buffer.from(p))).problem).toBeNull();
    expect(seen).toEqual([entry]);
  });
});
