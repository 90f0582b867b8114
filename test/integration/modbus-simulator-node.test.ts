// The modbus-simulator node in the real Node-RED runtime: it serves the device on its ports,
// commands change what a real client sees and the node status says so, a bad configuration
// gives a red status while the flow deploys, and a redeploy releases its ports.
import assert from 'node:assert/strict';
import { ModbusDriver } from '../../lib/drivers/modbus';
import { parseModbusOptions } from '../../lib/rules/modbus';
import { helper, lastStatus, loadFlow, loggedErrors, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simModule = require('../../nodes/modbus-simulator');

function client(endpoint: string): ModbusDriver {
  return new ModbusDriver({ endpoint, options: { ...parseModbusOptions({}).options, timeoutMs: 300 }, pingTimeoutMs: 300 });
}

describe('modbus-simulator node', function () {
  this.timeout(20_000);
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
  });

  it('serves Modbus TCP and RTU over TCP; commands switch master, stall, exceptions and sides, shown in the status', async function () {
    const port = await freePort();
    const rtuTcpPort = await freePort();
    await loadFlow([simModule], [{ id: 'sim', type: 'modbus-simulator', name: 'PLC A', port, rtuTcpPort, unitIds: '1', counterPeriod: 100, master: true, bulkRegisters: 10, wires: [] }]);
    await waitFor(() => /TCP :\d+ · master/.test(lastStatus('sim')?.text ?? ''), 5000, 'running status');
    assert.equal(lastStatus('sim')?.fill, 'green');
    const tcp = client(`modbus-tcp://127.0.0.1:${port}`);
    const rtu = client(`modbus-rtu-tcp://127.0.0.1:${rtuTcpPort}`);
    try {
      await tcp.connect();
      await rtu.connect();
      const read = async (d: ModbusDriver, id: string) => (await d.read([id]))[0];
      assert.equal((await read(tcp, 'HR10')).value, 1);
      assert.equal((await read(rtu, 'HR60:string20')).value, 'PLC A');
      const sim = helper.getNode('sim');
      const send = (payload: unknown) => sim.receive({ payload });
      send('slave');
      await waitFor(() => /slave/.test(lastStatus('sim')?.text ?? ''), 2000, 'slave status');
      assert.equal((await read(tcp, 'HR10')).value, 0);
      assert.equal((await read(rtu, 'DI16')).value, false);
      send({ exception: 6, area: 'holding', from: 0, to: 9 });
      await waitFor(() => /exception 6/.test(lastStatus('sim')?.text ?? ''), 2000, 'exception status');
      assert.equal(lastStatus('sim')?.fill, 'yellow');
      const x = await read(tcp, 'HR2');
      assert.deepEqual([x.statusCode, x.detail?.includes('Modbus exception 6 (server device busy)')], ['BadResourceUnavailable', true]);
      assert.equal((await read(tcp, 'HR20')).statusCode, 'Good', 'outside the range');
      send('exceptions-off');
      send('drop-tcp');
      await waitFor(() => /tcp down/.test(lastStatus('sim')?.text ?? ''), 2000, 'side status');
      await assert.rejects(tcp.ping(500));
      await rtu.ping(500);
      send('restore-tcp');
      send('stall');
      await waitFor(() => /stalled/.test(lastStatus('sim')?.text ?? ''), 2000, 'stalled status');
      await assert.rejects(rtu.ping(300), /no answer/);
      send('unstall');
      await rtu.ping(1000);
      send('bogus');
      await waitFor(() => loggedErrors().some((e) => /unknown command bogus/.test(e)), 2000, 'an error for an unknown command');
    } finally {
      await tcp.disconnect();
      await rtu.disconnect();
    }
  });

  it('a bad configuration gives a red status and an error; the flow deploys; a redeploy frees the port', async function () {
    const port = await freePort();
    await loadFlow([simModule], [
      { id: 'bad', type: 'modbus-simulator', port: 70000, wires: [] },
      { id: 'badUnits', type: 'modbus-simulator', port: await freePort(), unitIds: '1, 0', wires: [] },
      { id: 'good', type: 'modbus-simulator', port, wires: [] },
    ]);
    await waitFor(() => lastStatus('good')?.fill === 'green', 5000, 'the good simulator running');
    assert.equal(lastStatus('bad')?.fill, 'red');
    assert.match(lastStatus('bad')?.text ?? '', /Modbus TCP port must be 1..65535/);
    assert.match(lastStatus('badUnits')?.text ?? '', /unit ids must be a list of 1..255/);
    await helper.unload();
    await stopServer();
    await startServer();
    // The same port again: released by the first deployment's close.
    await loadFlow([simModule], [{ id: 'again', type: 'modbus-simulator', port, wires: [] }]);
    await waitFor(() => lastStatus('again')?.fill === 'green', 5000, 'running on the same port after a redeploy');
  });
});
