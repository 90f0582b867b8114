// The small part of Node-RED's runtime API these nodes use, typed for `strict` (Node-RED ships no
// types of its own and @types/node-red lags the 4.x/5.x runtime).
import { resolveUserDir } from '../../lib/core/user-dir';
import { shortText } from '../../lib/rules/text';

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null) => void;
export type DoneFn = (err?: Error) => void;

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  error(err: unknown, msg?: NodeMessage): void;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface RedAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    getNode(id: string): Node | null;
    getCredentials?(id: string): Record<string, string | undefined> | undefined;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    registerType(type: string, ctor: (this: any, def: NodeDef) => void, opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> }): void;
  };
  settings: { userDir?: string; [key: string]: unknown };
  httpAdmin: {
    get(path: string, ...handlers: unknown[]): void;
    post(path: string, ...handlers: unknown[]): void;
  };
  auth: { needsPermission(permission: string): unknown };
  _(key: string, subs?: Record<string, unknown>): string;
  log: { info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void; debug(m: unknown): void };
}

/** Where the package keeps its files: Node-RED's user dir, with the one fallback (lib/core/user-dir.ts). */
export function userDirOf(RED: RedAPI): string {
  return resolveUserDir(RED.settings.userDir);
}

/** Reads a numeric property from an editor config, with a default for empty values. */
export function numberProp(def: NodeDef, key: string, fallback: number): number {
  const raw = def[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  return Number(raw);
}

export function boolProp(def: NodeDef, key: string, fallback: boolean): boolean {
  const raw = def[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  return raw === true || raw === 'true';
}

/**
 * node.status for statuses set on every check or event: only a change is sent (each call goes to
 * every open editor), and the text through the one status helper (one length, cut at a word).
 */
export function statusSetter(node: Node): (status: NodeStatus) => void {
  let last = '';
  return (status) => {
    const text = status.text === undefined ? undefined : shortText(status.text);
    const key = `${status.fill}|${status.shape}|${text}`;
    if (key === last) return;
    last = key;
    node.status(text === undefined ? status : { ...status, text });
  };
}

/**
 * A configuration error, the one way every node reports it: one log line (node.error: `text`), a
 * red status "config: <statusText>" cut to the status length, and every message to the node fails
 * with the whole `text` (Catch-able). The flow still deploys; the caller returns after it (the
 * node does nothing else). `statusText` (default `text`): the problem without the log's wording.
 */
export function reportConfigError(node: Node, text: string, statusText = text): void {
  node.error(text);
  refuseInput(node, text, `config: ${statusText}`);
}

/**
 * reportConfigError without the log line, for an error another node has logged already (the
 * configuration error of the pair a node uses: the pair logs it once, its users only show it): a red
 * status `status` cut to the status length, and every message fails with the whole `text`.
 */
export function refuseInput(node: Node, text: string, status: string): void {
  node.status({ fill: 'red', shape: 'ring', text: shortText(status) });
  node.on('input', (_msg, _send, done) => done(new Error(text)));
}
