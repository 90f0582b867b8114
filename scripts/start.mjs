// `npm start`: Node-RED with this package and the demo flow (two embedded OPC UA simulators, a hot
// pair, the dashboard). The user dir lives inside the project (.node-red/, git-ignored).
//   PORT=1890 npm start         another port
//   npm start -- --reset        put the shipped demo flow back (your edits to it are replaced)
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { demoSettings, linkPackage, nodeRedJs, root } from './user-dir.mjs';

const userDir = join(root, '.node-red');
const reset = process.argv.includes('--reset');
const port = process.env.PORT || '1880';

linkPackage(userDir);
const flows = join(userDir, 'flows.json');
if (reset || !existsSync(flows)) copyFileSync(join(root, 'examples', '12 - Diagnostics to e-mail and dashboard.json'), flows);

console.log(`Node-RED editor:  http://127.0.0.1:${port}/`);
console.log(`Dashboard:        http://127.0.0.1:${port}/dashboard/redundancy`);
const child = spawn(process.execPath, [nodeRedJs, '--userDir', userDir, '--port', port, '--settings', demoSettings, 'flows.json'], {
  stdio: 'inherit',
  cwd: root,
});
const forward = (sig) => child.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code) => process.exit(code ?? 0));
