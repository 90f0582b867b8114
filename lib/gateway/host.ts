// What a pair exposure needs of the gateway that hosts it: nodes in the gateway's namespace that
// outlive a redeploy of the exposure (clients' monitored items stay on them), and the link from a
// variable to the exposure serving it (client monitored items become upstream items there).
import type { UAObject, UAVariable } from 'node-opcua';
import type { PairExposure } from './exposure';

export interface VariableSpec {
  parent: UAObject | UAVariable;
  /** The parent is a variable (a property or component of it), not a folder. */
  childOfVariable: boolean;
  browseName: string;
  displayName: string;
  description?: string;
  /** Built-in data type name (Variant = any). */
  dataType: string;
  valueRank: number;
  arrayDimensions?: number[];
  readable: boolean;
  writable: boolean;
}

export interface GatewayHost {
  /** Unique per gateway in the process (owners of upstream items are named after it). */
  readonly id: string;
  objectsFolder(): UAObject;
  /** A folder `ns=<gateway>;s=<id>`: a retired one of that id is taken over, else created. */
  folder(id: string, browseName: string, parent: UAObject | UAVariable, description?: string, displayName?: string): UAObject;
  /** A variable `ns=<gateway>;s=<id>`: a retired one of the same shape is taken over, else created. */
  variable(id: string, spec: VariableSpec): UAVariable;
  /** Client monitored items on the variable (present and future) lease its upstream item from the exposure. */
  bind(variable: UAVariable, exposure: PairExposure, item: string): void;
  unbind(variable: UAVariable): void;
  /** The node goes unless taken over within a moment (a redeploy). */
  retire(node: UAObject | UAVariable): void;
  /** The node goes now. */
  remove(node: UAObject | UAVariable): void;
}
