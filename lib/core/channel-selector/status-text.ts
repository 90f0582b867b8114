// How a channel selector's state reads on its node status: the active channel and why it is that
// one. Green: the preferred channel; yellow: another one (with what is wrong with the more
// preferred ones), or pinned; red: none. Held writes are counted.
import type { SelectorStatus } from './engine';

export interface StatusDot {
  fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape: 'ring' | 'dot';
  text: string;
}

const MAX_TEXT = 60;

/** A reason without the detail events carry: 'no data for 600 ms (last: A/regs: error: …)' → 'no data for 600 ms'. */
function brief(reason: string): string {
  return reason.replace(/ \(last: .*\)$/, '');
}

function shorten(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function selectorStatusText(s: SelectorStatus): StatusDot {
  const held = s.heldWrites > 0 ? ` · ${s.heldWrites} write${s.heldWrites === 1 ? '' : 's'} held` : '';
  if (s.active === null || s.activeIndex === null) {
    const pinned = s.control === 'auto' ? undefined : s.channels.find((c) => c.name === s.control);
    if (pinned) return { fill: 'red', shape: 'ring', text: shorten(`${pinned.name} pinned, ${pinned.state}: ${brief(pinned.reason) || pinned.state}${held}`) };
    if (s.starting) {
      const waiting = s.channels.filter((c) => c.state === 'pending').map((c) => c.name);
      return { fill: 'yellow', shape: 'ring', text: shorten(`${waiting.length > 0 ? `waiting for ${waiting.join(', ')}` : 'starting'}${held}`) };
    }
    const why = s.channels.map((c) => `${c.name} ${brief(c.reason) || c.state}`).join('; ');
    return { fill: 'red', shape: 'ring', text: shorten(`no channel${held}: ${why}`) };
  }
  const active = s.channels[s.activeIndex];
  const master = s.guard ? (active.master === true ? ' (master)' : ' (not master)') : '';
  if (s.control !== 'auto') {
    const bad = active.state === 'down' || active.state === 'pending' || active.state === 'disabled';
    return { fill: bad ? 'red' : 'yellow', shape: 'dot', text: shorten(`${active.name}${master} pinned${bad ? `, ${active.state}: ${brief(active.reason)}` : ''}${held}`) };
  }
  const degraded = active.state === 'degraded' ? `, degraded: ${active.reason}` : '';
  if (s.activeIndex === 0) {
    const fill = held || (s.guard && active.master !== true) || degraded ? 'yellow' : 'green';
    return { fill, shape: 'dot', text: shorten(`${active.name}${master}${degraded}${held}`) };
  }
  // Why not a more preferred one: the first one's reason, or that the selector stays (Citect's cluster clients).
  const better = s.channels.slice(0, s.activeIndex);
  const firstBad = better.find((c) => c.state !== 'healthy' || (s.guard && c.master !== true));
  let why: string;
  if (firstBad) why = `${firstBad.name} ${firstBad.state === 'healthy' ? firstBad.masterReason ?? 'not master' : brief(firstBad.reason) || firstBad.state}`;
  else why = s.returnMode === 'stay' ? `staying (${better[0].name} healthy)` : `${better[0].name} healthy, hold-off`;
  return { fill: 'yellow', shape: 'dot', text: shorten(`${active.name}${master}${degraded}: ${why}${held}`) };
}
