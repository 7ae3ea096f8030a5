public import Logging
public import Metrics
public import ServiceLifecycle
public import WardenStore

/// Keeps the entity graph following the event log. Intake acknowledges once events are durable;
/// this consumer then derives entities, mentions and links in batches, with its cursor committed
/// in the same transaction. Its lag is exported as `warden_entity_index_lag_events`.
///
/// SQLite has one writer, so the indexer shares it: while traffic flows it writes transactions of
/// at most 1,000 events (tens of milliseconds, so intake's commits and detection's never wait long
/// behind one) and pauses half as long as each took, leaving intake a share of the CPU; once the
/// graph is more than `maxLag` events behind it stops pausing, and when traffic stops it catches up
/// in large transactions. Under sustained overload intake slows to what both together can do.
public struct EntityIndexer: Service {
    private let store: any EventStore
    private let activity: IntakeActivity?
    private let maxLag: Int64
    private let logger: Logger
    private let lag: Gauge

    /// An indexer over `store` that shares the writer with `activity`'s commits while the lag is under `maxLag`.
    public init(store: any EventStore, activity: IntakeActivity? = nil, maxLag: Int64 = 500_000, logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory) {
        self.store = store
        self.activity = activity
        self.maxLag = maxLag
        self.logger = logger
        lag = Gauge(label: "warden_entity_index_lag_events", dimensions: [], factory: metrics)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    // While traffic flows (a commit in the last second), the graph is indexed in small
                    // transactions so intake and detection never queue long behind one for the write
                    // lock, with a pause of half of each one's time so intake keeps a core; past
                    // `maxLag` behind it runs without pauses. When idle, large transactions.
                    let flowing = activity?.isBusy(at: IntakeActivity.now(), window: 1000) ?? false
                    let started = ContinuousClock.now
                    let progress = try await store.indexEntities(limit: flowing ? 1000 : 5000)
                    lag.record(progress.lag)
                    if progress.indexed == 0 {
                        try await Task.sleep(for: .milliseconds(50))
                    } else if flowing, progress.lag < maxLag {
                        try await Task.sleep(for: started.duration(to: .now) / 2)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("entity indexing failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Indexes until the graph reflects the whole log (as of the call), calling `progress` after
    /// each batch. Used by offline commands and by reads that promise to see their own writes.
    @discardableResult
    public static func catchUp(
        _ store: any EventStore, batchSize: Int = 5000, progress: (EntityIndexProgress) -> Void = { _ in }
    ) async throws -> EntityIndexProgress {
        var status = try await store.entityIndexStatus()
        let target = status.lastSeq
        while status.indexedThroughSeq < target {
            status = try await store.indexEntities(limit: batchSize)
            progress(status)
            if status.indexed == 0 { break }
        }
        return status
    }
}
