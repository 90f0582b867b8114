const { runFailoverCase } = require('./dist/bench/failover');
(async () => {
  for (let i = 0; i < 14; i++) {
    const r = await runFailoverCase({ mode: 'hot', fault: 'blackhole', items: 1000, sampling_ms: 100, ping_interval_ms: 500, ping_timeout_ms: 500 });
    console.log('RESULT', r.detect_ms, r.stall_ms, r.lost, r.duplicates);
  }
  process.exit(0);
})();
