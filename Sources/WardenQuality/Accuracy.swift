public import WardenCore

/// Which interval a report gives for a proportion.
public enum IntervalMethod: String, Sendable, CaseIterable, Codable {
    /// Wilson's score interval (the default).
    case wilson
    /// The Clopper–Pearson exact interval (wider; never below its nominal coverage).
    case clopperPearson = "clopper-pearson"

    public func interval(_ proportion: Proportion, confidence: Double) -> Interval? {
        switch self {
        case .wilson: proportion.wilson(confidence: confidence)
        case .clopperPearson: proportion.clopperPearson(confidence: confidence)
        }
    }
}

/// Accuracy of one group (a reviewer, a vendor, a queue, a policy, a rater on one category) with its
/// interval, and whether it is below a target beyond noise (the whole interval under it).
public struct AccuracyRow: Sendable, Equatable, Codable {
    public var group: String
    public var checked: Int
    public var correct: Int
    public var accuracy: Double?
    public var interval: Interval?
    /// True when the interval's upper end is under the target; nil without a target.
    public var belowTarget: Bool?

    public init(group: String, correct: Int, checked: Int, confidence: Double = 0.95, method: IntervalMethod = .wilson, target: Double? = nil) {
        let proportion = Proportion(successes: correct, trials: checked)
        let interval = method.interval(proportion, confidence: confidence)
        self.group = group
        self.checked = checked
        self.correct = correct
        self.accuracy = proportion.estimate
        self.interval = interval
        self.belowTarget = target.map { target in interval.map { $0.upper < target } ?? false }
    }
}

public enum Accuracy {
    /// ``table(_:confidence:method:target:)`` ordered as reports show it: lowest accuracy first, ties by name.
    public static func lowestFirst<S: Sequence>(_ outcomes: S, confidence: Double = 0.95, method: IntervalMethod = .wilson, target: Double? = nil) -> [AccuracyRow]
    where S.Element == (group: String, correct: Bool) {
        table(outcomes, confidence: confidence, method: method, target: target).sorted { ($0.accuracy ?? 0, $0.group) < ($1.accuracy ?? 0, $1.group) }
    }

    /// One row per group of `(group, correct)` outcomes, in the order groups first appear.
    public static func table<S: Sequence>(_ outcomes: S, confidence: Double = 0.95, method: IntervalMethod = .wilson, target: Double? = nil) -> [AccuracyRow]
    where S.Element == (group: String, correct: Bool) {
        var order: [String] = []
        var tallies: [String: (correct: Int, checked: Int)] = [:]
        for outcome in outcomes {
            if tallies[outcome.group] == nil { order.append(outcome.group) }
            tallies[outcome.group, default: (0, 0)].checked += 1
            if outcome.correct { tallies[outcome.group, default: (0, 0)].correct += 1 }
        }
        return order.map { group in
            let tally = tallies[group]!
            return AccuracyRow(group: group, correct: tally.correct, checked: tally.checked, confidence: confidence, method: method, target: target)
        }
    }
}
