public import Logging
public import ServiceLifecycle
public import WardenStore

/// A piece of upkeep run every `interval` until shutdown; a round that fails is logged and the next
/// one runs on time.
public struct PeriodicService: Service {
    private let what: String
    private let interval: Duration
    private let logger: Logger
    private let round: @Sendable () async throws -> Void

    /// `round`, every `interval`; `what` names it in the log ("checkpoint", "reloading hash banks").
    public init(_ what: String, every interval: Duration, logger: Logger, round: @escaping @Sendable () async throws -> Void) {
        self.what = what
        self.interval = interval
        self.logger = logger
        self.round = round
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    try await round()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("\(what) failed; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

extension PeriodicService {
    /// Checkpoints the store ten times a second from its own connection, so moving the WAL into the
    /// database never stalls a commit (SQLite's automatic checkpoint runs inside whichever commit
    /// crosses its threshold, which showed up as 200–300 ms intake stalls under load). Small, frequent
    /// checkpoints keep each one's writes and fsync short: every 500 ms, review commits at 1M cases
    /// stalled behind them in waves (BENCHMARKS.md); an idle checkpoint costs next to nothing. (On
    /// SQLite the log's WAL is checkpointed on every call, the entity graph's and search's at most
    /// once a second: see `SQLiteStore.checkpoint(truncate:)`.)
    public static func checkpointer(store: any EventStore, interval: Duration = .milliseconds(100), logger: Logger) -> PeriodicService {
        PeriodicService("checkpoint", every: interval, logger: logger) { try await store.checkpoint(truncate: false) }
    }

    /// On a store several nodes share, what one node changed that another holds in memory — hash
    /// banks' indexes that detection matches against — is reloaded from the store on every node at an
    /// interval, so a bank changed through one node's API reaches detection wherever it runs within
    /// that interval. (On SQLite the process that changes a bank updates its own index at once and
    /// this does not run.)
    public static func lookupRefresher(banks: HashBankService, interval: Duration = .seconds(30), logger: Logger) -> PeriodicService {
        PeriodicService("reloading hash banks", every: interval, logger: logger) { try await banks.load() }
    }
}
