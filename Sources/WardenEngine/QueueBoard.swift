import Synchronization
public import WardenCore
import WardenReview
public import WardenStore

/// The latest per-queue backlog (``QueueStat``s): the operations sampler publishes it every few
/// seconds and the console's pages read it, so a page never runs the whole-backlog query itself
/// while a fresh enough sample exists.
public final class QueueBoard: Sendable {
    private let latest = Mutex<(at: Int64, stats: [QueueStat])?>(nil)

    public init() {}

    /// SLA events that count as warnings and as breaches (``SLAEvent`` flags).
    public static let warningFlags = SLAEvent.allCases.filter { !$0.isBreach }.reduce(0) { $0 | $1.flag }
    public static let breachFlags = SLAEvent.allCases.filter(\.isBreach).reduce(0) { $0 | $1.flag }

    /// Records a sample taken at `at`.
    public func publish(_ stats: [QueueStat], at: Int64) {
        latest.withLock { current in
            if (current?.at ?? .min) <= at { current = (at, stats) }
        }
    }

    /// The latest sample when it is at most `maxAge` ms old; otherwise a new one from `store`.
    public func stats(_ store: any OperationsStore, now: Int64, maxAge: Int64 = 15_000) async throws -> [QueueStat] {
        if let current = latest.withLock({ $0 }), now - current.at <= maxAge { return current.stats }
        let stats = try await store.queueStats(warningFlags: Self.warningFlags, breachFlags: Self.breachFlags)
        publish(stats, at: now)
        return stats
    }
}
