// The sending side of the peer link: signed requests over HTTP (fetch, keep-alive), the receiver's
// boot learned with `hello` and learned again after its restart, answers checked against the request
// they answer (auth.ts has the scheme).
import { type PeerRequest, type PeerResponse, PROTOCOL_VERSION, RefusedError, openResponse, sealRequest } from './auth';

export const PEER_PATH = '/redundancy/peer';
/**
 * Requests are sent with this content type, not application/json: Node-RED's admin body parser
 * (limited by its apiMaxLength setting, 5 MB by default) leaves them alone, and the peer-link route
 * reads them itself up to MAX_PEER_REQUEST_BYTES (a catch-up page or a push may be several MB).
 */
export const PEER_CONTENT_TYPE = 'application/vnd.redundancy-peer+json';
export const MAX_PEER_REQUEST_BYTES = 64 * 1024 * 1024;

export interface PeerClientOptions {
  name: string;
  peerUrl: string;
  secret: () => string;
  instanceId: string;
  bootId: string;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer in time';
    if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
    return err.message;
  }
  return String(err);
}

export class PeerClient {
  /** The peer's current boot ('' until it answered hello). */
  peerBoot = '';
  peerInstanceId: string | undefined;
  private seq = 0;

  constructor(private readonly options: PeerClientOptions) {}

  /** One signed request; the answer (ok or not), or throws on transport errors and refusals. */
  async call(service: string, body: unknown, timeoutMs: number, retried = false): Promise<PeerResponse> {
    if (!this.peerBoot && service !== 'hello') await this.hello(timeoutMs);
    const req: PeerRequest = { v: PROTOCOL_VERSION, link: this.options.name, from: this.options.instanceId, fromBoot: this.options.bootId, to: service === 'hello' ? '' : this.peerBoot, seq: ++this.seq, service, body };
    const env = sealRequest(this.options.secret(), req);
    const url = `${this.options.peerUrl.replace(/\/+$/, '')}${PEER_PATH}/${encodeURIComponent(this.options.name)}`;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': PEER_CONTENT_TYPE }, body: JSON.stringify(env), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${res.status} from ${url}: not a peer link (${text.slice(0, 80)})`);
    }
    if (res.status === 401) {
      const r = parsed as PeerResponse;
      throw new RefusedError(r.code ?? 'signature', `the peer refused this instance's request: ${r.error ?? 'signature'}`);
    }
    if (res.status === 404) throw new Error(`the peer has no link named "${this.options.name}" deployed (HTTP 404)`);
    if (res.status === 413) throw new Error(`the request for ${service} is too large for the peer (HTTP 413: ${(parsed as PeerResponse).error ?? ''})`);
    const answer = openResponse(this.options.secret(), parsed, env.s);
    if (answer.instance === this.options.instanceId) {
      throw new RefusedError('identity', answer.error ?? `the peer answered with this instance's own id ${answer.instance}: its user dir is a copy of this one's (redundancy-instance.json), or the peer URL leads back here`);
    }
    if (!answer.ok && answer.code === 'boot' && !retried) {
      this.peerBoot = '';
      return this.call(service, body, timeoutMs, true);
    }
    if (answer.ok && answer.boot) {
      this.peerBoot = answer.boot;
      this.peerInstanceId = answer.instance;
    }
    return answer;
  }

  private async hello(timeoutMs: number): Promise<void> {
    const res = await this.call('hello', {}, timeoutMs);
    if (!res.ok) throw new Error(res.error ?? 'the peer refused hello');
  }
}
