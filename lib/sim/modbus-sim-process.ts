// A Modbus simulator in its own process: a crash is a real SIGKILL (sockets reset by the kernel,
// the serial side's pty end closed), and a benchmark's device does not share the CPU time of the
// process being measured.
import { join } from 'node:path';
import { type ForkedChild, IpcChild } from './child-ipc';
import type { ModbusSimCommand } from './modbus-sim-child';
import type { ExceptionRule, ModbusSimulatorOptions, SimRequest, SimSide, SimWrite } from './modbus-simulator';

export interface SimEndpoints {
  tcp: string;
  rtuTcp?: string;
  serial?: string;
}

export class ModbusSimulatorProcess extends IpcChild<ModbusSimCommand> {
  readonly endpoints: SimEndpoints;

  private constructor(child: ForkedChild, endpoints: SimEndpoints) {
    super(child);
    this.endpoints = endpoints;
  }

  static async spawn(options: ModbusSimulatorOptions, timeoutMs = 30_000): Promise<ModbusSimulatorProcess> {
    const { child, ready } = await IpcChild.fork<{ endpoints: SimEndpoints }>(join(__dirname, 'modbus-sim-child.js'), options, 'Modbus simulator', timeoutMs);
    return new ModbusSimulatorProcess(child, ready.endpoints);
  }

  requests(): Promise<SimRequest[]> {
    return this.call('getRequests') as Promise<SimRequest[]>;
  }
  writes(): Promise<SimWrite[]> {
    return this.call('getWrites') as Promise<SimWrite[]>;
  }
  clearLog(): Promise<unknown> {
    return this.call('clearLog');
  }
  stall(on: boolean): Promise<unknown> {
    return this.call('stall', on);
  }
  setMaster(on: boolean): Promise<unknown> {
    return this.call('setMaster', on);
  }
  setException(rule: ExceptionRule | undefined): Promise<unknown> {
    return this.call('setException', rule ?? null);
  }
  setSide(side: SimSide, up: boolean): Promise<unknown> {
    return this.call('setSide', { side, up });
  }

  /** Stops the device, then lets the process exit. */
  close(): Promise<void> {
    return this.closeWith('stop');
  }
}
