public import WardenCore

/// The roles an incident has, each held by at most one person.
public enum IncidentRole: String, Sendable, Codable, CaseIterable {
    /// Runs the response and makes the calls.
    case commander
    /// Keeps the timeline.
    case scribe
    /// Keeps stakeholders informed.
    case communications
}

/// What an incident links to.
public enum IncidentLinkKind: String, Sendable, Codable, CaseIterable {
    case `case`, entity, rule, signal, queue, alert
}

/// One linked item: a case id, an entity (`user:123`), a rule name, a signal id, a queue name or
/// an alert id.
public struct IncidentLink: Sendable, Equatable, Hashable, Codable {
    public var kind: IncidentLinkKind
    public var ref: String

    public init(_ kind: IncidentLinkKind, _ ref: String) {
        self.kind = kind
        self.ref = ref
    }

    public var description: String { "\(kind.rawValue):\(ref)" }
}

/// How an incident came to be.
public enum IncidentSource: String, Sendable, Codable, CaseIterable {
    /// Opened by a person.
    case manual
    /// Escalated from a review case.
    case `case`
    /// Opened by an alert rule.
    case alert
    /// Opened by an automation.
    case automation
}

/// An incident as stored.
public struct IncidentRecord: Sendable, Equatable {
    public var id: Int64
    public var title: String
    public var summary: String
    /// A severity id of the pack (`SEV0` …).
    public var severity: String
    public var status: IncidentStatus
    /// Who holds each role (person names).
    public var roles: [IncidentRole: String]
    /// People taking part, in the order they joined.
    public var participants: [String]
    /// Stakeholder group ids at the table.
    public var stakeholders: [String]
    public var source: IncidentSource
    /// What it came from (`case:12`, `alert:3`), when not manual.
    public var sourceRef: String?
    public var createdAt: Int64
    public var createdBy: ActorRef
    /// The first evidence of the problem (an alert's first firing, a case's opening; the opening
    /// time for incidents opened by hand): time to detect is measured from here to `createdAt`.
    public var detectedAt: Int64
    public var acknowledgedAt: Int64?
    public var acknowledgedBy: ActorRef?
    /// When each status was first reached (identified, mitigated = first `monitoring` or later,
    /// resolved, closed).
    public var identifiedAt: Int64?
    public var mitigatedAt: Int64?
    public var resolvedAt: Int64?
    public var closedAt: Int64?
    /// The last stakeholder update.
    public var lastUpdateAt: Int64?
    /// When the next update falls due (reminders fire then); nil unless active.
    public var updateDueAt: Int64?
    /// The post-incident review (Markdown), once written.
    public var review: String?

    public init(id: Int64, title: String, summary: String, severity: String, status: IncidentStatus = .investigating,
                roles: [IncidentRole: String] = [:], participants: [String] = [], stakeholders: [String] = [],
                source: IncidentSource = .manual, sourceRef: String? = nil, createdAt: Int64, createdBy: ActorRef, detectedAt: Int64) {
        self.id = id
        self.title = title
        self.summary = summary
        self.severity = severity
        self.status = status
        self.roles = roles
        self.participants = participants
        self.stakeholders = stakeholders
        self.source = source
        self.sourceRef = sourceRef
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.detectedAt = detectedAt
    }

    /// The audit and timeline target.
    public var target: String { "incident:\(id)" }
}

/// A task within an incident (or a follow-up after it).
public struct IncidentTask: Sendable, Equatable {
    public var id: Int64
    public var incidentID: Int64
    public var title: String
    public var owner: String?
    public var dueAt: Int64?
    /// A follow-up from the review (work after the incident), rather than response work.
    public var followUp: Bool
    public var createdAt: Int64
    public var createdBy: ActorRef
    public var doneAt: Int64?
    public var doneBy: ActorRef?
    /// The change that carried it out (`rule:name@version`, `pack:version`), once linked.
    public var change: String?

    public init(id: Int64, incidentID: Int64, title: String, owner: String?, dueAt: Int64?, followUp: Bool, createdAt: Int64, createdBy: ActorRef) {
        self.id = id
        self.incidentID = incidentID
        self.title = title
        self.owner = owner
        self.dueAt = dueAt
        self.followUp = followUp
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// One entry of an incident's timeline.
public struct IncidentTimelineEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case opened, status, severity, role, participant, stakeholder, edited, link, unlink, note, task, update, reminder, page, acknowledged, review
    }
    public var id: Int64
    public var incidentID: Int64
    public var at: Int64
    public var actor: ActorRef
    public var kind: Kind
    /// A JSON object.
    public var detail: String

