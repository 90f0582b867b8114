// A short-lived OPC UA connection for the editor (browse, search, describe with the dialog's
// unsaved settings): the same driver, certificate store and security as a pair's, bounded in time
// and always closed, whatever happens (a blackholed server included).
import { realClock, withTimeout } from '../core/clock';
import { OpcuaDriver, type OpcuaDriverOptions } from './opcua';

export type TemporarySettings = Pick<OpcuaDriverOptions, 'endpointUrl' | 'securityMode' | 'securityPolicy' | 'userName' | 'password' | 'userDir' | 'acceptUnknownCertificates'>;

/**
 * Connects with `settings`, runs `work`, closes. Rejects after `timeoutMs` with a message naming
 * the server; the connection is closed then too (at once if it is up, else as soon as the
 * connection attempt, itself bounded, gives up).
 */
export async function withTemporarySession<T>(settings: TemporarySettings, timeoutMs: number, work: (driver: OpcuaDriver) => Promise<T>): Promise<T> {
  const pingTimeoutMs = Math.max(200, Math.floor((timeoutMs - 1000) / 2));
  const driver = new OpcuaDriver({ ...settings, pingIntervalMs: 1000, pingTimeoutMs, sessionName: 'node-red-contrib-redundancy editor' });
  driver.attach({ data: () => undefined, lost: () => undefined, itemErrors: () => undefined });
  const closeWhenSettled = () => driver.disconnect();
  const attempt = (async () => {
    await driver.connect();
    return work(driver);
  })();
  try {
    return await withTimeout(realClock, attempt, timeoutMs, `no answer from ${settings.endpointUrl} within ${timeoutMs} ms`);
  } finally {
    // Close now (if connected), and again once the attempt has settled (a connect still under way
    // ends within its own bound and must not leave its socket behind).
    void driver.disconnect();
    attempt.then(closeWhenSettled, closeWhenSettled).catch(() => undefined);
  }
}
