// The gateway: one OPC UA server (node-opcua) in front of redundant pairs. Each exposed pair is a
// folder named by its alias; any number of clients share one upstream monitored item per node
// (the request concentrator); failover happens below it, invisible to clients; its ServiceLevel
// follows the pairs (OPC 10000-4 §6.6) and it can be one of a redundant server set.
import { EventEmitter } from 'node:events';
import {
  DataType,
  DataValue,
  type MonitoredItem,
  type Namespace,
  OPCUAServer,
  RegisterServerMethod,
  type ServerSession,
  StatusCode,
  type Subscription,
  type UAObject,
  type UAVariable,
  Variant,
} from 'node-opcua';
import { gatewayCertificateFile, gatewayCertificateManager } from '../drivers/opcua-pki';
import { type ExposureConfig, PairExposure } from './exposure';
import type { GatewayHost, VariableSpec } from './host';
import { GatewayNodes } from './nodes';
import type { GatewaySource } from './pair-source';
import { type RedundancyOptions, announceRedundancy, validatePeers } from './redundancy';
import { type SecurityOptions, endpointSecurity, userManager, validateSecurity } from './security';
import { gatewayServiceLevel } from './service-level';
import type { Lease } from './concentrator';

export const GATEWAY_NAMESPACE = 'urn:node-red-contrib-redundancy:gateway';
export const DEFAULT_RESOURCE_PATH = '/UA/Redundancy';

export interface GatewayOptions extends SecurityOptions {
  /** Unique in the process (the config node's id). */
  id: string;
  port: number;
  /** Host name in the endpoint URL (the machine's name when empty); the server listens on every interface. */
  hostname?: string;
  resourcePath?: string;
  applicationName: string;
  /** Defaults to urn:node-red-contrib-redundancy:gateway:<applicationName>. */
  applicationUri?: string;
  /** Certificate store folder (OPCUACertificateManager layout). */
  pkiRoot: string;
  /** Trust every new client certificate (commissioning). */
  acceptAllCertificates: boolean;
  /** A redundant server set with peer gateways. */
  redundancy?: RedundancyOptions & { rank: number };
  maxSessions?: number;
}

export interface GatewayState {
  running: boolean;
  serviceLevel: number;
  maintenance: boolean;
  sessions: number;
  /** Client monitored items on exposed variables. */
  clientItems: number;
  /** Upstream monitored items the gateway holds (one per node with clients). */
  upstreamItems: number;
  pairs: Array<{ alias: string; state: string; health: string; items: number; problems: string[] }>;
}

export interface GatewayEvents {
  state: [GatewayState];
  error: [Error];
}

/**
 * A client whose queue overflows gets the Overflow bit on its own copy of the value. node-opcua sets
 * it on the DataValue in the queue, which every client of a variable shares, and asserts the status
 * is Good first: the second overflowing client (or any upstream status other than Good) would stop
 * the process.
 */
function guardOverflow(item: MonitoredItem): void {
  (item as unknown as { _setOverflowBit(n: { value?: DataValue }): void })._setOverflowBit = function (this: { $subscription?: { subscriptionDiagnostics?: { monitoringQueueOverflowCount: number } } }, notification: { value?: DataValue }) {
    if (notification.value instanceof DataValue) {
      const copy = notification.value.clone();
      copy.statusCode = StatusCode.makeStatusCode(copy.statusCode, 'Overflow | InfoTypeDataValue');
      notification.value = copy;
    }
    const diagnostics = this.$subscription?.subscriptionDiagnostics;
    if (diagnostics) diagnostics.monitoringQueueOverflowCount++;
  };
}

export function defaultApplicationUri(applicationName: string): string {
  return `urn:node-red-contrib-redundancy:gateway:${applicationName}`;
}

/** Every problem of a gateway configuration, one message each. */
export function validateGatewayOptions(o: GatewayOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) problems.push(`port must be 1..65535 (got ${o.port})`);
  if (!o.applicationName) problems.push('an application name is required');
  if (o.resourcePath && !o.resourcePath.startsWith('/')) problems.push(`endpoint path must start with / (got ${o.resourcePath})`);
  problems.push(...validateSecurity(o));
  if (o.redundancy && o.redundancy.support !== 'None') {
    if (o.redundancy.peers.length === 0) problems.push('a redundant server set needs at least one peer gateway');
    problems.push(...validatePeers(o.redundancy.peers, o.applicationUri ?? defaultApplicationUri(o.applicationName)));
    if (!Number.isInteger(o.redundancy.rank) || o.redundancy.rank < 1 || o.redundancy.rank > 10) problems.push(`rank must be 1..10 (got ${o.redundancy.rank})`);
  }
  return problems;
}

