public import WardenCore

/// What QA reviews say about the decisions they re-reviewed: accuracy per reviewer (the person who
/// made the original decision), team (a vendor is a team), queue and policy area, each with its
/// interval and whether it is below the target beyond noise; how often each error type was found,
/// per policy area; and where the QA review itself stands (waiting, in review, disputes and how
/// rulings went).
public struct QAReport: Sendable, Equatable, Codable {
    public struct ErrorCount: Sendable, Equatable, Codable {
        public var id: String
        public var name: String
        public var count: Int
        /// Of the reviewed items.
        public var rate: Rate
        public struct PolicyCount: Sendable, Equatable, Codable {
            public var policy: String
            public var count: Int
        }
        /// Counts per policy area (the original decision's category), most first.
        public var byPolicy: [PolicyCount]
    }

    public struct Progress: Sendable, Equatable, Codable {
        public var items: Int
        public var waiting: Int
        public var inReview: Int
        public var reviewed: Int
        public var agreed: Int
        public var disagreed: Int
        public var disputed: Int
        public var ruled: Int
        /// Rulings that kept the original decision (the QA verdict was wrong).
        public var ruledForOriginal: Int
    }

    public var method: IntervalMethod
    public var confidence: Double
    public var target: Double?
    public var overall: AccuracyRow
    public var byReviewer: [AccuracyRow]
    public var byTeam: [AccuracyRow]
    public var byQueue: [AccuracyRow]
    public var byPolicy: [AccuracyRow]
    /// The pack's built-in models as raters of the same items: each model's answer on the case's
    /// content (scored when the verdict was given) against the settled answer (``QAItem/settledAnswer``).
    public var byModel: [AccuracyRow]
    public var errors: [ErrorCount]
    public var progress: Progress

    /// The report over `items`; `teams` maps a decider to their teams (a person in several teams
    /// counts in each); `models` holds the models' answers per item (`model:NAME` → answer).
    /// Rows are ordered by accuracy, lowest first (ties by name).
    public init(_ items: [QAItem], teams: [String: [String]], taxonomy: [ErrorType], method: IntervalMethod = .wilson,
                confidence: Double = 0.95, target: Double? = nil, models: [Int64: [String: String]] = [:]) {
        self.method = method
        self.confidence = confidence
        self.target = target
        let reviewed = items.compactMap { item in item.correct.map { (item: item, correct: $0) } }
        func table(_ key: (QAItem) -> [String]) -> [AccuracyRow] {
            let outcomes = reviewed.flatMap { entry in key(entry.item).map { (group: $0, correct: entry.correct) } }
            return Accuracy.lowestFirst(outcomes, confidence: confidence, method: method, target: target)
        }
        overall = AccuracyRow(group: "all", correct: reviewed.filter(\.correct).count, checked: reviewed.count,
                              confidence: confidence, method: method, target: target)
        byReviewer = table { [$0.decider] }
        byTeam = table { teams[$0.decider] ?? [] }
        byQueue = table { [$0.queue] }
        byPolicy = table { [$0.category] }
        byModel = Accuracy.lowestFirst(reviewed.flatMap { entry -> [(group: String, correct: Bool)] in
            guard let settled = entry.item.settledAnswer else { return [] }
            return (models[entry.item.id] ?? [:]).map { (group: $0.key, correct: $0.value == settled) }
        }, confidence: confidence, method: method, target: target)
        let names = Dictionary(taxonomy.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        var counts: [String: [String: Int]] = [:]
        for entry in reviewed {
            for error in entry.item.verdict?.errors ?? [] { counts[error, default: [:]][entry.item.category, default: 0] += 1 }
        }
        // Every type of the taxonomy, then any a past taxonomy had; most found first.
        let ids = taxonomy.map(\.id) + counts.keys.filter { names[$0] == nil }.sorted()
        errors = ids.map { id in
            let byPolicy = (counts[id] ?? [:]).map { ErrorCount.PolicyCount(policy: $0.key, count: $0.value) }
                .sorted { ($1.count, $0.policy) < ($0.count, $1.policy) }
            let count = byPolicy.reduce(0) { $0 + $1.count }
            return ErrorCount(id: id, name: names[id] ?? id, count: count, rate: Rate(count, of: reviewed.count, confidence: confidence), byPolicy: byPolicy)
        }.enumerated().sorted { ($1.element.count, $0.offset) < ($0.element.count, $1.offset) }.map(\.element)
        func count(_ state: QAState) -> Int { items.count(where: { $0.state == state }) }
        progress = Progress(items: items.count, waiting: count(.waiting), inReview: count(.inReview), reviewed: reviewed.count,
                            agreed: count(.agreed), disagreed: count(.disagreed), disputed: count(.disputed), ruled: count(.ruled),
                            ruledForOriginal: items.count(where: { $0.ruling == .original }))
    }
}
