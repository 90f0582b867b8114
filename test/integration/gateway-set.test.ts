// Two gateways as one redundant server set (OPC 10000-4 non-transparent redundancy): two Node-RED
// processes, each with a gateway for the same pair of servers, name each other. A Part 4 client
// written here on node-opcua's client reads ServerRedundancy, finds both through FindServers, takes
// its data from the higher ServiceLevel (the preferred gateway), and when that Node-RED is killed,
// moves to the other one and the values go on.
import assert from 'node:assert/strict';
import { SIM_ITEMS } from '../../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../../lib/sim/sim-process';
import { type NodeRedProcess, startNodeRedProcess } from '../helpers/gateway-node-red';
import { RedundantSetClient } from '../helpers/part4-client';
import { holes } from '../helpers/flow';
import { freePort } from '../helpers/ports';
import { sleep, waitFor } from '../helpers/wait';

const URI = (name: string) => `urn:node-red-contrib-redundancy:gateway:${name}`;

function gatewayFlow(name: string, rank: number, port: number, peer: { name: string; port: number }, servers: string[]): object[] {
  const tab = `tab-${name}`;
  return [
    { id: tab, type: 'tab', label: name },
    { id: `pair-${name}`, type: 'redundant-pair', name: 'line1', protocol: 'opcua', primaryEndpoint: servers[0], secondaryEndpoint: servers[1], securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'hot', pingInterval: 500, pingTimeout: 500, autoPromote: true, holdOff: 2000, reconnectMax: 1000 },
    {
      id: `gw-${name}`, type: 'redundancy-gateway', name: `gateway ${name}`, port, hostname: '127.0.0.1', applicationName: name,
      modeNone: true, modeSign: false, modeSignAndEncrypt: false, allowAnonymous: true, anonymousWrite: false, readOnly: false, users: [],
      redundancy: 'Hot', rank, peers: [{ endpointUrl: `opc.tcp://127.0.0.1:${peer.port}/UA/Redundancy`, applicationUri: URI(peer.name) }],
    },
    { id: `expose-${name}`, type: 'gateway-expose', z: tab, x: 200, y: 100, gateway: `gw-${name}`, pair: `pair-${name}`, items: [{ id: SIM_ITEMS.counter }], mirrorRoots: '', mirrorDepth: 1, maxNodes: 100, wires: [[]] },
  ];
}

describe('two gateways as one redundant server set (Node-RED processes, a Part 4 client)', function () {
  this.timeout(120_000);
  let sims: SimulatorProcess[] = [];
  let a: NodeRedProcess | undefined;
  let b: NodeRedProcess | undefined;
  let client: RedundantSetClient | undefined;
  let portA: number;
  let portB: number;

  before(async function () {
    const [p1, p2] = [await freePort(), await freePort()];
    sims = await Promise.all([SimulatorProcess.spawn({ port: p1, name: 'set-primary', counterPeriodMs: 100 }), SimulatorProcess.spawn({ port: p2, name: 'set-secondary', counterPeriodMs: 100 })]);
    const servers = sims.map((s) => s.endpointUrl);
    [portA, portB] = [await freePort(), await freePort()];
    [a, b] = await Promise.all([
      startNodeRedProcess(gatewayFlow('gateway-A', 1, portA, { name: 'gateway-B', port: portB }, servers), [portA]),
      startNodeRedProcess(gatewayFlow('gateway-B', 2, portB, { name: 'gateway-A', port: portA }, servers), [portB]),
    ]);
  });

  after(async function () {
    await client?.stop();
    await Promise.allSettled([a?.stop(), b?.stop(), ...sims.map((s) => s.close())]);
  });

  it('announces the set (NonTransparentRedundancyType, Hot, ServerUriArray naming both) and ranks the gateways by ServiceLevel', async function () {
    // Started on the backup's URL: the client finds the set and takes the preferred gateway.
    client = new RedundantSetClient(`opc.tcp://127.0.0.1:${portB}/UA/Redundancy`, `ns=2;s=line1/${SIM_ITEMS.counter}`);
    await client.start();
    const info = client.info!;
    assert.equal(info.redundancySupport, 3, 'RedundancySupport Hot');
    assert.deepEqual([...info.serverUris].sort(), [URI('gateway-A'), URI('gateway-B')]);
    assert.ok(info.redundancyChildren.includes('ServerUriArray'), `ServerUriArray is a property of ServerRedundancy: ${info.redundancyChildren.join(', ')}`);
    assert.equal(info.redundancyType, 'ns=0;i=2039', 'ServerRedundancy is a NonTransparentRedundancyType');
    await waitFor(() => client!.serviceLevels()[URI('gateway-A')] === 255 && client!.serviceLevels()[URI('gateway-B')] === 250, 30_000, 'both healthy, ranked 255 / 250', () => client!.serviceLevels());
    await waitFor(() => client!.active === URI('gateway-A'), 10_000, 'the client on the preferred gateway', () => ({ levels: client!.serviceLevels(), switches: client!.switches }));
    await waitFor(() => client!.values.filter((v) => v.from === URI('gateway-A') && v.status === 'Good').length >= 5, 10_000, 'values from gateway A');
  });

  it('the preferred gateway\'s Node-RED is killed: the client moves to the other gateway and the values go on', async function () {
    assert.ok(client?.active === URI('gateway-A'));
    await a!.kill();
    await waitFor(() => client!.active === URI('gateway-B'), 15_000, 'the client on gateway B', () => ({ levels: client!.serviceLevels(), switches: client!.switches }));
    const n = client!.values.length;
    await waitFor(() => client!.values.length >= n + 10, 10_000, 'values from gateway B');
    const fromB = client!.values.filter((v) => v.from === URI('gateway-B') && v.status === 'Good').map((v) => v.value as number);
    assert.ok(fromB.length >= 10);
    const seen = () => `${client!.values.map((v) => `${v.value}${v.from.slice(-1)}${v.status === 'Good' ? '' : v.status}`).join(' ')}; switches ${JSON.stringify(client!.switches)}`;
    assert.deepEqual(holes(fromB), [], `gateway B: from its first value on, every change: ${seen()}`);
    assert.equal(client!.switches.length, 2, `one selection, one move: ${seen()}`);
    assert.equal(client!.switches[client!.switches.length - 1].reason, `${URI('gateway-A')} lost`);
  });
});
