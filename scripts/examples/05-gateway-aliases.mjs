// Example 5: several pairs with aliases behind one gateway endpoint (Kepware's aliasing): any OPC UA
// client sees two redundant pairs as one server, each under its alias.
import { ITEMS, comment, debug, expose, gateway, inject, pair, simulator, startExample, tab } from './lib.mjs';

export const file = '05 - Several pairs with aliases behind one gateway';
export const flow = () => aliasesExample(5005, [5051, 5052, 5053, 5054]);

function aliasesExample(gatewayPort, [p1, s1, p2, s2]) {
  startExample(5);
  const t = tab('Pairs behind one gateway', `Two redundant pairs of the same kind of server, each under its alias, behind one OPC UA endpoint: opc.tcp://<this host>:${gatewayPort}/UA/Redundancy. Point any OPC UA client at it (UaExpert, a historian, node-opcua): browse Objects ▸ line1 and line2.`);
  const pair1 = pair('line 1 pair', 'hot', p1, s1, { holdOff: 5000 });
  const pair2 = pair('line 2 pair', 'warm', p2, s2, { holdOff: 5000 });
  const gw = gateway('plant-gateway', gatewayPort);
  const state = debug(t.id, 620, 120, 'gateway state (ServiceLevel, clients, items)', true, 'payload');
  const items = [{ id: ITEMS.counter, name: 'Counter' }, { id: ITEMS.sine, name: 'Sine' }, { id: ITEMS.setpoint, name: 'Setpoint' }, { id: ITEMS.array, name: 'Array' }];
  const line1 = expose(t.id, 380, 100, gw.id, pair1.id, 'line1', items, [state.id]);
  // Line 2 mirrors its servers' Simulation folder instead of listing items.
  const line2 = expose(t.id, 380, 160, gw.id, pair2.id, 'line2', [], [state.id], { mirrorRoots: 'ns=1;s=Simulation', mirrorDepth: 1 });
  const sims = [
    simulator(t.id, 620, 300, `line 1 primary :${p1}`, p1),
    simulator(t.id, 620, 340, `line 1 secondary :${s1}`, s1),
    simulator(t.id, 620, 420, `line 2 primary :${p2}`, p2),
    simulator(t.id, 620, 460, `line 2 secondary :${s2}`, s2),
  ];
  return [
    t,
    comment(t.id, 200, 40, 'Several pairs with aliases behind one gateway', `Connect an OPC UA client to opc.tcp://<this host>:${gatewayPort}/UA/Redundancy (anonymous; security None or SignAndEncrypt). Objects ▸ line1 holds the listed items of the line 1 pair (node ids ns=2;s=line1/ns=1;s=Simulation.Counter ...), Objects ▸ line2 mirrors the Simulation folder of the line 2 pair. Subscribe to line1 ▸ Counter and press "crash line 1 primary": the pair fails over under the gateway, the client's subscription goes on without a hole, Server ▸ ServiceLevel drops from 255 to a degraded level and returns after "restore". Writes need a user who may write: add one in the gateway's dialog (Security tab).`),
    line1, line2, state, pair1, pair2, gw,
    inject(t.id, 160, 300, 'crash line 1 primary', 'crash', sims[0].id),
    inject(t.id, 160, 340, 'restore line 1 primary', 'restart', sims[0].id),
    inject(t.id, 160, 420, 'crash line 2 primary', 'crash', sims[2].id),
    inject(t.id, 160, 460, 'restore line 2 primary', 'restart', sims[2].id),
    inject(t.id, 160, 220, 'maintenance on (ServiceLevel 0)', 'true', line1.id, { topic: 'maintenance', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payloadType: 'bool' }),
    inject(t.id, 160, 260, 'maintenance off', 'false', line1.id, { topic: 'maintenance', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payloadType: 'bool' }),
    ...sims,
  ];
}
