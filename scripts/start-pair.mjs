// `npm run start:pair`: two Node-RED instances joined by a peer link, on one machine, for newcomers
// and for trying failures: instance a on :1880 (preferred), instance b on :1881 (standby), both
// running one example with its dashboard page and buttons to stop, kill and start either instance:
//   11 (default): duty hand-over and standby write, /dashboard/duty
//    9: alarm server pair, /dashboard/alarms (alarm list with Ack buttons)
//   10: trend server pair with backfill, /dashboard/trends (the backfilled interval in its own colour)
// The user dirs live in the project (.node-red-pair/a and /b for example 11, .node-red-pair/ex09/a
// and /b for 9, and so on; git-ignored); the shared secret is made at the first start and kept in
// .node-red-pair/secret, and written into both instances' peer link (encrypted credentials).
// When mosquitto is installed (Debian: apt-get install mosquitto) it is started as the MQTT witness.
//   npm run start:pair                     start example 11 (flows kept from the last run)
//   npm run start:pair -- --example 9      the alarm pair (10: the trend pair)
//   npm run start:pair -- --reset          put the shipped flows back
//   NO_WITNESS=1 npm run start:pair        without the witness (a cut link then gives two holders)
//   PORT_A=1890 PORT_B=1891 WITNESS_PORT=1893 CONTROL_PORT=1889 npm run start:pair
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { demoSettings, linkPackage, nodeRedJs, root } from './user-dir.mjs';

const pairRoot = join(root, '.node-red-pair');
const EXAMPLES = {
  9: { module: '09-alarm-pair.mjs', build: 'alarmExample', page: '/dashboard/alarms', what: 'the alarm server pair' },
  10: { module: '10-trend-pair.mjs', build: 'trendExample', page: '/dashboard/trends', what: 'the trend server pair with backfill' },
  11: { module: '11-duty-handover.mjs', build: 'dutyExample', page: '/dashboard/duty', what: 'duty hand-over and standby write' },
};
const exampleArg = process.argv.find((a) => a.startsWith('--example='))?.slice(10) ?? (process.argv.includes('--example') ? process.argv[process.argv.indexOf('--example') + 1] : '11');
const exampleNo = Number(exampleArg);
const example = EXAMPLES[exampleNo];
if (!example) {
  console.error(`--example ${exampleArg}: start:pair runs example ${Object.keys(EXAMPLES).join(', ')}`);
  process.exit(2);
}
const nn = String(exampleNo).padStart(2, '0');
// Example 11 keeps the user dirs it always had; the others get their own (their stores differ).
const base = exampleNo === 11 ? pairRoot : join(pairRoot, `ex${nn}`);
const reset = process.argv.includes('--reset');
const ports = { a: Number(process.env.PORT_A || 1880), b: Number(process.env.PORT_B || 1881) };
const controlPort = Number(process.env.CONTROL_PORT || 1879);
const witnessPort = Number(process.env.WITNESS_PORT || 1883);
const mosquittoPath = process.env.MOSQUITTO_PATH || '/usr/sbin/mosquitto';
const credentialSecret = (await import(pathToFileURL(demoSettings).href)).default.credentialSecret;
const buildExample = (await import(pathToFileURL(join(root, 'scripts', 'examples', example.module)).href))[example.build];

mkdirSync(base, { recursive: true });
const secretFile = join(pairRoot, 'secret');
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
const secret = readFileSync(secretFile, 'utf8').trim();

