import WardenCore
/// Where a case is in its life. Open cases (`open`, `in_review`, `on_hold`, `escalated`) take new
/// signals and reports about their subject; `resolved`, `appealed` and `closed` do not.
public enum CaseState: String, Sendable, Codable, CaseIterable {
    /// Waiting in its queue for a reviewer.
    case open
    /// Claimed by a reviewer, under a lease.
    case inReview = "in_review"
    /// Kept by its reviewer while waiting for something (the SLA clock may pause).
    case onHold = "on_hold"
    /// Sent to another tier or queue with a reason; waiting there for a reviewer.
    case escalated
    /// Decided.
    case resolved
    /// Decided, and the decision is under appeal.
    case appealed
    /// Finished: nothing more will happen to it.
    case closed

    /// Whether new signals and reports about the subject merge into this case.
    public var isOpen: Bool {
        switch self {
        case .open, .inReview, .onHold, .escalated: true
        case .resolved, .appealed, .closed: false
        }
    }

    /// Whether the case waits in its queue for someone to claim it.
    public var isWaiting: Bool { self == .open || self == .escalated }

    /// The states in which a reviewer holds the case.
    public var isHeld: Bool { self == .inReview || self == .onHold }

    /// SQL list of the open states, for queries and partial indexes.
    public static let openStatesSQL = "('open', 'in_review', 'on_hold', 'escalated')"
}

/// Something that moves a case. Who does it is recorded by the caller; whether they may is the
/// permission layer's business. This type only knows which moves make sense from which state.
public enum CaseCommand: Sendable, Equatable {
    /// A reviewer takes a waiting case.
    case claim
    /// The reviewer gives it back to the queue (also what an expired lease does).
    case release
    /// The reviewer keeps it aside, waiting for something.
    case hold
    /// The reviewer picks a held case up again.
    case resume
    /// Sent to another queue or tier, with a reason.
    case escalate
    /// A decision is recorded.
    case resolve
    /// The decision is appealed.
    case appeal
    /// The appeal was decided, or the case is finished without one.
    case close

    /// The verb, as the timeline and errors say it.
    public var verb: String {
        switch self {
        case .claim: "claim"
        case .release: "release"
        case .hold: "hold"
        case .resume: "resume"
        case .escalate: "escalate"
        case .resolve: "decide"
        case .appeal: "appeal"
        case .close: "close"
        }
    }
}

/// A move the lifecycle does not allow, with what would.
public struct CaseTransitionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The case's state.
    public var state: CaseState
    /// What was tried.
    public var command: CaseCommand

    public var description: String {
        let allowed = CaseLifecycle.allowedCommands(from: state).map(\.verb)
        let hint = allowed.isEmpty ? "nothing more can happen to it" : "from \(state.rawValue) a case can: \(allowed.joined(separator: ", "))"
        return "a case that is \(state.rawValue) cannot \(command.verb); \(hint)"
    }
}

/// The case lifecycle as a pure state machine:
///
/// ```
/// open ──claim──▶ in_review ──resolve──▶ resolved ──appeal──▶ appealed ──close──▶ closed
///  ▲ │               │  ▲ │                 │                                    ▲
///  │ escalate    hold│  │ │escalate         └─────────────close──────────────────┘
///  │ ▼               ▼  │ ▼
///  │ escalated ◀──── on_hold (resume ▶ in_review; release ▶ open)
///  └──release (in_review, on_hold)      escalated ──claim──▶ in_review
/// ```
public enum CaseLifecycle {
    /// The state after `command`, or why it is not allowed.
    public static func next(_ state: CaseState, _ command: CaseCommand) throws(CaseTransitionError) -> CaseState {
        switch (state, command) {
        case (.open, .claim), (.escalated, .claim): return .inReview
        case (.inReview, .release), (.onHold, .release): return .open
        case (.inReview, .hold): return .onHold
        case (.onHold, .resume): return .inReview
        case (.open, .escalate), (.inReview, .escalate), (.onHold, .escalate), (.escalated, .escalate): return .escalated
        case (.inReview, .resolve): return .resolved
        case (.resolved, .appeal): return .appealed
        case (.resolved, .close), (.appealed, .close): return .closed
        default: throw CaseTransitionError(state: state, command: command)
        }
    }

    /// Every command allowed from `state`, in a stable order.
    public static func allowedCommands(from state: CaseState) -> [CaseCommand] {
        let all: [CaseCommand] = [.claim, .release, .hold, .resume, .escalate, .resolve, .appeal, .close]
        return all.filter { (try? next(state, $0)) != nil }
    }
}
