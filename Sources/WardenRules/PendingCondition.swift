/// What is left of a rule's condition when everything but its served classifiers has been
/// decided: the classifier questions and how their scores combine. A classifier served over an API
/// answers after the event has passed, so the detector evaluates the rest of the rule as of the
/// event (counters, labels, fields) and leaves this for the classification stage, which asks the
/// classifiers and fires the rule if it comes out true.
///
/// The checker allows a served classifier only as `classify(…) <comparison> number` inside
/// `and`/`or`/`not`, so a residual is always such comparisons joined by logic.
public indirect enum PendingCondition: Sendable, Equatable, Codable {
    /// A part already decided: true, false, or unknown (nil).
    case known(Bool?)
    /// A classifier's score for the text (its highest category's, or the one named) compared with a number.
    case score(ClassifierQuestion, category: String?, comparison: String, threshold: Double)
    case and(PendingCondition, PendingCondition)
    case or(PendingCondition, PendingCondition)
    case not(PendingCondition)

    /// The questions to ask, once each.
    public var questions: Set<ClassifierQuestion> {
        switch self {
        case .known: []
        case .score(let question, _, _, _): [question]
        case .and(let left, let right), .or(let left, let right): left.questions.union(right.questions)
        case .not(let operand): operand.questions
        }
    }

    /// Whether the rule fires given the classifiers' scores (per category) for each question; a
    /// question without an answer is unknown, so it never makes a rule fire.
    public func fires(_ answers: [ClassifierQuestion: [String: Double]]) -> Bool {
        truth(answers) == .true
    }

    func truth(_ answers: [ClassifierQuestion: [String: Double]]) -> Truth {
        switch self {
        case .known(let value): return value.map(Truth.init) ?? .unknown
        case .score(let question, let category, let comparison, let threshold):
            guard let scores = answers[question], let op = Comparison(rawValue: comparison) else { return .unknown }
            let score = category.map { scores[$0] ?? 0 } ?? scores.values.max() ?? 0
            return Detector.compare(op, .number(score), .number(threshold))
        case .and(let left, let right):
            let (lhs, rhs) = (left.truth(answers), right.truth(answers))
            if lhs == .false || rhs == .false { return .false }
            return lhs == .true && rhs == .true ? .true : .unknown
        case .or(let left, let right):
            let (lhs, rhs) = (left.truth(answers), right.truth(answers))
            if lhs == .true || rhs == .true { return .true }
            return lhs == .false && rhs == .false ? .false : .unknown
        case .not(let operand): return !operand.truth(answers)
        }
    }

    /// The residual in the rule language's words, with the scores when known, for explanations.
    public func describe(_ answers: [ClassifierQuestion: [String: Double]] = [:]) -> String {
        switch self {
        case .known(let value): return value.map { $0 ? "true" : "false" } ?? "unknown"
        case .score(let question, let category, let comparison, let threshold):
            var call = "classify(\"\(question.classifier)\"" + (category.map { ", \"\($0)\"" } ?? "") + ")"
            if let scores = answers[question] {
                let score = category.map { scores[$0] ?? 0 } ?? scores.values.max() ?? 0
                call += " = " + Value.number((score * 1000).rounded() / 1000).description
            }
            return "\(call) \(comparison) \(Value.number(threshold).description)"
        case .and(let left, let right): return "(\(left.describe(answers)) and \(right.describe(answers)))"
        case .or(let left, let right): return "(\(left.describe(answers)) or \(right.describe(answers)))"
        case .not(let operand): return "not \(operand.describe(answers))"
        }
    }

    /// The same condition with decided parts folded away (`true and x` is `x`, and so on).
    var simplified: PendingCondition {
        switch self {
        case .known, .score: return self
        case .not(let operand):
            let inner = operand.simplified
            if case .known(let value) = inner { return .known(value.map { !$0 }) }
            return .not(inner)
        case .and(let left, let right):
            let (lhs, rhs) = (left.simplified, right.simplified)
            if lhs == .known(false) || rhs == .known(false) { return .known(false) }
            if lhs == .known(true) { return rhs }
            if rhs == .known(true) { return lhs }
            return .and(lhs, rhs)
        case .or(let left, let right):
            let (lhs, rhs) = (left.simplified, right.simplified)
            if lhs == .known(true) || rhs == .known(true) { return .known(true) }
            if lhs == .known(false) { return rhs }
            if rhs == .known(false) { return lhs }
            return .or(lhs, rhs)
        }
    }

    /// Whether anything is left to ask.
    var asks: Bool { !questions.isEmpty }
}

/// One text for one classifier.
public struct ClassifierQuestion: Sendable, Hashable, Codable {
    /// The classifier's name in `classifiers.yaml`.
    public var classifier: String
    /// The text to classify.
    public var text: String

    public init(classifier: String, text: String) {
        self.classifier = classifier
        self.text = text
    }
}
