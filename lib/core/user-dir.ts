// Where the package keeps its files (certificate stores, SQLite files): the Node-RED user dir.
// The one fallback when none is known (Node-RED embedded without one, a driver or store used on
// its own): Node-RED's own default, ~/.node-red, so the files stay where Node-RED would keep them
// (not a temporary folder that a reboot empties, nor whatever the working directory happens to be).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Node-RED's default user dir. */
function defaultUserDir(): string {
  return join(homedir(), '.node-red');
}

/** The user dir given, or Node-RED's default when it is empty or missing. */
export function resolveUserDir(userDir: string | undefined): string {
  return userDir || defaultUserDir();
}
