// An OPC UA simulator in its own process (see child-ipc.ts).
import { join } from 'node:path';
import { type ForkedChild, IpcChild } from './child-ipc';
import type { SimulatorOptions } from './opcua-simulator';
import type { SimCommand } from './sim-child';

export class SimulatorProcess extends IpcChild<SimCommand> {
  readonly endpointUrl: string;

  private constructor(child: ForkedChild, endpointUrl: string) {
    super(child);
    this.endpointUrl = endpointUrl;
  }

  static async spawn(options: SimulatorOptions, timeoutMs = 30_000): Promise<SimulatorProcess> {
    const { child, ready } = await IpcChild.fork<{ endpointUrl: string }>(join(__dirname, 'sim-child.js'), options, 'simulator', timeoutMs);
    return new SimulatorProcess(child, ready.endpointUrl);
  }

  /** Graceful: stop the server, then let the process exit. */
  close(): Promise<void> {
    return this.closeWith('stop', false);
  }
}
