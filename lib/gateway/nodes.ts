// The gateway's own namespace: folders and variables created for pair exposures, with the access
// rights of the gateway (read-only, anonymous writes, users who may write) as role permissions, and
// a short retirement: a node an exposure gives up stays while a redeploy creates its successor,
// which takes it over with the clients' monitored items on it.
import {
  AccessLevelFlag,
  DataType,
  DataValue,
  type Namespace,
  PermissionFlag,
  StatusCodes,
  type UAObject,
  type UAVariable,
  WellKnownRoles,
  makeAccessLevelFlag,
  resolveNodeId,
} from 'node-opcua';
import type { VariableSpec } from './host';
import { dataTypeOf } from './values';

/** How long a node given up by an exposure waits to be taken over by its redeployed successor. */
export const RETIRE_MS = 3000;

export interface AccessRights {
  readOnly: boolean;
  anonymousWrite: boolean;
}

/**
 * Role permissions of an exposed variable: everyone reads; Operators (users allowed to write) write.
 * A read-only gateway or item is a matter of the access level (BadNotWritable for everyone), not of
 * who asks (BadUserAccessDenied).
 */
export function rolePermissions(rights: AccessRights) {
  const read = PermissionFlag.Browse | PermissionFlag.Read | PermissionFlag.ReadRolePermissions;
  const write = PermissionFlag.Write;
  return [
    { roleId: resolveNodeId(WellKnownRoles.Anonymous), permissions: read | (rights.anonymousWrite ? write : 0) },
    { roleId: resolveNodeId(WellKnownRoles.AuthenticatedUser), permissions: read },
    { roleId: resolveNodeId(WellKnownRoles.Operator), permissions: read | write },
  ];
}

function shapeOf(spec: VariableSpec, rights: AccessRights): string {
  return JSON.stringify([spec.dataType, spec.valueRank, spec.arrayDimensions ?? [], spec.readable, spec.writable && !rights.readOnly, spec.displayName, spec.description ?? '', spec.browseName]);
}

interface Retired {
  node: UAObject | UAVariable;
  timer: NodeJS.Timeout;
}

export class GatewayNodes {
  private shapes = new WeakMap<UAVariable, string>();
  private retired = new Map<string, Retired>();

  constructor(
    private readonly namespace: Namespace,
    private readonly rights: AccessRights,
  ) {}

  private key(id: string): string {
    return `ns=${this.namespace.index};s=${id}`;
  }

  private takeOver(id: string): UAObject | UAVariable | undefined {
    const r = this.retired.get(this.key(id));
    if (!r) return undefined;
    clearTimeout(r.timer);
    this.retired.delete(this.key(id));
    return this.exists(r.node) ? r.node : undefined;
  }

  folder(id: string, browseName: string, parent: UAObject | UAVariable, description?: string, displayName?: string): UAObject {
    const old = this.takeOver(id);
    if (old && old.nodeClass === 1 /* Object */) return old as UAObject;
    if (old) this.remove(old);
    return this.namespace.addFolder(parent as UAObject, { browseName, displayName: displayName ?? browseName, nodeId: `s=${id}`, description });
  }

  variable(id: string, spec: VariableSpec): UAVariable {
    const shape = shapeOf(spec, this.rights);
    const old = this.takeOver(id);
    if (old && this.shapes.get(old as UAVariable) === shape) return old as UAVariable;
    if (old) this.remove(old);
    const writable = spec.writable && !this.rights.readOnly;
    const access = makeAccessLevelFlag((spec.readable ? AccessLevelFlag.CurrentRead : 0) | (writable ? AccessLevelFlag.CurrentWrite : 0));
    const type = dataTypeOf(spec.dataType);
    const variable = this.namespace.addVariable({
      ...(spec.childOfVariable ? { componentOf: spec.parent } : { organizedBy: spec.parent }),
      browseName: spec.browseName,
      displayName: spec.displayName,
      description: spec.description,
      nodeId: `s=${id}`,
      dataType: type === DataType.Variant ? 'BaseDataType' : DataType[type],
      valueRank: spec.valueRank,
      arrayDimensions: spec.arrayDimensions,
      accessLevel: access,
      userAccessLevel: access,
      // Exception-based: a client asking for sampling 0 gets every upstream change.
      minimumSamplingInterval: 0,
      value: { dataType: DataType.Null },
    } as never) as UAVariable;
    variable.setRolePermissions(rolePermissions(this.rights));
    (variable as unknown as { _internal_set_dataValue(d: DataValue): void })._internal_set_dataValue(new DataValue({ statusCode: StatusCodes.BadWaitingForInitialData, serverTimestamp: new Date() }));
    this.shapes.set(variable, shape);
    return variable;
  }

  retire(node: UAObject | UAVariable): void {
    const key = node.nodeId.toString();
    if (this.retired.has(key) || !this.exists(node)) return;
    const timer = setTimeout(() => {
      this.retired.delete(key);
      this.remove(node);
    }, RETIRE_MS);
    timer.unref?.();
    this.retired.set(key, { node, timer });
  }

  remove(node: UAObject | UAVariable): void {
    const key = node.nodeId.toString();
    const r = this.retired.get(key);
    if (r) {
      clearTimeout(r.timer);
      this.retired.delete(key);
    }
    if (this.exists(node)) this.namespace.deleteNode(node);
  }

  /** Every retired node goes now (the gateway stops). */
  clear(): void {
    for (const r of this.retired.values()) clearTimeout(r.timer);
    this.retired.clear();
  }

  private exists(node: UAObject | UAVariable): boolean {
    return this.namespace.findNode(node.nodeId) === node;
  }
}