    public init(id: Int64, incidentID: Int64, at: Int64, actor: ActorRef, kind: Kind, detail: String) {
        self.id = id
        self.incidentID = incidentID
        self.at = at
        self.actor = actor
        self.kind = kind
        self.detail = detail
    }
}

/// A link as stored: who added it and when.
public struct IncidentLinkRecord: Sendable, Equatable {
    public var incidentID: Int64
    public var link: IncidentLink
    public var at: Int64
    public var by: ActorRef

    public init(incidentID: Int64, link: IncidentLink, at: Int64, by: ActorRef) {
        self.incidentID = incidentID
        self.link = link
        self.at = at
        self.by = by
    }
}

/// What a person asks to open.
public struct IncidentDraft: Sendable, Equatable {
    public var title: String
    public var summary: String
    public var severity: String
    public var commander: String?
    public var stakeholders: [String]
    public var links: [IncidentLink]
    public var source: IncidentSource
    public var sourceRef: String?
    /// The first evidence (defaults to the opening time).
    public var detectedAt: Int64?

    /// A title made from other text (a case's subject, an alert's key), cut to the 200 characters
    /// (Unicode scalars, as JSON Schema counts them) a title may have.
    public static func fitTitle(_ text: String) -> String {
        guard text.unicodeScalars.count > 200 else { return text }
        var cut = ""
        for character in text {
            if cut.unicodeScalars.count + character.unicodeScalars.count > 199 { break }
            cut.append(character)
        }
        return cut + "…"
    }

    public init(title: String, summary: String = "", severity: String, commander: String? = nil, stakeholders: [String] = [],
                links: [IncidentLink] = [], source: IncidentSource = .manual, sourceRef: String? = nil, detectedAt: Int64? = nil) {
        self.title = title
        self.summary = summary
        self.severity = severity
        self.commander = commander
        self.stakeholders = stakeholders
        self.links = links
        self.source = source
        self.sourceRef = sourceRef
        self.detectedAt = detectedAt
    }
}

/// Something that changes an incident.
public enum IncidentChange: Sendable, Equatable {
    case status(IncidentStatus, note: String?)
    case severity(String, reason: String?)
    /// Gives a role to a person (nil: nobody holds it).
    case role(IncidentRole, person: String?)
    case addParticipant(String)
    case removeParticipant(String)
    case addStakeholder(String)
    case removeStakeholder(String)
    case edit(title: String?, summary: String?)
    case link(IncidentLink)
    case unlink(IncidentLink)
    case note(String)
    /// A stakeholder update (the communications log); sent to the pack's update channels.
    case update(String)
    case acknowledge
    case addTask(title: String, owner: String?, dueAt: Int64?, followUp: Bool)
    case completeTask(Int64)
    /// Records the change that carried out a task (a rule or pack change).
    case taskChange(Int64, change: String)
    /// Keeps the post-incident review.
    case review(String)
}

/// Why an incident operation was refused.
public struct IncidentError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case notFound, invalid, conflict }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Everything one incident operation writes, applied by the store in one transaction.
public struct IncidentPlan: Sendable, Equatable {
    public var inserted: IncidentRecord?
    public var updated: IncidentRecord?
    public var links: [IncidentLinkRecord] = []
    public var unlinks: [IncidentLink] = []
    public var tasks: [IncidentTask] = []
    public var updatedTasks: [IncidentTask] = []
    /// Timeline entries (ids assigned by the store).
    public var timeline: [IncidentTimelineEntry] = []
    public var audit: [AuditDraft] = []
    public var outbox: [OutboxMessage] = []
    /// Escalations to start (the pager takes them from here).
    public var pages: [PageStart] = []
    /// Subjects whose pages are acknowledged.
    public var acknowledgedPages: [String] = []

    public init() {}

    public var isEmpty: Bool { self == IncidentPlan() }
}

/// A page to start: the escalation policy `policy` about `subject` (`incident:4`, `alert:9`).
public struct PageStart: Sendable, Equatable {
    public var subject: String
    public var policy: String
    public var summary: String
    /// The PagerDuty severity (`critical` … `info`).
    public var severity: String
    public var at: Int64

    public init(subject: String, policy: String, summary: String, severity: String, at: Int64) {
        self.subject = subject
        self.policy = policy
        self.summary = summary
        self.severity = severity
        self.at = at
    }
}
