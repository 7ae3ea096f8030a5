public import Logging
public import ServiceLifecycle
public import WardenStore

/// Checkpoints the store ten times a second from its own connection, so moving the WAL into the
/// database never stalls a commit (SQLite's automatic checkpoint runs inside whichever commit
/// crosses its threshold, which showed up as 200–300 ms intake stalls under load). Small, frequent
/// checkpoints keep each one's writes and fsync short: every 500 ms, review commits at 1M cases
/// stalled behind them in waves (BENCHMARKS.md); an idle checkpoint costs next to nothing.
public struct Checkpointer: Service {
    private let store: any EventStore
    private let interval: Duration
    private let logger: Logger

    /// A checkpointer for `store` every `interval`.
    public init(store: any EventStore, interval: Duration = .milliseconds(100), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    try await store.checkpoint(truncate: false)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("checkpoint failed; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
