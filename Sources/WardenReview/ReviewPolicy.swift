import WardenCore
/// The review rules in force, as one value the store applies inside its transactions: routing,
/// priority and SLA scheduling (pure functions of the pack's configuration).
public struct ReviewPolicy: Sendable {
    /// Queues, routing and case intake.
    public var configuration: ReviewConfiguration
    /// The taxonomy's severities, lowest first.
    public var severities: [String]
    /// How long a claim lasts without activity (ms).
    public var leaseMillis: Int64

    /// Creates a policy.
    public init(configuration: ReviewConfiguration, severities: [String], leaseMillis: Int64 = 300_000) {
        self.configuration = configuration
        self.severities = severities
        self.leaseMillis = leaseMillis
    }

    /// "No deadline", as stored (sorts after every real deadline).
    public static let noDeadline = Int64.max

    /// The rank of a severity (unknown severities rank lowest).
    public func rank(of severity: String) -> Int {
        severities.firstIndex(of: severity) ?? 0
    }

    /// The score and band for a case's ingredients.
    public func priority(severity: String, reporterWeight: Double, reach: Int) -> (score: Int, band: CasePriority.Band) {
        let score = CasePriority.score(.init(severityRank: rank(of: severity), severityLevels: severities.count,
                                             reporterWeight: reporterWeight, reach: reach))
        return (score, CasePriority.band(score: score))
    }

    /// The SLA policy of a queue (none for an unknown queue).
    public func sla(of queue: String) -> SLAPolicy {
        configuration.queues[queue]?.sla ?? .none
    }

    /// The resolution deadline (``noDeadline`` when none runs) and the next SLA event's time.
    public func schedule(clock: SLAClock, band: CasePriority.Band, queue: String, firstActionDone: Bool, raised: Int)
        -> (dueAt: Int64, nextEventAt: Int64?) {
        let policy = sla(of: queue)
        let targets = policy.targets[band]
        let due = targets?.resolution.flatMap { clock.due($0, policy: policy) } ?? Self.noDeadline
        let next = clock.nextEvent(targets: targets, firstActionDone: firstActionDone, raised: raised, policy: policy)
        return (due, next?.at)
    }
}
