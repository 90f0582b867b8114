// The package's programmatic API (package.json "main"): the engine, the OPC UA driver and the
// simulator, for use outside Node-RED flows (tests, tools, other runtimes).
export * from './core/types';
export { type Clock, FakeClock, realClock } from './core/clock';
export { NoActiveServerError, type PairOptions, RedundantPair } from './core/pair';
export { pairHub } from './core/hub';
export { ConditionMonitor, type ConditionSpec, validateCondition, validateConditions } from './core/conditions';
export { EventLog, type EventFilter, type LoggedEvent } from './core/event-log';
export { SqliteEventStore } from './store/sqlite-event-store';
export { OpcuaDriver, type OpcuaDriverOptions, validateEndpointUrl, validateNodeId } from './drivers/opcua';
export { OpcuaSimulator, SIM_ITEMS, type SimulatorOptions, bulkItemId } from './sim/opcua-simulator';
export { SimulatorProcess } from './sim/sim-process';
export { ChannelSelectorEngine, parseSelectorConfig, type SelectorConfig, type SelectorDef, type SelectorStatus } from './core/channel-selector';
export type { DutyStatus, PeerHandler, PeerLinkApi, PeerLinkStatus } from './peer/api';
export { PeerLink, type PeerLinkOptions } from './peer/link';
export { StandbyStore } from './peer/standby-store';
export { StandbyWrite } from './peer/standby-write';
