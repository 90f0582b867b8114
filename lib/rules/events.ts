// The kinds of event every source (pairs, channel selectors, peer links, alarm and trend pairs)
// reports to the diagnostics node: one list for the runtime and the editor (the diagnostics
// dialog's filter), so the two never differ. Pure, like all of lib/rules.

export type RedundancyEventKind =
  | 'connecting'
  | 'connected'
  | 'connect-failed'
  | 'connection-lost'
  | 'ping-timeout'
  | 'degraded'
  | 'restored'
  | 'failover'
  | 'promotion'
  | 'switch-complete'
  | 'manual-switch'
  | 'both-down'
  | 'both-bad'
  | 'recovered'
  | 'stream-lag'
  | 'write-rejected'
  | 'write-redirected'
  | 'condition-fired'
  | 'condition-cleared'
  | 'item-error'
  // peer link (two Node-RED instances): link state, duty hand-over, MQTT witness
  | 'peer-up'
  | 'peer-down'
  | 'peer-refused'
  | 'duty-taken'
  | 'duty-released'
  | 'witness-up'
  | 'witness-down'
  // channel-selector (Citect IO channels fed by messages); its switches use failover / promotion /
  // manual-switch / switch-complete / recovered, its item quality degraded / restored.
  | 'channel-down'
  | 'channel-up'
  | 'all-down'
  | 'master-changed'
  | 'write-held'
  | 'write-released'
  // alarm-sync (lib/alarm) and trend-backfill (lib/trend)
  | 'alarm-caught-up'
  | 'alarm-acks-delivered'
  | 'alarm-sync-failed'
  | 'alarm-actions-taken-over'
  | 'backfill-started'
  | 'backfill-progress'
  | 'backfill-complete'
  | 'backfill-deferred'
  | 'trend-gap-both'
  | 'store-error';

export const EVENT_KINDS: readonly RedundancyEventKind[] = [
  'connecting', 'connected', 'connect-failed', 'connection-lost', 'ping-timeout', 'degraded',
  'restored', 'failover', 'promotion', 'switch-complete', 'manual-switch', 'both-down',
  'both-bad', 'recovered', 'stream-lag', 'write-rejected', 'write-redirected', 'condition-fired',
  'condition-cleared', 'item-error', 'channel-down', 'channel-up', 'all-down', 'master-changed', 'write-held',
  'write-released',
  'peer-up', 'peer-down', 'peer-refused', 'duty-taken', 'duty-released', 'witness-up', 'witness-down',
  'alarm-caught-up', 'alarm-acks-delivered', 'alarm-sync-failed', 'alarm-actions-taken-over',
  'backfill-started', 'backfill-progress', 'backfill-complete', 'backfill-deferred', 'trend-gap-both', 'store-error',
];
