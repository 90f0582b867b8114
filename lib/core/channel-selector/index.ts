// The channel selector's engine (Citect IO channels fed by messages), in small parts: rules (which
// channel a message belongs to), quality (what a message says about its path), master (the
// master-status item), health (one channel's judgement), select (which channel is active), writes
// (routing and the guard's hold queue), events (what the diagnostics log reads), engine (all of it on
// one clock), config and status-text.
export { type ChannelConfig, type ChannelSpec, DEFAULTS, type SelectorConfig, type SelectorDef, parseSelectorConfig } from './config';
export { ChannelSelectorEngine, ControlError, type InputResult, type SelectorSink, type SelectorStatus } from './engine';
export { selectorStatusText } from './status-text';
export { WriteRejected } from './writes';
