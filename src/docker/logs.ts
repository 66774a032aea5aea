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
  if (buf.length === 0) return [];
  if (!looksMultiplexed(buf)) return [{ stream: 'stdout', data: buf }];
  const frames: LogFrame[] = [];
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const stream = STREAMS[buf[offset]!] ?? 'stdout';
    const size = buf.readUInt32BE(offset + 4);
    const end = Math.min(buf.length, offset + 8 + size);
    frames.push({ stream, data: buf.subarray(offset + 8, end) });
    offset = end;
  }
  return frames;
}

/**
 * stdout and stderr interleaved in the order Docker recorded them, as text. dockerode hands a
 * non-follow logs body over as a Buffer, or as a string when the engine labelled it text.
 */
export function combinedLogText(body: Buffer | string): string {
  if (typeof body === 'string') return body;
  return Buffer.concat(demuxLogFrames(body).map((f) => f.data)).toString('utf8');
}