export class GatewayServer extends EventEmitter<GatewayEvents> implements GatewayHost {
  readonly id: string;
  readonly applicationUri: string;
  private server?: OPCUAServer;
  private namespace?: Namespace;
  private nodes?: GatewayNodes;
  private serviceLevelVar?: UAVariable;
  private exposures = new Map<string, PairExposure>();
  /** Client monitored items per gateway variable, with the lease each holds upstream. */
  private monitored = new Map<UAVariable, Map<MonitoredItem, Lease | undefined>>();
  private bindings = new Map<UAVariable, { exposure: PairExposure; item: string }>();
  private maintenance = false;
  private level = 1;
  private stateQueued = false;
  private stopped = false;

  constructor(private readonly options: GatewayOptions) {
    super();
    const problems = validateGatewayOptions(options);
    if (problems.length) throw new Error(problems.join('; '));
    this.id = options.id;
    this.applicationUri = options.applicationUri || defaultApplicationUri(options.applicationName);
  }

  get endpointUrl(): string {
    return this.server?.getEndpointUrl() ?? `opc.tcp://${this.options.hostname || 'localhost'}:${this.options.port}${this.options.resourcePath ?? DEFAULT_RESOURCE_PATH}`;
  }

  get running(): boolean {
    return this.server !== undefined && !this.stopped;
  }

  async start(): Promise<void> {
    const o = this.options;
    const cm = await gatewayCertificateManager(o.pkiRoot, o.acceptAllCertificates);
    const security = endpointSecurity(o);
    const hostname = o.hostname || undefined;
    const server = new OPCUAServer({
      port: o.port,
      ...(hostname ? { hostname, alternateHostname: [hostname] } : {}),
      resourcePath: o.resourcePath ?? DEFAULT_RESOURCE_PATH,
      buildInfo: { productName: 'node-red-contrib-redundancy gateway', productUri: 'urn:node-red-contrib-redundancy', manufacturerName: 'node-red-contrib-redundancy', softwareVersion: '1.0' },
      serverInfo: { applicationName: { text: o.applicationName }, applicationUri: this.applicationUri, productUri: 'urn:node-red-contrib-redundancy' },
      serverCertificateManager: cm,
      certificateFile: gatewayCertificateFile(o.pkiRoot, this.applicationUri),
      registerServerMethod: RegisterServerMethod.HIDDEN,
      securityModes: security.modes,
      securityPolicies: security.policies,
      allowAnonymous: o.allowAnonymous,
      userManager: userManager(o.users),
      maxConnectionsPerEndpoint: o.maxSessions ?? 200,
      // MinSupportedSampleRate 0: a client asking for sampling 0 gets every upstream change
      // (node-opcua's default folds changes of an exception-based item into 50 ms windows).
      serverCapabilities: { maxSessions: o.maxSessions ?? 200, minSupportedSampleRate: 0, maxMonitoredItems: 1_000_000, maxMonitoredItemsPerSubscription: 100_000 } as never,
    });
    await server.initialize();
    if (server.checkCertificateSAN().length > 0) await server.regenerateSelfSignedCertificate();
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('gateway: no address space');
    this.namespace = addressSpace.registerNamespace(GATEWAY_NAMESPACE);
    this.nodes = new GatewayNodes(this.namespace, { readOnly: o.readOnly, anonymousWrite: o.anonymousWrite });
    // node-opcua hard-wires ServiceLevel to 255: rebind it to a value this gateway sets.
    this.serviceLevelVar = addressSpace.findNode('i=2267') as UAVariable;
    this.serviceLevelVar.bindVariable({ dataType: DataType.Byte, value: this.level } as never, true);
    this.publishServiceLevel();
    if (o.redundancy && o.redundancy.support !== 'None') announceRedundancy(server, o.redundancy);
    server.on('create_session', (session: ServerSession) => this.watchSession(session));
    try {
      await server.start();
    } catch (err) {
      // A port in use (the node retries on redeploy): the initialised engine must not stay behind.
      await server.shutdown(0).catch(() => undefined);
      throw err;
    }
    this.server = server;
    this.queueState();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const e of this.exposures.values()) e.dispose();
    this.exposures.clear();
    this.nodes?.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await server.shutdown(0);
    this.monitored.clear();
    this.bindings.clear();
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------- exposures

  /** Exposes a pair under `config.alias`; throws when the alias is taken. */
  expose(source: GatewaySource, config: ExposureConfig): PairExposure {
    if (!this.namespace) throw new Error('the gateway is not started');
    if (this.exposures.has(config.alias)) throw new Error(`alias "${config.alias}" is already exposed by this gateway`);
    if (!/^[\w .-]+$/.test(config.alias)) throw new Error(`alias "${config.alias}" may hold letters, digits, space, dot, dash and underscore only`);
    const exposure = new PairExposure(this, source, config, () => this.onExposureChange());
    this.exposures.set(config.alias, exposure);
    exposure.start();
    this.onExposureChange();
    return exposure;
  }

