public import Logging
public import Metrics
public import ServiceLifecycle
public import WardenStore

/// Keeps the entity graph following the event log. Intake acknowledges once events are durable;
/// this consumer then derives entities, mentions and links in batches, with its cursor committed
/// in the same transaction. Its lag is exported as `warden_consumer_lag_events{consumer="entity_graph"}`
/// (and `warden_consumer_lag_seconds`) by `OperationsMetrics`.
///
/// SQLite has one writer, so the indexer gives way to intake: while intake is committing it
/// waits, unless the graph has fallen more than `maxLag` events behind, in which case it takes
/// its turn. While traffic flows its transactions hold at most 1,000 events (tens of milliseconds),
/// so intake's commits and detection's never queue long behind one; once traffic stops it catches
/// up 5,000 at a time. Bursts are acknowledged at full intake speed and the graph catches up in the
/// lull; under sustained overload intake slows to what both together can do.
public struct EntityIndexer: Service {
    private let store: any EventStore
    private let activity: IntakeActivity?
    private let maxLag: Int64
    private let logger: Logger

    /// An indexer over `store` that gives way to `activity`'s commits while the lag is under `maxLag`.
    public init(store: any EventStore, activity: IntakeActivity? = nil, maxLag: Int64 = 500_000, logger: Logger,
                metrics: any MetricsFactory = MetricsSystem.factory) {
        self.store = store
        self.activity = activity
        self.maxLag = maxLag
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let now = IntakeActivity.now()
                    if activity?.isBusy(at: now) ?? false {
                        let status = try await store.entityIndexStatus()
                        if status.lag < maxLag {
                            try await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                    }
                    // While traffic flows (a commit in the last second) transactions stay small, so
                    // intake's commits and detection's never wait long behind one for the writer.
                    let flowing = activity?.isBusy(at: now, window: 1000) ?? false
                    let progress = try await store.indexEntities(limit: flowing ? 1000 : 5000)
                    if progress.indexed == 0 { try await Task.sleep(for: .milliseconds(50)) }
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
