public import WardenCore
public import WardenQuality
public import WardenStore

/// Quality reports over the live store: the store loads the facts, WardenQuality computes.
public struct QualityService: Sendable {
    let store: any QualityStore & UserStore
    let clock: any WallClock

    /// The longest window a health report covers, in days.
    public static let maximumDays = 366

    public init(store: any QualityStore & UserStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Operational health over the last `days` days (decisions made since the start of the day
    /// `days − 1` days ago, UTC, up to now); teams come from the people who decided.
    public func health(days: Int, confidence: Double = 0.95) async throws -> HealthReport {
        precondition((1...Self.maximumDays).contains(days), "a health report covers 1 to \(Self.maximumDays) days")
        let (from, to) = Self.window(days: days, now: clock.nowMillis())
        let facts = try await store.decisionFacts(from: from, to: to)
        var teams: [String: [String]] = [:]
        for user in try await store.users() where !user.teams.isEmpty {
            teams[ActorRef(.user, user.name).description] = user.teams
        }
        return HealthReport(facts, from: from, to: to, teams: teams, confidence: confidence)
    }

    /// The window of a `days`-day report at `now`: from the start of the UTC day `days − 1` days ago
    /// up to and including `now`.
    public static func window(days: Int, now: Int64) -> (from: Int64, to: Int64) {
        (now - ((now % 86_400_000) + 86_400_000) % 86_400_000 - Int64(days - 1) * 86_400_000, now + 1)
    }
}
