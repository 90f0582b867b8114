// `npm test` runs every test; `npm run test:file -- dist/test/unit/x.test.js [...]` runs only the
// files named (the suite's spec list is left out when test files are given on the command line).
const named = process.argv.slice(2).some((a) => !a.startsWith('-') && /\.js$/.test(a));
module.exports = {
  ...(named ? {} : { spec: ['dist/test/unit/**/*.test.js', 'dist/test/integration/**/*.test.js', 'dist/test/e2e/**/*.test.js'] }),
  timeout: 30000,
  exit: true,
  reporter: 'spec',
};
