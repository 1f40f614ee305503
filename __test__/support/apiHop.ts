import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that passed the hop: when it arrived and when its answer was complete. */
export interface HopRequest {
  path: string;
  start: number;
  end: number;
  status: number;
}

/**
 * An HTTP hop in front of the OpenChoreo stand-in that records every request it passes
 * on (path, start, end). One hop per backend slot gives each process's API traffic its
 * own timeline: which process was walking pages, and when, without asking the engine.
 * Its port stays the same across restarts, so a restarted backend has the same config.
 */
export class ApiHop {
  readonly requests: HopRequest[] = [];

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(target: string): Promise<ApiHop> {
    const upstream = new URL(target);
    let hop!: ApiHop;
    const server = http.createServer((req, res) => {
      const record: HopRequest = { path: req.url ?? '', start: Date.now(), end: 0, status: 0 };
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        answer => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            record.end = Date.now();
            record.status = answer.statusCode ?? 0;
            hop.requests.push(record);
          });
        },
      );
      forward.on('error', () => {
        // The stand-in went away (end of test) or the caller was killed mid-request.
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(forward);
    });
    // A killed backend leaves half-open sockets; they must not keep the hop alive.
    server.keepAliveTimeout = 2000;
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    hop = new ApiHop(server, `http://127.0.0.1:${port}`);
    return hop;
  }

  /** Requests of the ingestion walk: the module's start-up probe (`limit=1`) is not one. */
  walkRequests(): HopRequest[] {
    return this.requests.filter(r => !/[?&]limit=1(&|$)/.test(r.path));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}
