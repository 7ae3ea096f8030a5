public import Logging
public import ServiceLifecycle
public import WardenStore

/// Keeps the search index following the event log: the text at the pack's search fields (`data`
/// paths, `search_fields` in pack.yaml; `text` by default), with each event's type, time and
/// entities, in batches committed with the index's cursor (its lag is
/// `warden_consumer_lag_events{consumer="search"}`). Case texts need no consumer: triggers keep
/// them in the store's own index as cases, comments and decisions are written.
public struct SearchIndexer: Service {
    private let store: any SearchStore
    private let fields: @Sendable () -> [[String]]
    private let batchSize: Int
    /// Intake's tail, to wait for its commits when caught up (nil: poll).
    private let tail: LogTail?
    private let logger: Logger

    /// An indexer over `store`, `batchSize` events a transaction at most. Each commit writes a new
    /// FTS5 segment that later merges rewrite, so fewer, larger segments should cost less; at 50,000
    /// events/s offered, runs with 20,000-event batches used 52.6 and 57.7 µs of the server's CPU an
    /// event against 56.0 with 5,000 (single runs, within this machine's noise; BENCHMARKS.md, "CPU
    /// per event"). It matches the graph's batches.
    public init(store: any SearchStore, fields: @escaping @Sendable () -> [[String]], batchSize: Int = 20_000, tail: LogTail? = nil, logger: Logger) {
        self.store = store
        self.tail = tail
        self.fields = fields
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let seen = tail?.generation ?? 0
                    let progress = try await store.indexSearch(limit: batchSize, fields: fields())
                    if progress.indexed == 0 { try await LogTail.idle(tail, seen: seen, poll: .milliseconds(100)) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("search indexing failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Indexes until the index reflects the whole log (as of the call).
    @discardableResult
    public static func catchUp(_ store: any SearchStore, fields: [[String]], batchSize: Int = 5_000) async throws -> SearchIndexProgress {
        var status = try await store.searchIndexStatus()
        let target = status.lastSeq
        while status.indexedThroughSeq < target {
            status = try await store.indexSearch(limit: batchSize, fields: fields)
            if status.indexed == 0 { break }
        }
        return status
    }
}
