import WardenCore

/// Where an incident is. The active statuses follow the usual incident-response arc; any active
/// status may move to any other (a fix that did not hold sends `monitoring` back to
/// `mitigating`), `resolved` may be reopened, and `closed` is final.
public enum IncidentStatus: String, Sendable, Codable, CaseIterable {
    /// Something is wrong; what is not yet known.
    case investigating
    /// The cause is known.
    case identified
    /// A fix or containment is under way.
    case mitigating
    /// The harm has stopped; watching that it stays stopped.
    case monitoring
    /// Over. Follow-ups and the review remain.
    case resolved
    /// Reviewed and finished: nothing more will happen to it.
    case closed

    /// Whether people are still responding (paging, reminders and SLA targets apply).
    public var isActive: Bool {
        switch self {
        case .investigating, .identified, .mitigating, .monitoring: true
        case .resolved, .closed: false
        }
    }

    /// Whether the incident still takes links, tasks and notes.
    public var isOpen: Bool { self != .closed }

    /// The position on the arc (for "first reached" times).
    var rank: Int { Self.allCases.firstIndex(of: self)! }
}

/// A status change the lifecycle does not allow, with what would.
public struct IncidentTransitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var from: IncidentStatus
    public var to: IncidentStatus

    public var description: String {
        let allowed = IncidentLifecycle.allowed(from: from).map(\.rawValue)
        let hint = allowed.isEmpty ? "a closed incident is final" : "from \(from.rawValue) it can move to: \(allowed.joined(separator: ", "))"
        return from == to ? "the incident is already \(to.rawValue)" : "an incident that is \(from.rawValue) cannot become \(to.rawValue); \(hint)"
    }
}

/// The incident lifecycle as a pure state machine:
///
/// ```
/// investigating ⇄ identified ⇄ mitigating ⇄ monitoring   (any active status to any other)
///        └──────────────┴────────────┴────────────┴──▶ resolved ──▶ closed
///                                   resolved ──reopen──▶ investigating
/// ```
public enum IncidentLifecycle {
    /// `to`, if the move from `from` is allowed.
    public static func next(_ from: IncidentStatus, _ to: IncidentStatus) throws(IncidentTransitionError) -> IncidentStatus {
        switch (from, to) {
        case _ where from == to: throw IncidentTransitionError(from: from, to: to)
        case _ where from.isActive && (to.isActive || to == .resolved): return to
        case (.resolved, .closed), (.resolved, .investigating): return to
        default: throw IncidentTransitionError(from: from, to: to)
        }
    }

    /// Every status reachable from `from`, in arc order.
    public static func allowed(from: IncidentStatus) -> [IncidentStatus] {
        IncidentStatus.allCases.filter { (try? next(from, $0)) != nil }
    }
}
