import WardenCore
import WardenReview

// The request bodies of review operations. Each names its members (others are refused) and
// checks what its types cannot; the OpenAPI document states the same bounds.

/// An optional note on a lifecycle command.
struct NoteBody: RequestBody {
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case note }
}

/// Give the case to a named reviewer.
struct HandoffBody: RequestBody {
    var reviewer: String
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case reviewer, note }

    func validate() throws(Problem) {
        if reviewer.isBlank { throw RequestInput.invalid("reviewer", "name the reviewer to hand the case to") }
    }
}

/// Ask another reviewer a question about the case.
struct ConsultBody: RequestBody {
    var reviewer: String
    var question: String
    enum CodingKeys: String, CodingKey, CaseIterable { case reviewer, question }

    func validate() throws(Problem) {
        if reviewer.isBlank { throw RequestInput.invalid("reviewer", "name the reviewer to ask") }
        if question.isBlank { throw RequestInput.invalid("question", "a question cannot be empty") }
    }
}

/// A comment on the case's timeline.
struct CommentBody: RequestBody {
    var text: String
    enum CodingKeys: String, CodingKey, CaseIterable { case text }

    func validate() throws(Problem) {
        if text.isBlank { throw RequestInput.invalid("text", "a comment cannot be empty") }
    }
}

/// The answer to a consult.
struct AnswerBody: RequestBody {
    var answer: String
    enum CodingKeys: String, CodingKey, CaseIterable { case answer }

    func validate() throws(Problem) {
        if answer.isBlank { throw RequestInput.invalid("answer", "an answer cannot be empty") }
    }
}

/// Escalate the case to a queue, saying why.
struct EscalateBody: RequestBody {
    var queue: String
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case queue, reason }

    func validate() throws(Problem) {
        if queue.isBlank { throw RequestInput.invalid("queue", "name the queue to escalate to") }
        if reason.isBlank { throw RequestInput.invalid("reason", "say why the case is escalated") }
    }
}

/// Why an action is reversed.
struct ReverseBody: RequestBody {
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case reason }

    func validate() throws(Problem) {
        if reason.isBlank { throw RequestInput.invalid("reason", "a reversal needs a reason") }
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
        if let index = ids?.firstIndex(where: { $0 < 1 }) { throw RequestInput.invalid("ids[\(index)]", "must be a delivery id (a positive integer)") }
    }
}

/// Open an appeal of a case's decision.
struct AppealBody: RequestBody {
    var caseID: Int64
    var appellant: String
    var statement: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case caseID = "case_id", appellant, statement }

    func validate() throws(Problem) {
        if caseID < 1 { throw RequestInput.invalid("case_id", "must be a case id (a positive integer)") }
        if EntityRef(parsing: appellant) == nil { throw RequestInput.invalid("appellant", "must be an entity such as user:u1") }
    }
}

/// The answers given so far in a decision-tree walk.
struct WalkBody: RequestBody {
    var answers: [String]
    enum CodingKeys: String, CodingKey, CaseIterable { case answers }
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
        for (index, action) in (actions ?? []).enumerated() {
            if action.action.isBlank { throw RequestInput.invalid("actions[\(index)].action", "name an action of the pack's catalogue") }
            if let text = action.duration, (DurationText.millis(text) ?? 0) <= 0 {
                throw RequestInput.invalid("actions[\(index)].duration", "\"\(text)\" is not a duration; use a number and s, m, h or d, such as 24h")
            }
        }
    }

    /// The actions, with their durations in ms (valid once ``validate()`` passed).
    var requestedActions: [RequestedAction] {
        (actions ?? []).map { RequestedAction(name: $0.action, duration: $0.duration.flatMap(DurationText.millis)) }
    }
}
