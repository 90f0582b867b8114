// One pair exposed by a gateway: a folder named by the pair's alias, holding the configured items
// and/or the mirrored subtree of the active channel, as variables with the upstream data types,
// array shapes, access levels, display names and descriptions. Values come from the pair's live
// stream (upstream status codes and source timestamps); reads of items nobody monitors go to the
// serving channel; writes go to it and return its real result.
import type { ItemDescription } from '../core/driver';
import {
  type DataType,
  DataValue,
  type SessionContext,
  type StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
  type Variant,
} from 'node-opcua';
import { Concentrator } from './concentrator';
import { walkMirror } from './mirror';
import type { GatewaySource, PairHealth, SourceChange } from './pair-source';
import { statusOfError } from '../core/error-status';
import { dataTypeOf, fromVariant, publish, settle, statusCode, toDataValue } from './values';
import type { GatewayHost } from './host';

export interface ExposedItem {
  id: string;
  /** Browse and display name in the gateway; the upstream display name when empty. */
  name?: string;
}

export interface ExposureConfig {
  /** Folder name, and the first part of every node id: `ns=<gateway>;s=<alias>/<upstream id>`. */
  alias: string;
  items: ExposedItem[];
  /** Upstream nodes whose subtrees are mirrored below the alias folder (children at the top). */
  mirrorRoots: string[];
  mirrorDepth: number;
  /** Bound on mirrored nodes. */
  maxNodes: number;
}

export type ExposureState = 'waiting' | 'building' | 'ready' | 'failed';

/** Separates the alias from the upstream node id in a gateway node id (aliases cannot contain it). */
export const ALIAS_SEPARATOR = '/';

interface GatewayVar {
  item: string;
  variable: UAVariable;
  dataType: DataType;
  isArray: boolean;
  /** Local time of the last live change (ms). */
  lastData?: number;
  /** Marked BadNoCommunication while no channel served; refreshed when one serves again. */
  stale: boolean;
  /** Reads waiting for the first value of a new upstream item (a new client's initial value). */
  waiting: Array<(dv: DataValue) => void>;
}

const DESCRIBE_CHUNK = 1000;
const READ_CHUNK = 500;
const RETRY_MS = 5000;
/**
 * A gone exposure releases its upstream items this much later: on a full redeploy its pair stops
 * meanwhile and nothing changes on connections being closed; on a redeploy of this node alone the
 * successor (other owner names) has taken over what it needs.
 */
const RELEASE_DELAY_MS = 1000;
let exposureSeq = 0;
/** How long a new client's initial value waits for the new upstream item before a one-shot read. */
const FIRST_VALUE_WAIT_MS = 3000;

export class PairExposure {
  readonly alias: string;
  readonly concentrator: Concentrator;
  state: ExposureState = 'waiting';
  /** Problems found while building (items refused, branches not browsable). */
  problems: string[] = [];
  private folder?: UAObject;
  private vars = new Map<string, GatewayVar>();
  private mirrorFolders = new Map<string, UAObject>();
  /** Gateway nodes in creation order (deleted in reverse). */
  private created: Array<UAObject | UAVariable> = [];
  private unsubscribe: Array<() => void> = [];
  private serving = false;
  private disposed = false;
  private building?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private pendingReads = new Map<string, Array<(c: SourceChange | Error) => void>>();
  private readScheduled = false;

  constructor(
    private readonly host: GatewayHost,
    readonly source: GatewaySource,
    private readonly config: ExposureConfig,
    private readonly onChange: () => void = () => undefined,
  ) {
    this.alias = config.alias;
    this.concentrator = new Concentrator(source, `gateway:${host.id}:${config.alias}:${++exposureSeq}`);
  }

  /** Creates the alias folder and builds the items once a channel serves. */
  start(): void {
    this.folder = this.host.folder(this.nodeIdOf(null), this.alias, this.host.objectsFolder(), `Redundant pair ${this.source.name}`);
    this.created.push(this.folder);
    this.unsubscribe.push(this.source.onData((changes) => this.onData(changes)));
    this.unsubscribe.push(this.source.onHealth((h) => this.onHealth(h)));
    this.onHealth(this.source.health());
  }

  health(): PairHealth {
    return this.source.health();
  }

  /** Variables exposed. */
  size(): number {
    return this.vars.size;
  }

  /** Upstream node ids exposed, with their gateway node ids. */
  exposed(): Array<{ item: string; nodeId: string }> {
    return [...this.vars.values()].map((v) => ({ item: v.item, nodeId: v.variable.nodeId.toString() }));
  }

