// What `npm start` and `npm run start:pair` share: Node-RED finds packages in <userDir>/node_modules;
// this package is the project itself, linked there (Dashboard 2.0 and the e-mail node are found
// beside node-red in the project's node_modules).
import { lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const nodeRedJs = join(root, 'node_modules', 'node-red', 'red.js');
export const demoSettings = join(root, 'scripts', 'demo-settings.cjs');

/** Makes <userDir>/node_modules and links the project into it (a directory left there is replaced). */
export function linkPackage(userDir) {
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
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
}
