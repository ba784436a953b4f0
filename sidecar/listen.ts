// Binding and closing the two listeners.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from './config/values.js';
import { SidecarError } from './errors.js';

/** Listens on host:port (port 0: any free port) and returns the base URL actually bound. */
export function listen(server: Server, hp: HostPort, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(new SidecarError('ERR_SIDECAR_LISTEN', `cannot listen on ${hp.host}:${hp.port} (${what}): ${e.message}`, { host: hp.host, port: hp.port, errno: e.code }));
    server.once('error', onError);
    server.listen(hp.port, hp.host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolve(`http://${host}:${a.port}`);
    });
  });
}

/** Stops accepting connections and resolves once every connection is gone. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
