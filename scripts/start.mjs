// `npm start`: Node-RED with this package and the demo flow (two embedded OPC UA simulators, a hot
// pair, the dashboard). The user dir lives inside the project (.node-red/, git-ignored).
//   PORT=1890 npm start         another port
//   npm start -- --reset        put the shipped demo flow back (your edits to it are replaced)
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const userDir = join(root, '.node-red');
const reset = process.argv.includes('--reset');
const port = process.env.PORT || '1880';

mkdirSync(join(userDir, 'node_modules'), { recursive: true });
// Node-RED finds packages in <userDir>/node_modules; ours is the project itself. Dashboard 2.0 and
// the e-mail node are found beside node-red in the project's node_modules.
const link = join(userDir, 'node_modules', 'node-red-contrib-redundancy');
let linked = false;
try {
  linked = lstatSync(link).isSymbolicLink();
} catch {
  /* absent */
}
if (!linked) {
  rmSync(link, { recursive: true, force: true });
  symlinkSync(root, link, 'dir');
}
const flows = join(userDir, 'flows.json');
if (reset || !existsSync(flows)) copyFileSync(join(root, 'examples', '12 - Diagnostics to e-mail and dashboard.json'), flows);

const nodeRed = join(root, 'node_modules', 'node-red', 'red.js');
console.log(`Node-RED editor:  http://127.0.0.1:${port}/`);
console.log(`Dashboard:        http://127.0.0.1:${port}/dashboard/redundancy`);
const child = spawn(process.execPath, [nodeRed, '--userDir', userDir, '--port', port, '--settings', join(root, 'scripts', 'demo-settings.cjs'), 'flows.json'], {
  stdio: 'inherit',
  cwd: root,
});
const forward = (sig) => child.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code) => process.exit(code ?? 0));
