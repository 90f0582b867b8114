// Node-RED settings for `npm start`: local only, no credentials secret prompt, quiet.
module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'node-red-contrib-redundancy-demo',
  flowFilePretty: true,
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
  runtimeState: { enabled: false, ui: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
};
