// An in-process loopback TCP proxy for fault injection (tc netem is not available here, and this
// needs no root): pass, reset (TCP RST on every connection), blackhole (sockets stay open, bytes
// vanish both ways: a silently dead link) and delay (each chunk forwarded late, order kept).
// Works for any TCP protocol: OPC UA, Modbus TCP.
import { type Server, type Socket, connect, createServer } from 'node:net';

export type FaultMode = 'pass' | 'reset' | 'blackhole' | 'delay';

interface Link {
  client: Socket;
  upstream: Socket;
}

export class FaultProxy {
  private links = new Set<Link>();
  private timers = new Set<NodeJS.Timeout>();
  private currentMode: FaultMode = 'pass';
  private delayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static start(targetHost: string, targetPort: number, listenPort = 0): Promise<FaultProxy> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : listenPort;
        resolve(new FaultProxy(server, port, targetHost, targetPort));
      });
    });
  }

  get mode(): FaultMode {
    return this.currentMode;
  }

  /** The same URL with host:port replaced by the proxy's. */
  rewrite(url: string): string {
    return url.replace(/^([a-z.]+:\/\/)[^/:]+(:\d+)?/i, `$1127.0.0.1:${this.port}`);
  }

  setMode(mode: FaultMode, delayMs = 0): void {
    this.currentMode = mode;
    this.delayMs = delayMs;
    if (mode === 'reset') {
      for (const link of this.links) this.reset(link);
    }
  }

  connectionCount(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.currentMode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const link: Link = { client, upstream };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk) => this.forward(link, chunk, upstream));
    upstream.on('data', (chunk) => this.forward(link, chunk, client));
    const drop = () => {
      if (!this.links.delete(link)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  }

  private forward(link: Link, chunk: Buffer, to: Socket): void {
    switch (this.currentMode) {
      case 'pass':
        if (!to.destroyed) to.write(chunk);
        break;
      case 'blackhole':
        break;
      case 'delay': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!to.destroyed) to.write(chunk);
        }, this.delayMs);
        this.timers.add(t);
        break;
      }
      case 'reset':
        this.reset(link);
        break;
    }
  }

  private reset(link: Link): void {
    this.links.delete(link);
    if (!link.client.destroyed) link.client.resetAndDestroy();
    if (!link.upstream.destroyed) link.upstream.resetAndDestroy();
  }
}
