import WardenCore
/// A policy playbook as data: questions whose answers lead to further questions or to an outcome.
/// Reviewers walk it for a case; the path they took is recorded with the decision.
public struct DecisionTree: Sendable, Equatable {
    /// One possible answer to a question.
    public struct Answer: Sendable, Equatable {
        public var label: String
        /// The next question's id, or nil when the answer ends at an outcome.
        public var next: String?
        /// The outcome's id, when the answer ends the walk.
        public var outcome: String?

        public init(label: String, next: String? = nil, outcome: String? = nil) {
            self.label = label
            self.next = next
            self.outcome = outcome
        }
    }

    public struct Question: Sendable, Equatable {
        public var id: String
        public var text: String
        public var help: String?
        public var answers: [Answer]

        public init(id: String, text: String, help: String? = nil, answers: [Answer]) {
            self.id = id
            self.text = text
            self.help = help
            self.answers = answers
        }
    }

    /// Where a walk ends: what the decision is.
    public struct Outcome: Sendable, Equatable {
        public var id: String
        public var category: String
        public var violation: Bool
        /// Actions as written (`suspend 7d`); empty with a violation means the ladder decides.
        public var actions: [String]
        public var policy: String?
        public var macro: String?

        public init(id: String, category: String, violation: Bool, actions: [String], policy: String? = nil, macro: String? = nil) {
            self.id = id
            self.category = category
            self.violation = violation
            self.actions = actions
            self.policy = policy
            self.macro = macro
        }
    }

    public var name: String
    public var description: String?
    /// Categories the tree is for (empty: any).
    public var categories: [String]
    public var start: String
    public var questions: [String: Question]
    public var outcomes: [String: Outcome]

    public init(name: String, description: String? = nil, categories: [String] = [], start: String, questions: [Question], outcomes: [Outcome]) {
        self.name = name
        self.description = description
        self.categories = categories
        self.start = start
        self.questions = Dictionary(questions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.outcomes = Dictionary(outcomes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Where a walk stands after some answers.
    public enum Position: Sendable, Equatable {
        /// The next question to answer.
        case question(Question)
        /// The walk is over.
        case outcome(Outcome)
    }

    /// A walk that does not fit the tree.
    public struct WalkError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Follows `answers` (labels, in order) from the start. Returns the path as "question → answer"
    /// steps and where the walk stands.
    public func walk(_ answers: [String]) throws(WalkError) -> (path: [String], position: Position) {
        var path: [String] = []
        guard var question = questions[start] else { throw WalkError(description: "tree \(name) has no start question") }
        for (index, label) in answers.enumerated() {
            guard let answer = question.answers.first(where: { $0.label == label }) else {
                let labels = question.answers.map { "\"\($0.label)\"" }.joined(separator: ", ")
                throw WalkError(description: "answer \(index + 1) \"\(label)\" does not answer \"\(question.text)\"; answer one of \(labels)")
            }
            path.append("\(question.text) → \(answer.label)")
            if let outcomeID = answer.outcome, let outcome = outcomes[outcomeID] {
                guard index == answers.count - 1 else {
                    throw WalkError(description: "the walk ended at outcome \(outcomeID) after answer \(index + 1); drop the answers after it")
                }
                return (path, .outcome(outcome))
            }
            guard let next = answer.next.flatMap({ questions[$0] }) else {
                throw WalkError(description: "tree \(name) leads nowhere after \"\(label)\"")
            }
            question = next
        }
        return (path, .question(question))
    }

    /// Structural problems: unknown targets, answers that both continue and end, questions nobody
    /// reaches, cycles. Each as (path, message).
    public func problems() -> [(path: String, message: String)] {
        var problems: [(String, String)] = []
        if questions[start] == nil { problems.append(("start", "\"\(start)\" is not one of the questions")) }
        for question in questions.values.sorted(by: { $0.id < $1.id }) {
            if question.answers.isEmpty { problems.append(("questions.\(question.id)", "a question needs at least one answer")) }
            for (index, answer) in question.answers.enumerated() {
                let path = "questions.\(question.id).answers[\(index)]"
                switch (answer.next, answer.outcome) {
                case (nil, nil), (.some, .some):
                    problems.append((path, "an answer needs exactly one of next (a question) or outcome"))
                case (let next?, nil) where questions[next] == nil:
                    problems.append((path, "next \"\(next)\" is not one of the questions"))
                case (nil, let outcome?) where outcomes[outcome] == nil:
                    problems.append((path, "outcome \"\(outcome)\" is not one of the outcomes"))
                default: break
                }
            }
        }
        // Reachability and cycles, by depth-first search from the start.
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ id: String) {
            guard let question = questions[id] else { return }
            state[id] = 1
            for next in question.answers.compactMap(\.next) {
                if state[next] == 1 { problems.append(("questions.\(id)", "answers lead back to \"\(next)\": a tree cannot loop")) }
                if state[next] == nil { visit(next) }
            }
            state[id] = 2
        }
        visit(start)
        for id in questions.keys.sorted() where state[id] == nil {
            problems.append(("questions.\(id)", "no answer leads to this question"))
        }
        let used = Set(questions.values.flatMap { $0.answers.compactMap(\.outcome) })
        for id in outcomes.keys.sorted() where !used.contains(id) {
            problems.append(("outcomes.\(id)", "no answer ends at this outcome"))
        }
        return problems
    }
}
