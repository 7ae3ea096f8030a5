public import WardenCore

/// An action a decision asks for.
public struct RequestedAction: Sendable, Equatable {
    public var name: String
    /// How long it lasts (ms), for actions that need a duration.
    public var duration: Int64?

    /// Creates a requested action.
    public init(name: String, duration: Int64?) {
        self.name = name
        self.duration = duration
    }
}

/// A decision as submitted, already checked against the pack by the engine.
public struct DecisionDraft: Sendable, Equatable {
    /// How an appeal ended.
    public enum AppealOutcome: String, Sendable, Codable, CaseIterable { case upheld, overturned }

    public var category: String
    public var violation: Bool
    /// Explicit actions; when empty and `violation`, the category's ladder decides.
    public var actions: [RequestedAction]
    public var policy: String?
    public var rationale: String?
    /// Illegal content (rather than incompatible with the terms), and the legal ground.
    public var illegal: Bool
    public var legalGround: String?
    /// The decision-tree path taken, as a JSON array.
    public var treePath: String?
    public var macro: String?
    /// For appeal cases.
    public var appealOutcome: AppealOutcome?
    /// Rendered macro messages to send with the decision.
    public var messages: [OutgoingMessage] = []
    /// The policy pack version in force (decisions are labels tagged with the policy they applied).
    public var packVersion: String?

    /// Creates a draft.
    public init(category: String, violation: Bool, actions: [RequestedAction], policy: String? = nil, rationale: String? = nil,
                illegal: Bool = false, legalGround: String? = nil, treePath: String? = nil, macro: String? = nil, appealOutcome: AppealOutcome? = nil) {
        self.category = category
        self.violation = violation
        self.actions = actions
        self.policy = policy
        self.rationale = rationale
        self.illegal = illegal
        self.legalGround = legalGround
        self.treePath = treePath
        self.macro = macro
        self.appealOutcome = appealOutcome
    }
}

/// A message a decision sends, already rendered from a macro.
public struct OutgoingMessage: Sendable, Equatable {
    /// Where the message goes.
    public enum Kind: String, Sendable {
        /// To the user the decision is about (webhook `user.notice`).
        case userNotice = "user_notice"
        /// To each reporter of the case (webhook `reporter.reply`).
        case reporterReply = "reporter_reply"
        /// On the case timeline only.
        case internalNote = "internal_note"
    }

    public var kind: Kind
    public var macro: String
    public var text: String

    /// Creates a message.
    public init(kind: Kind, macro: String, text: String) {
        self.kind = kind
        self.macro = macro
        self.text = text
    }
}

/// What planning a decision needs from the pack.
public struct DecisionContext: Sendable {
    public var catalogue: EnforcementCatalogue
    /// DSA statement category of each taxonomy category (inherited from the nearest parent that names one).
    public var dsaCategories: [String: String]
    /// DSA specification keywords of each taxonomy category (inherited likewise).
    public var dsaKeywords: [String: [String]]
    /// Renders the draft's macro for the case (nil: no such macro). A pure function of the pack; the
    /// planner calls it once the actions are final, so a message says what is actually done.
    public var renderMacro: @Sendable (_ draft: DecisionDraft, _ record: CaseRecord) -> OutgoingMessage?

    /// Creates a context.
    public init(catalogue: EnforcementCatalogue, dsaCategories: [String: String], dsaKeywords: [String: [String]] = [:],
                renderMacro: @escaping @Sendable (_ draft: DecisionDraft, _ record: CaseRecord) -> OutgoingMessage? = { _, _ in nil }) {
        self.catalogue = catalogue
        self.dsaCategories = dsaCategories
        self.dsaKeywords = dsaKeywords
        self.renderMacro = renderMacro
    }
}

/// A recorded decision.
public struct DecisionRecord: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    public var decidedBy: ActorRef
    public var at: Int64
    public var category: String
    public var violation: Bool
    public var policy: String?
    public var rationale: String?
    /// The decision-tree path taken, as a JSON array.
    public var treePath: String?
    public var macro: String?
    public var appealOutcome: DecisionDraft.AppealOutcome?
    /// The policy pack version in force.
    public var packVersion: String?
    /// The actions taken, in order.
    public var actions: [ActionRecord]
    /// Whether a statement of reasons was made.
    public var hasStatement: Bool

    /// Creates a decision record.
    public init(id: Int64, caseID: Int64, decidedBy: ActorRef, at: Int64, category: String, violation: Bool, policy: String?,
                rationale: String?, treePath: String?, macro: String?, appealOutcome: DecisionDraft.AppealOutcome?, packVersion: String?,
                actions: [ActionRecord], hasStatement: Bool) {
        self.id = id
        self.caseID = caseID
        self.decidedBy = decidedBy
        self.at = at
        self.category = category
        self.violation = violation
        self.policy = policy
        self.rationale = rationale
        self.treePath = treePath
        self.macro = macro
        self.appealOutcome = appealOutcome
        self.packVersion = packVersion
        self.actions = actions
        self.hasStatement = hasStatement
    }
}

/// An enforcement action taken (or a reversal delivered).
public struct ActionRecord: Sendable, Equatable {
    public var id: Int64
    public var decisionID: Int64
    public var caseID: Int64
    public var subject: EntityRef
    public var action: String
    public var duration: Int64?
    public var createdAt: Int64
    /// For a reversal: the action it undoes.
    public var reverses: Int64?
    public var reversedAt: Int64?
    public var reversedBy: ActorRef?
    public var reversalReason: String?

    /// Creates an action record.
    public init(id: Int64, decisionID: Int64, caseID: Int64, subject: EntityRef, action: String, duration: Int64?, createdAt: Int64,
                reverses: Int64?, reversedAt: Int64?, reversedBy: ActorRef?, reversalReason: String?) {
        self.id = id
        self.decisionID = decisionID
        self.caseID = caseID
        self.subject = subject
        self.action = action
        self.duration = duration
        self.createdAt = createdAt
        self.reverses = reverses
        self.reversedAt = reversedAt
        self.reversedBy = reversedBy
        self.reversalReason = reversalReason
    }
}

/// Why a review operation was refused: what kind of refusal (the HTTP layer maps it to a status)
/// and a sentence for the person who asked.
public struct ReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of refusal.
    public enum Kind: Sendable, Equatable { case notFound, conflict, invalid, forbidden, limited }
    public var kind: Kind
    public var message: String

    /// Creates a refusal.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