  /** The mirrored subtree again: new nodes added, vanished ones removed, the others kept as they are. */
  async rebrowse(): Promise<void> {
    if (this.building) await this.building.catch(() => undefined);
    if (this.disposed) return;
    this.building = this.build(true);
    return this.building;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.retryTimer);
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    this.concentrator.freeze();
    for (const v of this.vars.values()) this.host.unbind(v.variable);
    const release = setTimeout(() => {
      this.concentrator.close();
      this.source.close?.();
    }, RELEASE_DELAY_MS);
    release.unref?.();
    for (const cbs of this.pendingReads.values()) for (const cb of cbs) cb(new Error('the pair is no longer exposed'));
    for (const v of this.vars.values()) for (const w of v.waiting.splice(0)) w((v.variable as unknown as { $dataValue: DataValue }).$dataValue);
    this.pendingReads.clear();
    // Kept a moment: a redeployed exposure takes its nodes over, and clients' monitored items stay.
    for (const node of this.created.reverse()) this.host.retire(node);
    this.created = [];
    this.vars.clear();
  }

  // ---------------------------------------------------------------- building

  private onHealth(h: PairHealth): void {
    const was = this.serving;
    this.serving = h.serving;
    if (h.serving && (this.state === 'waiting' || this.state === 'failed') && !this.building) {
      this.building = this.build(false);
    }
    if (was && !h.serving) this.markNoCommunication();
    if (!was && h.serving) this.refreshStale();
    this.onChange();
  }

  private async build(again: boolean): Promise<void> {
    this.state = 'building';
    this.onChange();
    const problems: string[] = [];
    try {
      const listed = this.config.items.filter((it) => it.id);
      const mirror = this.config.mirrorRoots.length > 0 ? await walkMirror(this.source, this.config.mirrorRoots, this.config.mirrorDepth, this.config.maxNodes) : { nodes: [], truncated: false, errors: [] };
      if (this.disposed) return;
      problems.push(...mirror.errors);
      if (mirror.truncated) problems.push(`mirror stopped at ${this.config.maxNodes} nodes (raise "max nodes" or narrow the roots)`);
      const listedIds = new Set(listed.map((it) => it.id));
      const mirrored = mirror.nodes.filter((n) => !listedIds.has(n.id));
      const wanted = new Set([...listedIds, ...mirrored.map((n) => n.id)]);
      if (again) this.removeVanished(wanted);
      const toDescribe = [...listedIds, ...mirrored.filter((n) => n.kind === 'variable').map((n) => n.id)].filter((id) => !this.vars.has(id));
      const described = new Map<string, ItemDescription>();
      for (let i = 0; i < toDescribe.length; i += DESCRIBE_CHUNK) {
        for (const d of await this.source.describe(toDescribe.slice(i, i + DESCRIBE_CHUNK))) described.set(d.id, d);
      }
      if (this.disposed) return;
      for (const it of listed) {
        const d = described.get(it.id);
        if (!d) continue;
        if (d.error) problems.push(`${it.id}: ${d.error}`);
        else this.addVariable(d, this.folder!, it.name, false);
      }
      for (const n of mirrored) {
        const parent = n.parent === null ? this.folder! : (this.mirrorFolders.get(n.parent) ?? this.vars.get(n.parent)?.variable);
        if (!parent) continue;
        if (n.kind === 'folder') {
          if (!this.mirrorFolders.has(n.id)) {
            const f = this.host.folder(this.nodeIdOf(n.id), n.browseName, parent as UAObject, undefined, n.displayName);
            this.mirrorFolders.set(n.id, f);
            this.created.push(f);
          }
          continue;
        }
        const d = described.get(n.id);
        if (!d) continue;
        if (d.error) problems.push(`${n.id}: ${d.error}`);
        else this.addVariable({ ...d, displayName: d.displayName ?? n.displayName }, parent, undefined, this.vars.has(n.parent ?? ''), n.browseName);
      }
      this.problems = problems;
      this.state = 'ready';
    } catch (err) {
      this.problems = [...problems, `cannot build the address space: ${err instanceof Error ? err.message : String(err)}`];
      this.state = 'failed';
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (!this.disposed && this.serving && !this.building) this.building = this.build(again);
      }, RETRY_MS);
      this.retryTimer.unref?.();
    } finally {
      this.building = undefined;
      this.onChange();
    }
  }

  private addVariable(d: ItemDescription, parent: UAObject | UAVariable, name: string | undefined, childOfVariable: boolean, browseName?: string): void {
    if (this.vars.has(d.id)) return;
    const nodeId = this.nodeIdOf(d.id);
    try {
      const variable = this.host.variable(nodeId, {
        parent,
        childOfVariable,
        browseName: name || browseName || d.displayName || d.id,
        displayName: name || d.displayName || d.id,
        description: d.description,
        dataType: d.dataType,
        valueRank: d.valueRank,
        arrayDimensions: d.arrayDimensions,
        readable: d.readable,
        writable: d.writable,
      });
      const gv: GatewayVar = { item: d.id, variable, dataType: dataTypeOf(d.dataType), isArray: d.valueRank >= 0 || (d.arrayDimensions?.length ?? 0) > 0, stale: false, waiting: [] };
      this.vars.set(d.id, gv);
      this.created.push(variable);
      this.bind(gv);
    } catch (err) {
      this.problems.push(`${d.id}: cannot be exposed (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private removeVanished(wanted: Set<string>): void {
    const gone = new Set<UAObject | UAVariable>();
    for (const [id, v] of this.vars) {
      if (wanted.has(id)) continue;
      this.host.unbind(v.variable);
      this.concentrator.releaseItem(id);
      this.vars.delete(id);
      gone.add(v.variable);
    }
    for (const [id, f] of this.mirrorFolders) {
      if (wanted.has(id)) continue;
      this.mirrorFolders.delete(id);
      gone.add(f);
    }
    const keep: Array<UAObject | UAVariable> = [];
    for (const n of this.created) if (!gone.has(n)) keep.push(n);
    for (const n of [...this.created].reverse()) if (gone.has(n)) this.host.remove(n);
    this.created = keep;
  }

  /** `s=<alias>` for the folder, `s=<alias>/<upstream id>` for everything below it. */
  private nodeIdOf(item: string | null): string {
    return item === null ? this.alias : `${this.alias}${ALIAS_SEPARATOR}${item}`;
  }

  // ---------------------------------------------------------------- values, reads and writes

  private bind(gv: GatewayVar): void {
    const { variable } = gv;
    this.host.bind(variable, this, gv.item);
    variable.bindVariable({ refreshFunc: (callback: (err: Error | null, dv?: DataValue) => void) => this.refresh(gv, callback) }, true);
    const exposure = this;
    // Writes go upstream and answer with the upstream result; the value shown changes only when the
    // upstream server reports it (no echo of a write that did not happen).
    (variable as unknown as { writeValue: (context: SessionContext, dataValue: DataValue, ...args: unknown[]) => void }).writeValue = function (context: SessionContext, dataValue: DataValue, ...args: unknown[]) {
      const callback = args[args.length - 1] as (err: Error | null, status: StatusCode) => void;
      const indexRange = args.length === 2 ? (args[0] as { isEmpty?: () => boolean } | null) : null;
      exposure.write(gv, context, dataValue, indexRange).then((s) => callback(null, s), () => callback(null, StatusCodes.BadInternalError));
    };
  }

  /** True when the cached value is the live one (an upstream item exists and has reported since). */
  private isLive(gv: GatewayVar): boolean {
    const since = this.concentrator.monitoredSince(gv.item);
    return since !== undefined && gv.lastData !== undefined && gv.lastData >= since;
  }

  private refresh(gv: GatewayVar, callback: (err: Error | null, dv?: DataValue) => void): void {
    const current = (gv.variable as unknown as { $dataValue: DataValue }).$dataValue;
    if (this.isLive(gv) || this.disposed) return callback(null, current);
    if (this.concentrator.clients(gv.item) > 0 && this.serving) {
      // A client's new monitored item: its initial value is the upstream item's first one, so the
      // changes after it reach the client without a hole (a one-shot read now would leave one
      // until the upstream item reports). Bounded: a silent item falls back to a read.
      let answered = false;
      const answer = (dv: DataValue) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        callback(null, dv);
      };
      const timer = setTimeout(() => {
        gv.waiting = gv.waiting.filter((w) => w !== answer);
        this.readNow(gv, answer);
      }, FIRST_VALUE_WAIT_MS);
      timer.unref?.();
      gv.waiting.push(answer);
      return;
    }
    this.readNow(gv, (dv) => callback(null, dv));
  }

  /** A one-shot upstream read (batched); live data that came meanwhile wins. */
  private readNow(gv: GatewayVar, callback: (dv: DataValue) => void): void {
    this.readLater(gv.item, (result) => {
      const current = (gv.variable as unknown as { $dataValue: DataValue }).$dataValue;
      if (this.isLive(gv)) return callback(current);
      if (result instanceof Error) {
        return callback(new DataValue({ value: current?.value, statusCode: statusCode(statusOfError(result)), sourceTimestamp: current?.sourceTimestamp, serverTimestamp: new Date() }));
      }
      callback(toDataValue(result, gv.dataType, gv.isArray));
    });
  }

  private async write(gv: GatewayVar, context: SessionContext, dataValue: DataValue, indexRange: { isEmpty?: () => boolean } | null): Promise<StatusCode> {
    const v = gv.variable as unknown as {
      isWritable(c: SessionContext): boolean;
      isUserWritable(c: SessionContext): boolean;
      checkPermissionPrivate?(c: SessionContext, p: number): boolean;
      checkVariantCompatibility(value: Variant): StatusCode;
    };
    if (!v.isWritable(context)) return StatusCodes.BadNotWritable;
    if (v.checkPermissionPrivate && !v.checkPermissionPrivate(context, 0x20 /* PermissionType.Write */)) return StatusCodes.BadUserAccessDenied;
    if (!v.isUserWritable(context)) return StatusCodes.BadUserAccessDenied;
    if (indexRange && indexRange.isEmpty && !indexRange.isEmpty()) return StatusCodes.BadWriteNotSupported;
    if (!dataValue.value) return StatusCodes.BadTypeMismatch;
    const compatible = v.checkVariantCompatibility(dataValue.value);
    if (!compatible.equals(StatusCodes.Good)) return compatible;
    try {
      await this.source.write(gv.item, fromVariant(dataValue.value));
      return StatusCodes.Good;
    } catch (err) {
      return statusCode(statusOfError(err));
    }
  }

  private onData(changes: SourceChange[]): void {
    if (this.vars.size === 0) return;
    const now = Date.now();
    for (const c of changes) {
      const gv = this.vars.get(c.item);
      if (!gv) continue;
      gv.lastData = now;
      gv.stale = false;
      const dv = toDataValue(c, gv.dataType, gv.isArray);
      if (gv.waiting.length > 0) {
        // The first value of a new upstream item: it is the waiting clients' initial value (and
        // only that: notified as a change too, it would reach them twice).
        const waiting = gv.waiting;
        gv.waiting = [];
        if (settle(gv.variable, dv)) for (const w of waiting) w(dv);
        else for (const w of waiting) w((gv.variable as unknown as { $dataValue: DataValue }).$dataValue);
        continue;
      }
      publish(gv.variable, dv);
    }
  }

  /** No channel serves: every value shown says so (last value kept, BadNoCommunication, now). */
  private markNoCommunication(): void {
    const now = new Date();
    for (const gv of this.vars.values()) {
      const current = (gv.variable as unknown as { $dataValue?: DataValue }).$dataValue;
      if (!current || current.statusCode.equals(StatusCodes.BadNoCommunication)) continue;
      gv.stale = true;
      gv.lastData = undefined;
      publish(gv.variable, new DataValue({ value: current.value, statusCode: StatusCodes.BadNoCommunication, sourceTimestamp: now, serverTimestamp: now }));
    }
  }

  /** A channel serves again: monitored items marked stale get their current value (unchanged ones are not re-sent upstream). */
  private refreshStale(): void {
    for (const gv of this.vars.values()) {
      if (!gv.stale || !this.concentrator.isMonitored(gv.item)) continue;
      this.readLater(gv.item, (result) => {
        if (!gv.stale || result instanceof Error || this.disposed) return;
        gv.stale = false;
        publish(gv.variable, toDataValue(result, gv.dataType, gv.isArray));
      });
    }
  }

  /** One upstream Read per turn for every item asked in it. */
  private readLater(item: string, cb: (c: SourceChange | Error) => void): void {
    const list = this.pendingReads.get(item);
    if (list) list.push(cb);
    else this.pendingReads.set(item, [cb]);
    if (this.readScheduled) return;
    this.readScheduled = true;
    setImmediate(() => {
      this.readScheduled = false;
      const batch = this.pendingReads;
      this.pendingReads = new Map();
      const items = [...batch.keys()];
      for (let i = 0; i < items.length; i += READ_CHUNK) {
        const chunk = items.slice(i, i + READ_CHUNK);
        this.source.read(chunk).then(
          (values) => chunk.forEach((id, k) => batch.get(id)?.forEach((fn) => fn(values[k] ?? new Error('no value')))),
          (err: Error) => chunk.forEach((id) => batch.get(id)?.forEach((fn) => fn(err))),
        );
      }
    });
  }
}

