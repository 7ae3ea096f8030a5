public import WardenCore

/// One golden item mixed into a live queue and decided: who decided it, what they answered and
/// whether it was the item's key.
public struct GoldenCheck: Sendable, Equatable {
    public var caseID: Int64
    public var goldenID: Int64
    public var decidedBy: String
    public var queue: String
    public var answer: String
    public var expected: String
    public var correct: Bool
    public var at: Int64

    public init(caseID: Int64, goldenID: Int64, decidedBy: String, queue: String, answer: String, expected: String, correct: Bool, at: Int64) {
        self.caseID = caseID
        self.goldenID = goldenID
        self.decidedBy = decidedBy
        self.queue = queue
        self.answer = answer
        self.expected = expected
        self.correct = correct
        self.at = at
    }
}

/// Accuracy on golden items mixed unseen into live queues, overall, per reviewer, per team and per
/// queue, each with its interval and whether it is below the target beyond noise (the QA report's rows).
public struct GoldenCheckReport: Sendable, Equatable, Codable {
    public var from: Int64
    public var to: Int64
    public var overall: AccuracyRow
    public var byReviewer: [AccuracyRow]
    public var byTeam: [AccuracyRow]
    public var byQueue: [AccuracyRow]

    /// Rows are ordered by accuracy, lowest first (ties by name), as in ``QAReport``.
    public init(_ checks: [GoldenCheck], from: Int64, to: Int64, teams: [String: [String]] = [:], target: Double? = nil,
                method: IntervalMethod = .wilson, confidence: Double = 0.95) {
        self.from = from
        self.to = to
        let inWindow = checks.filter { $0.at >= from && $0.at < to }
        func table(_ key: (GoldenCheck) -> [String]) -> [AccuracyRow] {
            Accuracy.lowestFirst(inWindow.flatMap { check in key(check).map { (group: $0, correct: check.correct) } }, confidence: confidence, method: method, target: target)
        }
        overall = AccuracyRow(group: "all", correct: inWindow.count(where: \.correct), checked: inWindow.count, confidence: confidence, method: method, target: target)
        byReviewer = table { [$0.decidedBy] }
        byTeam = table { teams[$0.decidedBy] ?? [] }
        byQueue = table { [$0.queue] }
    }
}
