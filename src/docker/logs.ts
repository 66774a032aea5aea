// Docker's multiplexed log/attach format (containers without a TTY): frames of an 8-byte header
// [stream, 0, 0, 0, payload size as big-endian uint32] and the payload. A live stream is split with
// docker-modem's demuxStream; a whole buffer (logs without follow) is split here, keeping the
// frames in Docker's order. Docker copies stdout and stderr from separate pipes concurrently, so
// lines written within a millisecond or so of each other on different streams may come swapped.

export type LogStreamName = 'stdin' | 'stdout' | 'stderr';

export interface LogFrame {
  stream: LogStreamName;
  data: Buffer;
}

const STREAMS: Record<number, LogStreamName> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };

/** True when the buffer starts like a multiplexed stream (a TTY container's logs are raw). */
export function looksMultiplexed(buf: Buffer): boolean {
  return buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
}

/**
 * Splits a complete log buffer into frames. A raw (TTY) buffer comes back as one stdout frame;
 * a truncated last frame keeps what arrived.
 */
export function demuxLogFrames(buf: Buffer): LogFrame[] {
  const parser = new LogFrameParser();
  return [...parser.push(buf), ...parser.end()];
}

/**
 * stdout and stderr interleaved in the order Docker recorded them, as text. dockerode hands a
 * non-follow logs body over as a Buffer, or as a string when the engine labelled it text.
 */
export function combinedLogText(body: Buffer | string): string {
  if (typeof body === 'string') return body;
  return Buffer.concat(demuxLogFrames(body).map((f) => f.data)).toString('utf8');
}

/**
 * The same frames, from a live stream that arrives in arbitrary chunks (a header may be split
 * across two). The first chunk decides raw (TTY) or multiplexed, as demuxLogFrames does.
 */
export class LogFrameParser {
  private pending: Buffer = Buffer.alloc(0);
  private raw: boolean | undefined;

  push(chunk: Buffer): LogFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.raw === undefined) {
      if (this.pending.length < 8 && this.pending.length > 0 && this.pending[0]! <= 2) return [];
      this.raw = !looksMultiplexed(this.pending);
    }
    if (this.raw) {
      const data = this.pending;
      this.pending = Buffer.alloc(0);
      return data.length > 0 ? [{ stream: 'stdout', data }] : [];
    }
    const frames: LogFrame[] = [];
    let offset = 0;
    while (offset + 8 <= this.pending.length) {
      const size = this.pending.readUInt32BE(offset + 4);
      if (offset + 8 + size > this.pending.length) break;
      frames.push({ stream: STREAMS[this.pending[offset]!] ?? 'stdout', data: this.pending.subarray(offset + 8, offset + 8 + size) });
      offset += 8 + size;
    }
    this.pending = this.pending.subarray(offset);
    return frames;
  }

  /** What is left when the stream ends: a truncated last frame keeps what arrived. */
  end(): LogFrame[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    if (rest.length === 0) return [];
    if (this.raw !== false) return [{ stream: 'stdout', data: rest }];
    return rest.length > 8 ? [{ stream: STREAMS[rest[0]!] ?? 'stdout', data: rest.subarray(8) }] : [];
  }
}
