public import WardenCore
public import WardenQuality
public import WardenRules
public import WardenStore

/// Quality reports and QA audits over the live store: the store loads and applies, WardenQuality
/// works out samples, the QA review's rules and the reports.
public struct QualityService: Sendable {
    public let store: any QualityStore & SessionStore & GoldenMixing & UserStore & OperationsStore
    public let clock: any WallClock
    /// The pack's QA error taxonomy and target, and its categories (what a verdict may name).
    let pack: @Sendable () -> (quality: QualityPack, categories: Set<String>, queues: [String])
    /// The pack's built-in models, which rate calibration items like people.
    let scorers: @Sendable () -> [String: any TextScorer]

    /// The longest window a report covers, in days.
    public static let maximumDays = 366

    public init(store: any QualityStore & SessionStore & GoldenMixing & UserStore & OperationsStore, clock: any WallClock,
                scorers: @escaping @Sendable () -> [String: any TextScorer] = { [:] },
                pack: @escaping @Sendable () -> (quality: QualityPack, categories: Set<String>, queues: [String]) = { (QualityPack(), [], []) }) {
        self.store = store
        self.clock = clock
        self.scorers = scorers
        self.pack = pack
    }

    /// Over a pack manager's current pack.
    public init(store: any QualityStore & SessionStore & GoldenMixing & UserStore & OperationsStore, clock: any WallClock, packs: PackManager) {
        self.init(store: store, clock: clock, scorers: { packs.classifiers.scorers }) {
            let pack = packs.pack
            return (pack.quality, pack.taxonomy.categoryIDs, pack.review.configuration.queueOrder)
        }
    }

    /// The error types QA reviewers score against.
    public var errorTypes: [ErrorType] { pack().quality.errorTypes }
    /// The accuracy QA reports hold teams to, if the pack sets one.
    public var targetAccuracy: Double? { pack().quality.targetAccuracy }
    /// The policy areas a verdict may name.
    public var categories: Set<String> { pack().categories }

    /// Operational health over the last `days` days (decisions made since the start of the day
    /// `days − 1` days ago, UTC, up to now); teams come from the people who decided; the backlog is
    /// the undecided cases now.
    public func health(days: Int, confidence: Double = 0.95) async throws -> HealthReport {
        precondition((1...Self.maximumDays).contains(days), "a health report covers 1 to \(Self.maximumDays) days")
        let now = clock.nowMillis()
        let (from, to) = Self.window(days: days, now: now)
        let parts = try await store.decisionFactParts(from: from, to: to)
        let counts = try await store.queueStats(warningFlags: QueueBoard.warningFlags, breachFlags: QueueBoard.breachFlags).map {
            HealthReport.BacklogCount(queue: $0.queue, state: $0.state, count: $0.count, oldestCreatedAt: $0.oldestCreatedAt,
                                      warnings: $0.warnings, breaches: $0.breaches)
        }
        return HealthReport(parts: parts, from: from, to: to, teams: try await teams(), confidence: confidence)
            .withBacklog(counts, queues: pack().queues, now: now)
    }

    /// Each person's teams, by actor (`user:ana` → `["vendor-a"]`).
    func teams() async throws -> [String: [String]] {
        var teams: [String: [String]] = [:]
        for user in try await store.users() where !user.teams.isEmpty {
            teams[ActorRef(.user, user.name).description] = user.teams
        }
        return teams
    }

    /// The window of a `days`-day report at `now`: from the start of the UTC day `days − 1` days ago
    /// up to and including `now`.
    public static func window(days: Int, now: Int64) -> (from: Int64, to: Int64) {
        (now - ((now % 86_400_000) + 86_400_000) % 86_400_000 - Int64(days - 1) * 86_400_000, now + 1)
    }

    // MARK: QA audits

    /// Draws a QA audit over the decisions of the last `days` days.
    public func createAudit(name: String, plan: SamplingPlan, days: Int, actor: ActorRef) async throws -> QAAudit {
        precondition((1...Self.maximumDays).contains(days), "an audit covers 1 to \(Self.maximumDays) days")
        let now = clock.nowMillis()
        let (from, to) = Self.window(days: days, now: now)
        return try await store.createAudit(name: name, plan: plan, from: from, to: to, teams: try await teams(), actor: actor, now: now)
    }

