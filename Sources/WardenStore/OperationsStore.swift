/// What an operations dashboard reads: queue backlogs, the outbox and each log consumer's position.
/// Reads only; the metrics sampler (`OperationsMetrics`) turns them into gauges.
public protocol OperationsStore: Sendable {
    /// Undecided cases per queue, band and state; a case counts as breached when its raised SLA
    /// events (`sla_raised`) share a bit with `breachFlags`, else as warned when they share one with `warningFlags`.
    func queueStats(warningFlags: Int, breachFlags: Int) async throws -> [QueueStat]
    /// Outbox deliveries per state (`pending`, `dead`).
    func outboxCounts() async throws -> [String: Int]
    /// Each log consumer's backlog.
    func consumerLags() async throws -> [ConsumerLag]
    /// Active incidents (not resolved or closed) by severity, and open alerts by rule.
    func incidentCounts() async throws -> (incidents: [String: Int], alerts: [String: Int])
}

/// Undecided cases of one queue, band and state.
public struct QueueStat: Sendable, Equatable {
    public var queue: String
    /// Priority band, 1 (most urgent) to 4.
    public var band: Int
    /// `open`, `escalated`, `in_review` or `on_hold`.
    public var state: String
    public var count: Int
    /// When the oldest of them was opened (ms).
    public var oldestCreatedAt: Int64?
    /// How many have raised an SLA warning but no breach, and how many a breach.
    public var warnings: Int
    public var breaches: Int

    public init(queue: String, band: Int, state: String, count: Int, oldestCreatedAt: Int64?, warnings: Int, breaches: Int) {
        self.queue = queue
        self.band = band
        self.state = state
        self.count = count
        self.oldestCreatedAt = oldestCreatedAt
        self.warnings = warnings
        self.breaches = breaches
    }
}

/// One log consumer's backlog.
public struct ConsumerLag: Sendable, Equatable {
    /// `entity_graph`, `detection`, `case_builder` or `classification`.
    public var consumer: String
    /// Items not processed yet.
    public var items: Int64
    /// When the oldest of them arrived (ms), nil when there is none.
    public var oldestAt: Int64?

    public init(consumer: String, items: Int64, oldestAt: Int64?) {
        self.consumer = consumer
        self.items = items
        self.oldestAt = oldestAt
    }
}
