// Free TCP ports on loopback, never fixed ones. They are drawn below the kernel's ephemeral range
// (where listen(0) would take them), so an outgoing connection cannot grab one between this check
// and the server's own listen; and none is handed out twice in a process.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    /* not Linux */
  }
  return 32_768;
}

const LOW = 10_000;
const HIGH = ephemeralStart() - 1;
/**
 * Ports that fetch() (undici, the WHATWG "bad port" list) and Chromium refuse to connect to, in the
 * range drawn from: a Node-RED on 10080 never answers a test's fetch or browser (seen in CI).
 */
const REFUSED_BY_CLIENTS = new Set([10080]);

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port) || REFUSED_BY_CLIENTS.has(port)) continue;
    // node-opcua listens on all interfaces: check both.
    if ((await canListen(port, '127.0.0.1')) && (await canListen(port, '::').catch(() => true))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free TCP port found');
}
