// Example flows as tests load them: their embedded simulators and gateways (and every URL naming
// them) moved to free ports, so examples and tests never collide with each other or with a running demo.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';

export type FlowNode = Record<string, unknown>;

export const EXAMPLES_DIR = join(__dirname, '..', '..', '..', 'examples');

export function readExample(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as FlowNode[];
}

export async function onFreePorts(flow: FlowNode[]): Promise<FlowNode[]> {
  const ports = new Map<number, number>();
  const listening = new Set(['opcua-simulator', 'redundancy-gateway', 'modbus-simulator']);
  for (const n of flow) if (listening.has(n.type as string)) ports.set(Number(n.port), await freePort());
  for (const n of flow) if (n.type === 'modbus-simulator' && n.rtuTcpPort) ports.set(Number(n.rtuTcpPort), await freePort());
  const text = JSON.stringify(flow).replace(/(127\.0\.0\.1:)(\d+)/g, (_m, host: string, port: string) => `${host}${ports.get(Number(port)) ?? port}`);
  return (JSON.parse(text) as FlowNode[]).map((n) => {
    if (!listening.has(n.type as string)) return n;
    return { ...n, port: ports.get(Number(n.port)), ...(n.type === 'modbus-simulator' && n.rtuTcpPort ? { rtuTcpPort: ports.get(Number(n.rtuTcpPort)) } : {}) };
  });
}
