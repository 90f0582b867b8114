// Compiles the TypeScript and puts the editor files where Node-RED looks for them:
// nodes/<name>.html beside the compiled dist/nodes/<name>.js, message catalogs and help in
// dist/nodes/locales/<lang>/, icons in dist/nodes/icons/.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

if (!existsSync(tsc)) {
  console.error('build: typescript is not installed; run `npm install` first');
  process.exit(1);
}
rmSync(join(dist, 'nodes'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

const nodesOut = join(dist, 'nodes');
mkdirSync(nodesOut, { recursive: true });
for (const f of readdirSync(join(root, 'nodes'))) {
  if (f.endsWith('.html')) cpSync(join(root, 'nodes', f), join(nodesOut, f));
}
cpSync(join(root, 'locales'), join(nodesOut, 'locales'), { recursive: true });
cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });
