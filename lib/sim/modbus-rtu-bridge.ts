// The RTU sides of the Modbus simulator: RTU frames (address, PDU, CRC) arriving over TCP (RTU over
// TCP, as a serial device server forwards them) or on a serial port (one end of a pseudo-terminal
// pair) are framed, checked and passed to the simulator's Modbus TCP server over an internal
// loopback connection; its answers go back as RTU frames. One device image, three paths to it,
// as with a PLC that has an Ethernet port and a serial port.
import { type Socket, connect } from 'node:net';

/** CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF), low byte first on the wire. */
export function crc16(buf: Uint8Array, end = buf.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= buf[i];
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Length of a request frame from its first bytes; undefined when more bytes are needed. */
function requestLength(buf: Buffer): number | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1];
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      return 8;
    case 15:
    case 16:
      return buf.length < 7 ? undefined : 9 + buf[6];
    case 22:
      return 10;
    case 17:
      return 4;
    case 43:
      return 7;
    default:
      // Unknown function: the unit id, the code and a CRC at least; the server answers "illegal function".
      return 4;
  }
}

/** Splits a byte stream into CRC-checked request frames; garbage is skipped a byte at a time. */
export class RtuRequestFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Frames dropped for a bad CRC (noise on the line). */
  crcErrors = 0;

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Buffer[] = [];
    for (;;) {
      const len = requestLength(this.buf);
      if (len === undefined || this.buf.length < len) break;
      const frame = this.buf.subarray(0, len);
      if (crc16(frame, len - 2) === frame.readUInt16LE(len - 2)) {
        frames.push(Buffer.from(frame));
        this.buf = this.buf.subarray(len);
      } else {
        this.crcErrors++;
        this.buf = this.buf.subarray(1);
      }
    }
    if (this.buf.length > 512) this.buf = Buffer.alloc(0);
    return frames;
  }
}

/**
 * One RTU conversation (one RTU-over-TCP client, or the serial port) bridged to the Modbus TCP
 * server: requests are answered in order, one at a time, as on a serial line.
 */
export class RtuBridgeLink {
  private framer = new RtuRequestFramer();
  private backend?: Socket;
  private backendBuf: Buffer = Buffer.alloc(0);
  private tid = 0;
  private closed = false;

  constructor(
    private readonly serverPort: number,
    /** Loopback address the internal connection comes from: the server tells the sides apart by it. */
    private readonly localAddress: string,
    /** Sends an answer frame back on the RTU side. */
    private readonly reply: (frame: Buffer) => void,
    /** false: requests are ignored (the side is dropped, or the device stalls). */
    private readonly accepting: () => boolean,
  ) {}

  /** Bytes from the RTU side. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    for (const frame of this.framer.push(chunk)) {
      if (!this.accepting()) continue;
      this.forward(frame);
    }
  }

  private ensureBackend(): Socket {
    if (this.backend && !this.backend.destroyed) return this.backend;
    const s = connect({ port: this.serverPort, host: '127.0.0.1', localAddress: this.localAddress });
    s.setNoDelay(true);
    s.on('data', (d) => this.fromBackend(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.backend === s) this.backend = undefined;
      this.backendBuf = Buffer.alloc(0);
    });
    this.backend = s;
    return s;
  }

  private forward(frame: Buffer): void {
    const pdu = frame.subarray(0, frame.length - 2); // unit + function + data
    const mbap = Buffer.alloc(6 + pdu.length);
    this.tid = (this.tid + 1) & 0xffff;
    mbap.writeUInt16BE(this.tid, 0);
    mbap.writeUInt16BE(0, 2);
    mbap.writeUInt16BE(pdu.length, 4);
    pdu.copy(mbap, 6);
    this.ensureBackend().write(mbap);
  }

  private fromBackend(chunk: Buffer): void {
    this.backendBuf = this.backendBuf.length ? Buffer.concat([this.backendBuf, chunk]) : chunk;
    while (this.backendBuf.length >= 6) {
      const len = this.backendBuf.readUInt16BE(4);
      if (this.backendBuf.length < 6 + len) break;
      const pdu = this.backendBuf.subarray(6, 6 + len);
      this.backendBuf = this.backendBuf.subarray(6 + len);
      const frame = Buffer.alloc(pdu.length + 2);
      pdu.copy(frame, 0);
      frame.writeUInt16LE(crc16(frame, pdu.length), pdu.length);
      if (!this.closed && this.accepting()) this.reply(frame);
    }
  }

  close(): void {
    this.closed = true;
    this.backend?.destroy();
    this.backend = undefined;
  }
}
