// What the simulator nodes (opcua-simulator, modbus-simulator) share: a command is a string
// payload or else the topic; each command runs to its end, then the status shows the simulator's
// state (after a failed command too) and the message is done, with the error if any; on close the
// simulator is released from a stall and stopped.
import type { DoneFn, Node, NodeMessage, SendFn } from './node-red';

/** The command a message names: its payload when a non-empty string, else its topic, trimmed. */
export function simulatorCommand(msg: NodeMessage): string {
  const payload = msg.payload;
  return String(typeof payload === 'string' && payload ? payload : msg.topic ?? '').trim();
}

/** Runs each input through `run`, then `show()` and done (with the error when `run` failed). */
export function onSimulatorInput(node: Node, run: (msg: NodeMessage) => Promise<void>, show: () => void): void {
  node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
    run(msg).then(
      () => {
        show();
        done();
      },
      (err: Error) => {
        show();
        done(err);
      },
    );
  });
}

/** On close: `before()`, the simulator unstalled and stopped; done either way. */
export function onSimulatorClose(node: Node, sim: { stall(on: boolean): void }, stop: () => Promise<void>, before?: () => void): void {
  node.on('close', (_removed, done) => {
    before?.();
    sim.stall(false);
    stop().then(
      () => done(),
      () => done(),
    );
  });
}
