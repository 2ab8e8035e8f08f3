/**
 * Everything kq does with ioredis' private state, in one place: its Sentinel connector with one fix, a
 * failover seen by its failover detector no longer ends the connection for good. Written against the
 * ioredis version pinned exactly in package.json; test/queue/ioredis-internals.test.ts fails on a version
 * whose internals differ (the version, the two fields and how the detector and the connector use them).
 *
 * Public API that would let kq drop this file: a fix in ioredis itself (the failover detector asking
 * the connection to reconnect instead of calling the connector's `disconnect()`), or an option or event
 * telling a `Connector` why it is being disconnected (failover or app close).
 *
 * The race (SentinelConnector + FailoverDetector): the primary dies, the connection drops
 * and reconnects, asking a Sentinel for the primary on each attempt. The detector of the connection's
 * last good attempt is still subscribed to `+switch-master`; when the Sentinels announce the new primary
 * it calls `connector.disconnect()`, the same call `Redis#disconnect()` makes when the app closes the
 * connection. That clears the connector's `connecting` flag, so a lookup still in flight throws
 * "Connection is closed." and Redis sets the status to `end`: no retry, ever. The process lives on
 * with a connection that refuses every command (alive-but-stuck). The longer a lookup takes (a slow
 * link, a loaded node), the likelier the race: through a Sentinel 150 ms away every kq process hit it
 * (test/chaos/sentinel-stuck.test.ts).
 *
 * The detector only means "drop the current socket so the client asks again": here it still does that,
 * but a lookup in flight carries on (it asks the Sentinels, which now name the new primary). A close by
 * the app still aborts the lookup as before.
 */
import { type SentinelConnectionOptions, SentinelConnector } from 'ioredis';

/** What the subclass reads and writes of the parent's private state. */
interface ConnectorState {
  connecting: boolean;
  failoverDetector: { isDisconnected: boolean } | null;
}

/** Passed to ioredis as `Connector`; duplicates (BullMQ's blocking connections) inherit it with the options. */
export class FailoverSafeSentinelConnector extends SentinelConnector {
  // ioredis types `Connector` as taking unknown options; it passes the Redis options (Sentinel ones).
  constructor(options: unknown) {
    super(options as SentinelConnectionOptions);
  }

  override disconnect(): void {
    const self = this as unknown as ConnectorState;
    // The detector marks itself disconnected before it calls us; an app close finds it active (or gone).
    const fromDetector = self.failoverDetector?.isDisconnected === true;
    const wasConnecting = self.connecting;
    super.disconnect();
    if (!fromDetector) return;
    // super.disconnect() cleaned the detector up; forget it, so a later app close is not taken for it.
    self.failoverDetector = null;
    self.connecting = wasConnecting;
  }
}
