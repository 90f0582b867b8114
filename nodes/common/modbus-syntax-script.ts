// The Modbus syntax module (lib/modbus/syntax.ts: pure, no imports) as a browser script for edit
// dialogs: the dialog validates items, endpoints and options with the very messages the runtime
// gives. A config node registers it once (serveModbusSyntax); the dialog loads
// <script src="redundancy/modbus-syntax.js"> and finds window.RedundancyModbus.parseItem etc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedAPI } from './node-red';

export const MODBUS_SYNTAX_PATH = '/redundancy/modbus-syntax.js';
export const MODBUS_SYNTAX_GLOBAL = 'RedundancyModbus';

let script: string | undefined;

/** The compiled CommonJS module wrapped to define window.RedundancyModbus (no require, no Node globals). */
export function modbusSyntaxScript(): string {
  if (!script) {
    const source = readFileSync(join(__dirname, '..', '..', 'lib', 'modbus', 'syntax.js'), 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
    script = `(function (root) {\n  var exports = {};\n  var module = { exports: exports };\n${source}\n  root.${MODBUS_SYNTAX_GLOBAL} = module.exports;\n})(typeof window !== 'undefined' ? window : globalThis);\n`;
  }
  return script;
}

let served = false;

/** Serves the script to the editor (admin API, read permission), once per runtime. */
export function serveModbusSyntax(RED: RedAPI): void {
  if (served) return;
  served = true;
  RED.httpAdmin.get(MODBUS_SYNTAX_PATH, RED.auth.needsPermission('redundant-pair.read'), (_req: unknown, res: { type(t: string): { send(body: string): void } }) => {
    res.type('application/javascript').send(modbusSyntaxScript());
  });
}
