// Where a change's time goes on its way through the gateway (bench only, `--hops`): hooks on the
// OPC UA driver's raw notifications and on the exposure's data handler record, per change, how
// long after its source timestamp it reached each stage. The servers and the gateway share this
// machine's clock. Stages:
//   driver             the gateway's driver has the decoded upstream message (both channels of the
//                      hot pair): the upstream server's publishing wait, its encoding, the wire,
//                      the decoding and any wait for this process's event loop
//   exposure in        the pair delivered the change to the exposure (engine: merge, selection)
//   exposure out       the change is on the gateway variable (the clients' monitored items have it)
//   gateway publish    the gateway's server took it into a NotificationMessage for a client
// The client's receipt is measured by the clients (ua-client-child.ts). (node-opcua's server
// leaves publishTime out of its PublishResponse, so no client can tell the publish time itself.)
import { Subscription } from 'node-opcua';
import { OpcuaDriver } from '../lib/drivers/opcua';
import { PairExposure } from '../lib/gateway/exposure';

export type Histogram = Map<number, number>;

export interface HopRecorder {
  stages: Record<'driver' | 'exposure_in' | 'exposure_out' | 'gateway_publish', Histogram>;
  /** Upstream NotificationMessages with data, and their changes. */
  messages: number;
  changes: number;
  /** Time spent in the exposure's data handler, ms. */
  exposureMs: number;
  recording: boolean;
  uninstall(): void;
}

interface RawMessage {
  notificationData?: Array<{ monitoredItems?: Array<{ value: { sourceTimestamp?: Date | null } }> } | null>;
}

function add(h: Histogram, ms: number, n = 1): void {
  const k = Math.round(ms);
  h.set(k, (h.get(k) ?? 0) + n);
}

/** Installs the hooks (one recorder at a time); `recording` switches the counting on and off. */
export function installHops(): HopRecorder {
  const driverProto = OpcuaDriver.prototype as unknown as { onNotification(conn: unknown, msg: RawMessage): void };
  const exposureProto = PairExposure.prototype as unknown as { onData(changes: Array<{ sourceTimestamp?: number }>): void };
  const onNotification = driverProto.onNotification;
  const onData = exposureProto.onData;
  const subscriptionProto = Subscription.prototype as unknown as { _popNotificationToSend(): RawMessage };
  const pop = subscriptionProto._popNotificationToSend;
  const rec: HopRecorder = {
    stages: { driver: new Map(), exposure_in: new Map(), exposure_out: new Map(), gateway_publish: new Map() },
    messages: 0,
    changes: 0,
    exposureMs: 0,
    recording: false,
    uninstall() {
      driverProto.onNotification = onNotification;
      exposureProto.onData = onData;
      subscriptionProto._popNotificationToSend = pop;
    },
  };
  driverProto.onNotification = function (this: unknown, conn: unknown, msg: RawMessage) {
    if (rec.recording && msg.notificationData) {
      const now = Date.now();
      let any = false;
      for (const data of msg.notificationData) {
        for (const n of data?.monitoredItems ?? []) {
          const source = n.value.sourceTimestamp?.getTime();
          if (source === undefined) continue;
          any = true;
          rec.changes++;
          add(rec.stages.driver, now - source);
        }
      }
      if (any) rec.messages++;
    }
    return onNotification.call(this, conn, msg);
  };
  exposureProto.onData = function (this: unknown, changes: Array<{ sourceTimestamp?: number }>) {
    if (!rec.recording) return onData.call(this, changes);
    const t0 = performance.now();
    const now = Date.now();
    for (const c of changes) if (c.sourceTimestamp !== undefined) add(rec.stages.exposure_in, now - c.sourceTimestamp);
    onData.call(this, changes);
    const spent = performance.now() - t0;
    rec.exposureMs += spent;
    for (const c of changes) if (c.sourceTimestamp !== undefined) add(rec.stages.exposure_out, now + spent - c.sourceTimestamp);
  };
  subscriptionProto._popNotificationToSend = function (this: unknown) {
    const msg = pop.call(this);
    if (rec.recording) {
      const now = Date.now();
      for (const data of msg.notificationData ?? []) {
        for (const n of data?.monitoredItems ?? []) {
          const source = n.value.sourceTimestamp?.getTime();
          if (source !== undefined) add(rec.stages.gateway_publish, now - source);
        }
      }
    }
    return msg;
  };
  return rec;
}
