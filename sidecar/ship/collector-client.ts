// The shipper's side of the collector protocol (docs/fleet.md §Collector API): add-checkpoint is
// c2sp.org/tlog-witness (text body, 409 carries the collector's size); open and close are JSON.
import { formatAddCheckpoint, type AddCheckpointRequest } from '../../kernel/fleet/witness-request.js';

export type AddCheckpointResult =
  | { status: 200; cosignatures: string }
  | { status: 409; size: number }
  | { status: 400 | 403 | 404 | 422 | number; detail: string };

export class CollectorClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 60_000,
  ) {}

  private post(path: string, body: string, type: string): Promise<Response> {
    return fetch(new URL(path, this.url), { method: 'POST', body, headers: { 'content-type': type }, signal: AbortSignal.timeout(this.timeoutMs) });
  }

  async addCheckpoint(r: AddCheckpointRequest): Promise<AddCheckpointResult> {
    const res = await this.post('/add-checkpoint', formatAddCheckpoint(r), 'text/plain; charset=utf-8');
    const text = await res.text();
    if (res.status === 200) return { status: 200, cosignatures: text };
    if (res.status === 409 && /^(0|[1-9][0-9]*)\n?$/.test(text)) return { status: 409, size: Number(text.trim()) };
    return { status: res.status, detail: text };
  }

  async open(body: { origin: string; namespace: string; certification: unknown }): Promise<{ status: number; detail: string }> {
    const res = await this.post('/writer/open', JSON.stringify(body), 'application/json');
    return { status: res.status, detail: await res.text() };
  }

  async close(body: { origin: string; size: number }): Promise<{ status: number; detail: string }> {
    const res = await this.post('/writer/close', JSON.stringify(body), 'application/json');
    return { status: res.status, detail: await res.text() };
  }
}
