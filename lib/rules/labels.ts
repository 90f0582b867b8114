// What the canvas shows for a node without a name: the runtime logs under the same label, so a
// log line names the node the operator sees. Pure.

export function sourceLabel(name: unknown, items: unknown): string {
  if (typeof name === 'string' && name.trim()) return name.trim();
  const list = Array.isArray(items) ? (items as Array<{ id?: unknown; name?: unknown } | null>) : [];
  if (list.length === 0) return 'redundant source';
  const first = String(list[0]?.name || list[0]?.id || '?');
  return list.length > 1 ? `${first} +${list.length - 1}` : first;
}

export function conditionNodeLabel(name: unknown, conditions: unknown): string {
  if (typeof name === 'string' && name.trim()) return name.trim();
  const list = Array.isArray(conditions) ? (conditions as Array<{ name?: unknown } | null>) : [];
  if (list.length === 1 && list[0]?.name) return String(list[0].name);
  return `failover conditions (${list.length})`;
}

export function diagnosticsLabel(name: unknown): string {
  return typeof name === 'string' && name.trim() ? name.trim() : 'redundancy diagnostics';
}

export function simulatorLabel(name: unknown, port: unknown): string {
  return typeof name === 'string' && name.trim() ? name.trim() : `OPC UA simulator :${String(port ?? '')}`;
}