function portOpen(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// ---- the witness --------------------------------------------------------------------------------
let broker;
let witnessUrl;
if (!process.env.NO_WITNESS && existsSync(mosquittoPath)) {
  if (await portOpen(witnessPort)) {
    witnessUrl = `mqtt://127.0.0.1:${witnessPort}`;
    console.log(`Witness: an MQTT broker already listens on ${witnessUrl}; using it`);
  } else {
    const conf = join(base, 'mosquitto.conf');
    writeFileSync(conf, `listener ${witnessPort} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\nlog_type error\nlog_type warning\n`);
    broker = spawn(mosquittoPath, ['-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
    for (let i = 0; i < 50 && !(await portOpen(witnessPort)); i++) await new Promise((r) => setTimeout(r, 100));
    witnessUrl = `mqtt://127.0.0.1:${witnessPort}`;
    console.log(`Witness: mosquitto on ${witnessUrl}`);
  }
} else {
  console.log(process.env.NO_WITNESS ? 'Witness: none (NO_WITNESS set)' : `Witness: none (no mosquitto at ${mosquittoPath}; apt-get install mosquitto). A cut link will give two holders.`);
}

// ---- the two user dirs and flows ----------------------------------------------------------------
/** Node-RED's credential file format: aes-256-ctr, key = sha256(credentialSecret). */
function encryptCredentials(creds) {
  const key = createHash('sha256').update(credentialSecret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64') };
}

/** Buttons on the dashboard: stop, kill or start either instance (through this script's control port). */
function controls(nodes, side) {
  const tab = nodes.find((n) => n.type === 'tab');
  const page = nodes.find((n) => n.type === 'ui-page');
  const group = { id: `ex${nn}-${side}-ctl-grp`, type: 'ui-group', name: 'The two instances (npm run start:pair)', page: page.id, width: 12, height: 1, order: 90, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' };
  const http = { id: `ex${nn}-${side}-ctl-http`, type: 'http request', z: tab.id, name: 'start:pair control', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: '', tls: '', persist: false, proxy: '', insecureHTTPParser: false, authType: '', senderr: false, headers: [], x: 700, y: 700, wires: [[`ex${nn}-${side}-ctl-note`]] };
  const note = { id: `ex${nn}-${side}-ctl-note`, type: 'ui-notification', z: tab.id, ui: nodes.find((n) => n.type === 'ui-base').id, position: 'top right', colorDefault: true, color: '#000000', displayTime: '3', showCountdown: true, outputs: 0, allowDismiss: true, dismissText: 'Close', raw: false, className: '', name: 'control answer', x: 900, y: 700, wires: [] };
  const buttons = [];
  let order = 1;
  for (const target of ['a', 'b']) {
    const port = ports[target];
    for (const [action, label, color] of [['stop', `Stop ${target} (:${port}) gracefully`, '#ef6c00'], ['kill', `Kill ${target} (:${port}), kill -9`, '#c62828'], ['start', `Start ${target} (:${port})`, '#2e7d32']]) {
      const b = { id: `ex${nn}-${side}-ctl-${action}-${target}`, type: 'ui-button', z: tab.id, group: group.id, name: label, label, order: order++, width: 2, height: 1, emulateClick: false, tooltip: '', color: '', bgcolor: color, className: '', icon: '', iconPosition: 'left', payload: '', payloadType: 'str', topic: 'topic', topicType: 'msg', buttonColor: color, textColor: '', iconColor: '', enableClick: true, enablePointerdown: false, pointerdownPayload: '', pointerdownPayloadType: 'str', enablePointerup: false, pointerupPayload: '', pointerupPayloadType: 'str', x: 200, y: 640 + 40 * buttons.length, wires: [[`ex${nn}-${side}-ctl-url-${action}-${target}`]] };
      const url = { id: `ex${nn}-${side}-ctl-url-${action}-${target}`, type: 'change', z: tab.id, name: '', rules: [{ t: 'set', p: 'url', pt: 'msg', to: `http://127.0.0.1:${controlPort}/${action}/${target}`, tot: 'str' }], x: 450, y: 640 + 40 * buttons.length, wires: [[http.id]] };
      buttons.push(b, url);
    }
  }
  return [group, http, note, ...buttons];
}

function prepare(side) {
  const dir = join(base, side);
  linkPackage(dir);
  const flowsFile = join(dir, 'flows.json');
  if (reset || !existsSync(flowsFile)) {
    const other = side === 'a' ? 'b' : 'a';
    const nodes = buildExample({
      peerUrl: `http://127.0.0.1:${ports[other]}`,
      preferred: side === 'a' ? 'primary' : 'standby',
      witness: !!witnessUrl,
      witnessUrl: witnessUrl || 'mqtt://127.0.0.1:1883',
    });
    nodes.push(...controls(nodes, side));
    const tab = nodes.find((n) => n.type === 'tab');
    tab.label = `${tab.label}: instance ${side}`;
    writeFileSync(flowsFile, JSON.stringify(nodes, null, 2));
    const linkNode = nodes.find((n) => n.type === 'peer-link');
    writeFileSync(join(dir, 'flows_cred.json'), JSON.stringify(encryptCredentials({ [linkNode.id]: { secret } })));
  }
  return dir;
}

// ---- the instances ------------------------------------------------------------------------------
const children = {};
let quitting = false;

function prefixLines(stream, tag) {
  let rest = '';
  stream.on('data', (b) => {
    const lines = (rest + b.toString()).split('\n');
    rest = lines.pop();
    for (const l of lines) console.log(`[${tag}] ${l}`);
  });
}

function start(side) {
  if (children[side] && children[side].exitCode === null && children[side].signalCode === null) return false;
  const dir = prepare(side);
  const child = spawn(process.execPath, [nodeRedJs, '--userDir', dir, '--port', String(ports[side]), '--settings', demoSettings, 'flows.json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  prefixLines(child.stdout, side);
  prefixLines(child.stderr, side);
  child.on('exit', (code, signal) => {
    console.log(`[${side}] exited (${signal || code})`);
    if (quitting && Object.values(children).every((c) => c.exitCode !== null || c.signalCode !== null)) finish();
  });
  children[side] = child;
  return true;
}

function running(side) {
  const c = children[side];
  return c && c.exitCode === null && c.signalCode === null;
}

const control = createServer((req, res) => {
  const m = /^\/(stop|kill|start)\/(a|b)$/.exec(req.url || '');
  if (req.method !== 'POST' || !m) {
    res.writeHead(404).end('POST /stop|kill|start/a|b');
    return;
  }
  const [, action, side] = m;
  let text;
  if (action === 'start') text = start(side) ? `starting ${side}` : `${side} is already running`;
  else if (!running(side)) text = `${side} is not running`;
  else {
    children[side].kill(action === 'kill' ? 'SIGKILL' : 'SIGTERM');
    text = action === 'kill' ? `${side} killed (kill -9)` : `${side} stopping gracefully`;
  }
  console.log(`[control] ${text}`);
  res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
});
control.listen(controlPort, '127.0.0.1');

function finish() {
  control.close();
  if (broker && broker.exitCode === null) broker.kill('SIGTERM');
  process.exit(0);
}

function quit() {
  if (quitting) return;
  quitting = true;
  console.log('stopping both instances…');
  let any = false;
  for (const side of ['a', 'b']) {
    if (running(side)) {
      any = true;
      children[side].kill('SIGTERM');
    }
  }
  if (!any) finish();
  setTimeout(finish, 20_000).unref();
}
process.on('SIGINT', quit);
process.on('SIGTERM', quit);

start('a');
start('b');
console.log(`Example ${exampleNo}: ${example.what} (user dirs ${base}/a and /b)`);
console.log(`Instance a (preferred):  http://127.0.0.1:${ports.a}/   dashboard http://127.0.0.1:${ports.a}${example.page}`);
console.log(`Instance b (standby):    http://127.0.0.1:${ports.b}/   dashboard http://127.0.0.1:${ports.b}${example.page}`);
console.log(`Stop, kill and start either one from the dashboards (control port ${controlPort}); Ctrl-C stops both.`);
