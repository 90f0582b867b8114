// Bounded waiting, shared by the tests and the benchmark.
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until the predicate holds; fails with `what` and the last detail after timeoutMs. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string, detail?: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${JSON.stringify(detail())}` : ''}`);
    }
    await sleep(10);
  }
}

/**
 * Polls an asynchronous check (an HTTP probe of another process) until it holds; a check that
 * throws counts as not yet (the process may be restarting). Fails with `what` and the detail.
 */
export async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, detail?: () => Promise<unknown>, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${JSON.stringify(await detail().catch((e) => String(e)))}` : ''}`);
    await sleep(pollMs);
  }
}
