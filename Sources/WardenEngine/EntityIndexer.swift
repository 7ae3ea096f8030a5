public import Logging
public import ServiceLifecycle
public import WardenStore

/// Keeps the entity graph following the event log. Intake acknowledges once events are durable;
/// this consumer then derives entities, mentions and links in batches of up to 20,000 events, with
/// its cursor committed in the same transaction. Its lag is exported as
/// `warden_consumer_lag_events{consumer="entity_graph"}` (and `warden_consumer_lag_seconds`) by
/// `OperationsMetrics`.
///
/// The graph has its own database and so its own writer: its transactions never keep intake's
/// commits waiting, and it keeps up by working in large batches rather than by giving way. Batch
/// size is what makes it fast: a batch rewrites most pages of the recent mentions' and links' tables
/// (their B-trees take its rows all over, 32–68 MB of WAL a commit near a merge), whatever its size,
/// so bigger batches write fewer pages per event. At 50,000 events/s offered (BENCHMARKS.md, "CPU
/// per event"), the whole server spent 59–66 µs of CPU an event with 10,000-event batches, 56 with
/// 20,000 and 54–55 with 40,000, while peak memory rose by ~50 and ~110 MiB; 20,000 it is. A batch
/// is that large only while the graph is behind: caught up, it takes what the last commits added.
public struct EntityIndexer: Service {
    private let store: any EventStore
    private let batchSize: Int
    /// Intake's tail, to wait for its commits when caught up (nil: poll).
    private let tail: LogTail?
    private let logger: Logger

    /// An indexer over `store`.
    public init(store: any EventStore, batchSize: Int = 20_000, tail: LogTail? = nil, logger: Logger) {
        self.store = store
        self.tail = tail
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let seen = tail?.generation ?? 0
                    let progress = try await store.indexEntities(limit: batchSize)
                    if progress.indexed == 0 { try await LogTail.idle(tail, seen: seen, poll: .milliseconds(50)) }
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
