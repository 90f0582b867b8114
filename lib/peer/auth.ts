// Authentication and replay protection of the peer link, without trusting either wall clock.
//
// Every request is an envelope {p, s}: p is the request as a JSON string, s = HMAC-SHA256(secret, p)
// in hex. The request names the link, the sender (instance id and boot id: a random id made at each
// start), the receiver's boot id (learned from the receiver's signed answer to a `hello`), and a
// sequence number that the sender increases with every request of its boot. The receiver refuses:
// - a signature that does not verify: the secrets differ (or the request was altered);
// - a request addressed to another boot of the receiver: a replay from before its restart;
// - a (sender boot, sequence) it has already accepted, or one older than its window of 1024:
//   a replay within its life (the IPsec/DTLS anti-replay window).
// Only `hello` may be addressed to no boot: it changes nothing and answers the receiver's boot id.
// Answers are signed over their own JSON and the request's signature, so an answer cannot be
// forged or replayed onto another request. No timestamps: the two clocks may differ by any amount.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const PROTOCOL_VERSION = 1;
export const REPLAY_WINDOW = 1024;
/** Sender boots remembered per receiver life (each restart of the peer is one). */
const MAX_BOOTS = 1024;

export interface PeerRequest {
  v: number;
  link: string;
  from: string;
  fromBoot: string;
  /** The receiver's boot id; '' only for hello. */
  to: string;
  seq: number;
  service: string;
  body: unknown;
}

export interface PeerResponse {
  ok: boolean;
  /** The responder's boot id. */
  boot: string;
  /** The responder's instance id. */
  instance: string;
  body?: unknown;
  error?: string;
  /** Machine-readable reason for a refusal: signature, boot, replay, service, link. */
  code?: string;
}

export interface Envelope {
  p: string;
  s: string;
}

export function newBootId(): string {
  return randomBytes(9).toString('base64url');
}

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export function verify(secret: string, payload: string, signature: unknown): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const expected = Buffer.from(sign(secret, payload), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

export function sealRequest(secret: string, req: PeerRequest): Envelope {
  const p = JSON.stringify(req);
  return { p, s: sign(secret, p) };
}

/** The answer's signature covers the request's signature: bound to that one request. */
export function sealResponse(secret: string, res: PeerResponse, requestSignature: string): Envelope {
  const p = JSON.stringify(res);
  return { p, s: sign(secret, `${requestSignature}\n${p}`) };
}

export function openResponse(secret: string, env: unknown, requestSignature: string): PeerResponse {
  const e = env as Partial<Envelope> | null;
  if (!e || typeof e.p !== 'string') throw new Error('the peer answered something that is not a peer-link answer');
  if (!verify(secret, `${requestSignature}\n${e.p}`, e.s)) throw new RefusedError('signature', 'the peer\'s answer does not verify: the shared secrets differ');
  return JSON.parse(e.p) as PeerResponse;
}

/** A request or answer refused for its authentication (not a failure of the network). */
export class RefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Window {
  highest: number;
  seen: Set<number>;
}

/**
 * The receiving side: checks signature, addressing and freshness of each request. One per link
 * and boot of this instance.
 */
export class RequestGuard {
  private windows = new Map<string, Window>();

  constructor(
    private readonly secret: () => string,
    readonly bootId: string,
    private readonly linkName: string,
  ) {}

  /** The request, or a RefusedError saying why not. Accepting records the sequence number. */
  open(env: unknown): PeerRequest {
    const e = env as Partial<Envelope> | null;
    if (!e || typeof e.p !== 'string') throw new RefusedError('format', 'not a peer-link request');
    if (!verify(this.secret(), e.p, e.s)) throw new RefusedError('signature', 'a request with a signature that does not verify was refused: the shared secrets differ (or the request was altered on its way)');
    let req: PeerRequest;
    try {
      req = JSON.parse(e.p) as PeerRequest;
    } catch {
      throw new RefusedError('format', 'a signed request that is not JSON');
    }
    if (req.v !== PROTOCOL_VERSION) throw new RefusedError('version', `the peer speaks peer-link protocol ${req.v}, this instance ${PROTOCOL_VERSION}: update both to the same package version`);
    if (req.link !== this.linkName) throw new RefusedError('link', `the request is for link "${req.link}", this is "${this.linkName}"`);
    if (!Number.isSafeInteger(req.seq) || req.seq < 1 || typeof req.fromBoot !== 'string' || !req.fromBoot) throw new RefusedError('format', 'a request without sequence number or boot id');
    if (req.to !== this.bootId && !(req.to === '' && req.service === 'hello')) {
      throw new RefusedError('boot', `a request addressed to boot ${req.to || '(none)'} of this instance, which is now boot ${this.bootId}: refused (a replay from before a restart, or the peer has not yet noticed the restart)`);
    }
    this.accept(req.fromBoot, req.seq);
    return req;
  }

  private accept(boot: string, seq: number): void {
    let w = this.windows.get(boot);
    if (!w) {
      if (this.windows.size >= MAX_BOOTS) {
        const oldest = this.windows.keys().next().value as string;
        this.windows.delete(oldest);
      }
      w = { highest: 0, seen: new Set() };
      this.windows.set(boot, w);
    }
    if (seq <= w.highest - REPLAY_WINDOW || w.seen.has(seq)) {
      throw new RefusedError('replay', `replayed request refused (sequence ${seq} of peer boot ${boot} was already accepted or is older than the last ${REPLAY_WINDOW})`);
    }
    w.seen.add(seq);
    if (seq > w.highest) {
      w.highest = seq;
      if (w.seen.size > REPLAY_WINDOW) for (const s of w.seen) if (s <= w.highest - REPLAY_WINDOW) w.seen.delete(s);
    }
  }
}
