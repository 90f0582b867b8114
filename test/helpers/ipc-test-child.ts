// A child process for the tests of lib/sim/child-ipc.ts: echoes, fails, or never answers.
import { serveIpcChild } from '../../lib/sim/child-ipc';

export type IpcTestCommand = 'echo' | 'fail' | 'never';

if (require.main === module) {
  serveIpcChild<{ greeting: string }, IpcTestCommand>(
    async (options) => ({ state: { greeting: String((options as { greeting?: string }).greeting) }, ready: { pid: process.pid } }),
    {
      echo: (state, arg) => ({ greeting: state.greeting, arg }),
      fail: (_, arg) => {
        throw new Error(`failed: ${String(arg)}`);
      },
      never: () => new Promise(() => undefined),
    },
    async () => undefined,
  );
}
