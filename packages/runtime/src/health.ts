import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Listen } from './config';

/** What /readyz asks: null when ready, else why not. */
export type ReadinessCheck = () => string | null;

/**
 * Answers /healthz (the process is alive), /readyz (it is connected and consuming: 503 with the
 * reason otherwise) and /metrics (Prometheus text). Returns false for other paths, so a service
 * can mount these on its own server.
 */
export function healthRoutes(registry: Registry, ready: ReadinessCheck): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return true;
    }
    if (path === '/readyz') {
      const why = ready();
      res.writeHead(why === null ? 200 : 503, { 'content-type': 'text/plain' }).end(`${why ?? 'ready'}\n`);
      return true;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
      );
      return true;
    }
    return false;
  };
}

/** A small server of its own for the health routes (parse and detect have no other HTTP). */
export async function startHealthServer(listen: Listen, registry: Registry, ready: ReadinessCheck): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const routes = healthRoutes(registry, ready);
  const server = http.createServer((req, res) => {
    if (!routes(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