  unexpose(exposure: PairExposure): void {
    if (this.exposures.get(exposure.alias) !== exposure) return;
    this.exposures.delete(exposure.alias);
    exposure.dispose();
    this.onExposureChange();
  }

  /** ServiceLevel 0 while set (OPC 10000-4: Maintenance). */
  setMaintenance(on: boolean): void {
    this.maintenance = on;
    this.onExposureChange();
  }

  get serviceLevel(): number {
    return this.level;
  }

  state(): GatewayState {
    let clientItems = 0;
    for (const m of this.monitored.values()) clientItems += m.size;
    return {
      running: this.running,
      serviceLevel: this.level,
      maintenance: this.maintenance,
      sessions: this.server ? this.server.engine.currentSessionCount : 0,
      clientItems,
      upstreamItems: [...this.exposures.values()].reduce((n, e) => n + e.concentrator.upstreamCount(), 0),
      pairs: [...this.exposures.values()].map((e) => ({ alias: e.alias, state: e.state, health: e.health().text, items: e.size(), problems: e.problems })),
    };
  }

  private onExposureChange(): void {
    const level = gatewayServiceLevel({
      pairs: [...this.exposures.values()].map((e) => e.health()),
      maintenance: this.maintenance,
      rank: this.options.redundancy && this.options.redundancy.support !== 'None' ? this.options.redundancy.rank : 1,
    });
    if (level !== this.level) {
      this.level = level;
      this.publishServiceLevel();
    }
    this.queueState();
  }

  private publishServiceLevel(): void {
    this.serviceLevelVar?.setValueFromSource(new Variant({ dataType: DataType.Byte, value: this.level }));
  }

  private queueState(): void {
    if (this.stateQueued || this.stopped) return;
    this.stateQueued = true;
    setImmediate(() => {
      this.stateQueued = false;
      if (!this.stopped) this.emit('state', this.state());
    });
  }

  // ---------------------------------------------------------------- client monitored items

  private watchSession(session: ServerSession): void {
    session.on('new_subscription', (subscription: Subscription) => {
      subscription.on('monitoredItem', (item: MonitoredItem) => this.onMonitoredItem(item));
      subscription.on('removeMonitoredItem', (item: MonitoredItem) => this.onMonitoredItemRemoved(item));
    });
  }

  private onMonitoredItem(item: MonitoredItem): void {
    const variable = item.node as UAVariable | null;
    if (!variable || variable.nodeClass !== 2 /* Variable */ || variable.namespaceIndex !== this.namespace?.index) return;
    if ((item.itemToMonitor as { attributeId?: number }).attributeId !== 13 /* Value */) return;
    let items = this.monitored.get(variable);
    if (!items) {
      items = new Map();
      this.monitored.set(variable, items);
    }
    guardOverflow(item);
    const binding = this.bindings.get(variable);
    items.set(item, binding ? binding.exposure.concentrator.acquire(binding.item, item.samplingInterval) : undefined);
    this.queueState();
  }

  private onMonitoredItemRemoved(item: MonitoredItem): void {
    const variable = item.node as UAVariable | null;
    const items = variable ? this.monitored.get(variable) : undefined;
    if (!variable || !items?.has(item)) return;
    const lease = items.get(item);
    items.delete(item);
    if (items.size === 0) this.monitored.delete(variable);
    const binding = this.bindings.get(variable);
    if (lease && binding) binding.exposure.concentrator.release(lease);
    this.queueState();
  }

  // ---------------------------------------------------------------- GatewayHost

  objectsFolder(): UAObject {
    return this.server!.engine.addressSpace!.rootFolder.objects;
  }

  folder(id: string, browseName: string, parent: UAObject | UAVariable, description?: string, displayName?: string): UAObject {
    return this.nodes!.folder(id, browseName, parent, description, displayName);
  }

  variable(id: string, spec: VariableSpec): UAVariable {
    return this.nodes!.variable(id, spec);
  }

  bind(variable: UAVariable, exposure: PairExposure, item: string): void {
    this.unbind(variable);
    this.bindings.set(variable, { exposure, item });
    const items = this.monitored.get(variable);
    if (items) for (const m of items.keys()) items.set(m, exposure.concentrator.acquire(item, m.samplingInterval));
  }

  unbind(variable: UAVariable): void {
    const binding = this.bindings.get(variable);
    if (!binding) return;
    this.bindings.delete(variable);
    const items = this.monitored.get(variable);
    if (!items) return;
    for (const [m, lease] of items) {
      if (lease) binding.exposure.concentrator.release(lease);
      items.set(m, undefined);
    }
  }

  retire(node: UAObject | UAVariable): void {
    this.nodes?.retire(node);
  }

  remove(node: UAObject | UAVariable): void {
    if (node.nodeClass === 2) this.monitored.delete(node as UAVariable);
    this.nodes?.remove(node);
  }
}
