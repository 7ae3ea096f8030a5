import WardenCore
import WardenReview

// The request bodies of review operations. Each names its members (others are refused) and
// checks what its types cannot; the OpenAPI document states the same bounds.

/// An optional note on a lifecycle command.
struct NoteBody: RequestBody {
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case note }

    func validate() throws(Problem) {
        try Bounds.text(note, "note", max: 10_000)
    }
}

/// Give the case to a named reviewer.
struct HandoffBody: RequestBody {
    var reviewer: ActorRef
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case reviewer, note }

    func validate() throws(Problem) {
        try Bounds.person(reviewer, "reviewer")
        try Bounds.text(note, "note", max: 10_000)
    }
}

/// A lead gives a case to a reviewer, or (without one) takes it back to its queue.
struct ReassignBody: RequestBody {
    var reviewer: ActorRef?
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case reviewer, note }

    func validate() throws(Problem) {
        if let reviewer { try Bounds.person(reviewer, "reviewer") }
        try Bounds.text(note, "note", max: 10_000)
    }
}

/// Ask another reviewer a question about the case.
struct ConsultBody: RequestBody {
    var reviewer: ActorRef
    var question: String
    enum CodingKeys: String, CodingKey, CaseIterable { case reviewer, question }

    func validate() throws(Problem) {
        try Bounds.person(reviewer, "reviewer")
        try Bounds.text(question, "question", max: 10_000, nonBlank: true)
    }
}

/// A comment on the case's timeline.
struct CommentBody: RequestBody {
    var text: String
    enum CodingKeys: String, CodingKey, CaseIterable { case text }

    func validate() throws(Problem) {
        try Bounds.text(text, "text", max: 10_000, nonBlank: true)
    }
}

/// The answer to a consult.
struct AnswerBody: RequestBody {
    var answer: String
    enum CodingKeys: String, CodingKey, CaseIterable { case answer }

    func validate() throws(Problem) {
        try Bounds.text(answer, "answer", max: 10_000, nonBlank: true)
    }
}

/// Escalate the case to a queue, saying why.
struct EscalateBody: RequestBody {
    var queue: String
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case queue, reason }

    func validate() throws(Problem) {
        try Bounds.text(queue, "queue", max: 200, nonBlank: true)
        try Bounds.text(reason, "reason", max: 10_000, nonBlank: true)
    }
}

/// Why an action is reversed.
struct ReverseBody: RequestBody {
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case reason }

    func validate() throws(Problem) {
        try Bounds.text(reason, "reason", max: 10_000, nonBlank: true)
    }
}

/// Mute or unmute a reporter.
struct MuteBody: RequestBody {
    var muted: Bool
    enum CodingKeys: String, CodingKey, CaseIterable { case muted }
}

/// Which dead deliveries to put back in line (all when absent).
struct RedriveBody: RequestBody {
    var ids: [Int64]?
    enum CodingKeys: String, CodingKey, CaseIterable { case ids }

    func validate() throws(Problem) {
        if let ids, ids.count > 1000 { throw RequestInput.invalid("ids", "has \(ids.count) items; the limit is 1000") }
        if let index = ids?.firstIndex(where: { $0 < 1 }) { throw RequestInput.invalid("ids[\(index)]", "must be a delivery id (a positive integer)") }
    }
}

/// Open an appeal of a case's decision.
struct AppealBody: RequestBody {
    var caseID: Int64
    var appellant: EntityRef
    var statement: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case caseID = "case_id", appellant, statement }

    func validate() throws(Problem) {
        try Bounds.text(appellant.description, "appellant", max: 300)
        if caseID < 1 { throw RequestInput.invalid("case_id", "must be a case id (a positive integer)") }
        try Bounds.text(statement, "statement", max: 10_000)
    }
}

/// The answers given so far in a decision-tree walk.
struct WalkBody: RequestBody {
    var answers: [String]?
    enum CodingKeys: String, CodingKey, CaseIterable { case answers }

    func validate() throws(Problem) {
        try Bounds.texts(answers, "answers", max: 500, maxItems: 100)
    }
}

/// A decision: explicit, or the outcome of a decision-tree walk.
struct DecisionBody: RequestBody {
    struct Action: Decodable, Sendable {
        var action: String
        var duration: String?
    }

    var category: String?
    var violation: Bool?
    var actions: [Action]?
    var policy: String?
    var rationale: String?
    var illegal: Bool?
    var legalGround: String?
    var treePath: [String]?
    var macro: String?
    var outcome: DecisionDraft.AppealOutcome?
    var tree: String?
    var answers: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case category, violation, actions, policy, rationale, illegal, macro, outcome, tree, answers
        case legalGround = "legal_ground", treePath = "tree_path"
    }

    static var nestedMembers: [String: [String]] { ["actions": ["action", "duration"]] }

    func validate() throws(Problem) {
        if let actions, actions.count > 20 { throw RequestInput.invalid("actions", "has \(actions.count) items; the limit is 20") }
        for (index, action) in (actions ?? []).enumerated() {
            try Bounds.text(action.action, "actions[\(index)].action", max: 200, nonBlank: true)
            if let text = action.duration, !Self.isDuration(text) {
                throw RequestInput.invalid("actions[\(index)].duration", "\"\(text.prefix(40))\" is not a duration; use a whole number and s, m, h or d, such as 24h")
            }
        }
        try Bounds.text(policy, "policy", max: 200)
        try Bounds.text(rationale, "rationale", max: 10_000)
        try Bounds.text(legalGround, "legal_ground", max: 1000)
        try Bounds.text(macro, "macro", max: 200)
        try Bounds.text(tree, "tree", max: 200)
        try Bounds.texts(treePath, "tree_path", max: 500, maxItems: 100)
        try Bounds.texts(answers, "answers", max: 500, maxItems: 100)
    }

    /// A whole number of 1 to 12 digits, not starting with 0, and a unit (`s`, `m`, `h`, `d`).
    static func isDuration(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (2...13).contains(bytes.count), let unit = bytes.last, "smhd".utf8.contains(unit), bytes[0] != UInt8(ascii: "0") else { return false }
        return bytes.dropLast().allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// The actions, with their durations in ms (valid once ``validate()`` passed).
    var requestedActions: [RequestedAction] {
        (actions ?? []).map { RequestedAction(name: $0.action, duration: $0.duration.flatMap(DurationText.millis)) }
    }
}
