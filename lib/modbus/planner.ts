// The request planner: items in, as few read requests as the ranges and the limits allow out.
// One request reads one table of one unit (one function code) and at most maxRegisters registers
// (125) or maxBits bits (2000). Items are merged when they touch or overlap; a gap of unmapped
// addresses is bridged only up to maxGap (default 0: never read an address no item asked for, a
// device may answer it with "illegal data address"), and never across a range known to be
// unreadable. Pure: the driver re-plans when its item set changes or a merged read fails.
import type { Area } from '../rules/modbus';

/** Function code of a read of each table. */
export const READ_FC: Record<Area, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

export interface PlanEntry {
  /** Caller's key (the driver's item id). */
  key: string;
  unit: number;
  area: Area;
  address: number;
  /** Registers or bits. */
  span: number;
  /** Read alone: its address failed in a merged read before. */
  isolated?: boolean;
}

export interface ReadBlock {
  unit: number;
  area: Area;
  fc: 1 | 2 | 3 | 4;
  address: number;
  /** Registers or bits read. */
  count: number;
  /** The entries served by this read and where each starts in the answer. */
  members: Array<{ key: string; offset: number }>;
}

export interface PlanLimits {
  maxRegisters: number;
  maxBits: number;
  maxGap: number;
  /** Address ranges known to be unreadable, per `${unit}:${area}`: [from, to) pairs a merged read must not span. */
  unreadable?: Map<string, Array<[number, number]>>;
}

export function tableKey(unit: number, area: Area): string {
  return `${unit}:${area}`;
}

function crossesUnreadable(ranges: Array<[number, number]> | undefined, from: number, to: number): boolean {
  if (!ranges || from >= to) return false;
  for (const [a, b] of ranges) if (a < to && b > from) return true;
  return false;
}

/**
 * Merges entries into read blocks. Order of the result: by unit, table, address (a stable poll
 * order, which makes a request log comparable between cycles).
 */
export function planReads(entries: PlanEntry[], limits: PlanLimits): ReadBlock[] {
  const groups = new Map<string, PlanEntry[]>();
  for (const e of entries) {
    const k = tableKey(e.unit, e.area);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const order: Area[] = ['coil', 'discrete', 'holding', 'input'];
  const keys = [...groups.keys()].sort((a, b) => {
    const [ua, aa] = a.split(':');
    const [ub, ab] = b.split(':');
    return Number(ua) - Number(ub) || order.indexOf(aa as Area) - order.indexOf(ab as Area);
  });
  const out: ReadBlock[] = [];
  for (const k of keys) {
    const g = groups.get(k)!.slice().sort((a, b) => a.address - b.address || b.span - a.span || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const { unit, area } = g[0];
    const bitTable = area === 'coil' || area === 'discrete';
    const limit = bitTable ? limits.maxBits : limits.maxRegisters;
    // An isolated item failed inside a merged read: its addresses are not bridged either.
    const unreadable = [...(limits.unreadable?.get(k) ?? []), ...g.filter((e) => e.isolated).map((e) => [e.address, e.address + e.span] as [number, number])];
    let cur: { address: number; end: number; members: PlanEntry[] } | undefined;
    const close = () => {
      if (!cur) return;
      out.push({
        unit,
        area,
        fc: READ_FC[area],
        address: cur.address,
        count: cur.end - cur.address,
        members: cur.members.map((m) => ({ key: m.key, offset: m.address - cur!.address })),
      });
      cur = undefined;
    };
    for (const e of g) {
      if (e.isolated) {
        out.push({ unit, area, fc: READ_FC[area], address: e.address, count: e.span, members: [{ key: e.key, offset: 0 }] });
        continue;
      }
      const end = e.address + e.span;
      if (cur) {
        const gap = e.address - cur.end;
        const newEnd = Math.max(cur.end, end);
        if (gap <= limits.maxGap && newEnd - cur.address <= limit && !crossesUnreadable(unreadable, cur.end, e.address)) {
          cur.end = newEnd;
          cur.members.push(e);
          continue;
        }
        close();
      }
      cur = { address: e.address, end, members: [e] };
    }
    close();
  }
  return out;
}
