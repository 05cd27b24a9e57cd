/**
 * How far a session reads ahead of its replies, and how large its read
 * buffer is: the flow-control limits of the request loop.
 *
 * @module
 */
import { MAX_FRAME_SIZE } from "../../protocol/frame.ts";

/**
 * Batches a session reads ahead of their acknowledgements. Above an
 * agency's window (192), so a well-behaved agency never waits on it.
 */
export const MAX_IN_FLIGHT = 256;

/**
 * Bytes of uncommitted batches a worker holds before its sessions stop
 * reading ahead: large enough to keep groups large, small enough to keep
 * the writer's spools small (measurements in docs/performance.md).
 */
export const MAX_BACKLOG_BYTES = 4 << 20;

/**
 * Bytes of replies a peer may leave unread before its session stops
 * reading its frames: a peer that does not read its acks cannot make the
 * worker hold more for it (a write that then makes no progress for the
 * idle timeout closes the connection).
 */
export const MAX_UNSENT_BYTES = 64 << 10;

/** A connection's read buffer: two frames. */
export const READER_CAPACITY = 2 * MAX_FRAME_SIZE;

/**
 * After 1 MB from one peer its read buffer grows to 64 kB: a quarter of
 * the reads for an agency that sends a large file, while the many small
 * connections of 1,000 agencies keep 16 kB each.
 */
export const READER_GROWS_AFTER = 1 << 20;
/** The size a busy peer's read buffer grows to. */
export const READER_GROWN = 64 << 10;
