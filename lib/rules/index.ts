// The package's shared rules: pure modules (no Node builtins, no packages) used by the runtime and,
// bundled by scripts/build.mjs into resources/rules.js, by the editor as window.RedundancyRules.
// A further pure module joins both with one line here.
export * as text from './text';
export * as numbers from './numbers';
export * as names from './names';
export * as opcua from './opcua';
export * as protocols from './protocols';
export * as pair from './pair';
export * as items from './items';
export * as conditions from './conditions';
export * as templates from './templates';
export * as diagnostics from './diagnostics';
export * as simulator from './simulator';
export * as labels from './labels';
export * as modbus from './modbus';
