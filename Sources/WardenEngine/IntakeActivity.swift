import Synchronization

/// When intake last committed, so background consumers can give way to acknowledged writes.
public final class IntakeActivity: Sendable {
    private let lastCommit = Atomic<Int64>(0)

    /// A monitor with no activity yet.
    public init() {}

    /// Records a commit at `instant` (milliseconds on any monotonic scale shared with readers).
    func recordCommit(at instant: Int64) {
        lastCommit.store(instant, ordering: .relaxed)
    }

    /// Whether intake committed within `window` milliseconds before `instant`.
    public func isBusy(at instant: Int64, window: Int64 = 50) -> Bool {
        instant - lastCommit.load(ordering: .relaxed) < window
    }

    /// Milliseconds since process start on the monotonic clock, the scale of ``isBusy(at:window:)``.
    public static func now() -> Int64 {
        let elapsed = origin.duration(to: .now).components
        return elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
    }

    private static let origin = ContinuousClock.now
}
