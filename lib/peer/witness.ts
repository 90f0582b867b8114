// The MQTT witness of a peer link: a broker the plant already runs decides, when the link between
// the two instances is cut, whether the holder is alive (its claim stands) or gone (the broker
// published its last will, which clears the claim).
// Topics under `<prefix>/<link>/`:
//   claim/<instance>  retained, QoS 1: {"instance","epoch","preferred","since"} while that instance
//                     holds the duty; empty (cleared) otherwise. The last will of each instance's
//                     connection is an empty retained message on its own claim topic.
//   alive             QoS 1 pings, one per heartbeat interval: the broker's acknowledgement of one
//                     is the holder's proof that its connection (and so its claim) still stands.
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../core/clock';
import type { PreferredRole, WitnessClaim } from './duty';

export interface WitnessOptions {
  /** mqtt://host:1883, mqtts://…, ws://… */
  url: string;
  username?: string;
  password?: string;
  prefix: string;
  link: string;
  instanceId: string;
  preferred: PreferredRole;
  keepaliveS: number;
  pingIntervalMs: number;
  clock: Clock;
}

export interface WitnessHooks {
  connected(up: boolean, reason: string): void;
  claimSeen(instance: string, claim: WitnessClaim | null): void;
  pingAcked(sentAt: number): void;
}

/** Topic level from free text: MQTT wildcards and separators are not allowed inside one level. */
export function topicLevel(text: string): string {
  return text.replace(/[+#/\u0000]/g, '_');
}

export function validateWitnessUrl(url: string): string | undefined {
  if (!url) return 'the witness broker URL is empty';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL (mqtt://host:1883)`;
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'].includes(u.protocol)) return `"${u.protocol}" is not an MQTT scheme (mqtt, mqtts, ws, wss)`;
  return undefined;
}

export class MqttWitness {
  private client: MqttClient | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private up = false;
  private closed = false;
  readonly claimTopic: string;
  readonly claimFilter: string;
  readonly aliveTopic: string;

  constructor(
    private readonly options: WitnessOptions,
    private readonly hooks: WitnessHooks,
  ) {
    const base = `${options.prefix.replace(/\/+$/, '')}/${topicLevel(options.link)}`;
    this.claimTopic = `${base}/claim/${topicLevel(options.instanceId)}`;
    this.claimFilter = `${base}/claim/+`;
    this.aliveTopic = `${base}/alive`;
  }

  isUp(): boolean {
    return this.up;
  }

  start(): void {
    const o = this.options;
    const client = mqtt.connect(o.url, {
      clientId: `nrr-${topicLevel(o.instanceId)}-${Math.random().toString(16).slice(2, 8)}`,
      username: o.username || undefined,
      password: o.password || undefined,
      keepalive: o.keepaliveS,
      clean: true,
      reconnectPeriod: Math.max(250, Math.min(2000, o.pingIntervalMs)),
      connectTimeout: Math.max(2000, o.keepaliveS * 1000),
      resubscribe: false,
      will: { topic: this.claimTopic, payload: Buffer.alloc(0), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      client.subscribe(this.claimFilter, { qos: 1 }, (err) => {
        if (err) {
          this.setUp(false, `subscribing to ${this.claimFilter} failed: ${err.message}`);
          return;
        }
        this.setUp(true, `connected to ${o.url}`);
      });
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('close', () => this.setUp(false, `connection to ${o.url} closed`));
    client.on('offline', () => this.setUp(false, `${o.url} unreachable`));
    client.on('error', (err) => this.setUp(false, `${o.url}: ${err.message}`));
    this.pingTimer = setInterval(() => this.ping(), o.pingIntervalMs);
    this.pingTimer.unref();
  }

  publishClaim(epoch: number): Promise<void> {
    const claim: WitnessClaim & { since: number } = { instance: this.options.instanceId, epoch, preferred: this.options.preferred, since: Date.now() };
    return this.publish(this.claimTopic, JSON.stringify(claim), true);
  }

  clearClaim(): Promise<void> {
    return this.publish(this.claimTopic, '', true);
  }

  /** Closes without the last will (a polite DISCONNECT). */
  async end(): Promise<void> {
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    const client = this.client;
    this.client = undefined;
    this.up = false;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.end(true);
        resolve();
      }, 1000);
      client.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private setUp(up: boolean, reason: string): void {
    if (this.closed || up === this.up) return;
    this.up = up;
    this.hooks.connected(up, reason);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const prefix = this.claimFilter.slice(0, -1);
    if (!topic.startsWith(prefix)) return;
    const instance = topic.slice(prefix.length);
    if (payload.length === 0) {
      this.hooks.claimSeen(instance, null);
      return;
    }
    try {
      const c = JSON.parse(payload.toString('utf8')) as WitnessClaim;
      if (typeof c.epoch !== 'number' || typeof c.instance !== 'string') return;
      this.hooks.claimSeen(topicLevel(c.instance) === instance ? c.instance : instance, { instance: c.instance, epoch: c.epoch, preferred: c.preferred === 'primary' ? 'primary' : 'standby' });
    } catch {
      /* not a claim of this package: ignored */
    }
  }

  private ping(): void {
    const client = this.client;
    if (!client || !client.connected || !this.up) return;
    const sentAt = this.options.clock.now();
    client.publish(this.aliveTopic, this.options.instanceId, { qos: 1 }, (err) => {
      if (!err) this.hooks.pingAcked(sentAt);
    });
  }

  private publish(topic: string, payload: string, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client || !client.connected) return Promise.reject(new Error('the witness is not connected'));
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the witness did not acknowledge in time')), Math.max(1000, 2 * this.options.pingIntervalMs));
      client.publish(topic, payload, { qos: 1, retain }, (err) => {
        clearTimeout(t);
        if (err) reject(err);
        else resolve();
      });
    });
  }
}
