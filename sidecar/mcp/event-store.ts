// Resumable SSE for one Streamable HTTP session: every message the gateway sends on a stream gets
// an event id `<stream>:<seq>`; a client that reconnects with Last-Event-ID gets the rest of that
// stream. Bounded (the oldest events go first), in memory: a session does not outlive its process.
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

export class BoundedEventStore implements EventStore {
  private readonly events = new Map<EventId, { stream: StreamId; message: JSONRPCMessage }>();
  private seq = 0;

  constructor(private readonly maxEvents = 1000) {}

  async storeEvent(stream: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${stream}:${(this.seq += 1)}`;
    this.events.set(id, { stream, message });
    if (this.events.size > this.maxEvents) this.events.delete(this.events.keys().next().value!);
    return id;
  }

  async getStreamIdForEventId(id: EventId): Promise<StreamId | undefined> {
    return this.events.get(id)?.stream;
  }

  async replayEventsAfter(last: EventId, { send }: { send: (id: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const from = this.events.get(last);
    if (!from) throw new Error(`event ${last} is unknown or expired: reconnect without Last-Event-ID`);
    let after = false;
    for (const [id, e] of this.events) {
      if (id === last) after = true;
      else if (after && e.stream === from.stream) await send(id, e.message);
    }
    return from.stream;
  }
}