    public func audit(id: Int64) async throws -> QAAudit {
        guard let audit = try await store.audit(id: id) else { throw QualityError(.notFound, "there is no QA audit \(id)") }
        return audit
    }

    public func item(id: Int64) async throws -> QAItem {
        guard let item = try await store.qaItem(id: id) else { throw QualityError(.notFound, "there is no QA item \(id)") }
        return item
    }

    /// Every item of an audit (an audit holds at most what its plan drew).
    public func items(auditID: Int64) async throws -> [QAItem] {
        try await allItems(QAItemQuery(auditID: auditID, limit: 10_000))
    }

    func allItems(_ query: QAItemQuery) async throws -> [QAItem] {
        var query = query
        var items: [QAItem] = []
        while true {
            let page = try await store.qaItems(query)
            items += page
            guard page.count == query.limit, let last = page.last else { return items }
            query.after = last.id
        }
    }

    /// Applies a command to a QA item. With a verdict, the pack's built-in models rate the same case
    /// content, so the QA report holds them to the same settled answers as the people (`by_model`).
    public func command(itemID: Int64, _ command: QACommand, actor: ActorRef, isLead: Bool) async throws -> QAItem {
        let (quality, categories, _) = pack()
        let item = try await store.commandQAItem(id: itemID, command, actor: actor, isLead: isLead, taxonomy: quality.errorTypes, categories: categories,
                                                 now: clock.nowMillis())
        // The verdict is stored and answered whatever happens here: models' answers are a second
        // reading of the same item, and one that could not be taken leaves the item out of `by_model`.
        if case .verdict = command, let answers = try? await modelAnswers(caseID: item.caseID) {
            try? await store.recordModelAnswers(itemID: item.id, answers)
        }
        return item
    }

    public func claimNext(auditID: Int64?, actor: ActorRef) async throws -> QAItem? {
        if let auditID { _ = try await audit(id: auditID) }
        return try await store.claimNextQAItem(auditID: auditID, actor: actor, now: clock.nowMillis())
    }

    /// The QA report over one audit's items.
    public func report(auditID: Int64, method: IntervalMethod = .wilson, confidence: Double = 0.95) async throws -> QAReport {
        _ = try await audit(id: auditID)
        let items = try await items(auditID: auditID)
        return QAReport(items, teams: try await teams(), taxonomy: errorTypes, method: method, confidence: confidence, target: targetAccuracy,
                        models: try await store.modelAnswers(itemIDs: items.filter { $0.verdict != nil }.map(\.id)))
    }

    /// The QA report over every verdict given in the last `days` days, across audits.
    public func report(days: Int, method: IntervalMethod = .wilson, confidence: Double = 0.95) async throws -> QAReport {
        precondition((1...Self.maximumDays).contains(days), "a report covers 1 to \(Self.maximumDays) days")
        let (from, to) = Self.window(days: days, now: clock.nowMillis())
        let items = try await allItems(QAItemQuery(verdictFrom: from, verdictTo: to, limit: 10_000))
        return QAReport(items, teams: try await teams(), taxonomy: errorTypes, method: method, confidence: confidence,
                        target: targetAccuracy, models: try await store.modelAnswers(itemIDs: items.map(\.id)))
    }

    /// QA findings on `decider`'s decisions (verdicts that disagreed, disputes and rulings), newest first.
    public func findings(for decider: ActorRef, limit: Int) async throws -> [QAItem] {
        let items = try await allItems(QAItemQuery(decider: decider.description, states: [.disagreed, .disputed, .ruled], limit: 1_000))
        return Array(items.reversed().prefix(limit))
    }

    /// Disputes waiting for a ruling, oldest first.
    public func openDisputes(limit: Int) async throws -> [QAItem] {
        try await store.qaItems(QAItemQuery(states: [.disputed], limit: limit))
    }
}
