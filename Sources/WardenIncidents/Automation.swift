public import WardenCore

/// What starts an automation: something recorded in the audit log.
public enum AutomationTrigger: String, Sendable, CaseIterable {
    case caseCreated = "case.created"
    case caseDecided = "case.decided"
    case slaWarning = "sla.warning"
    case slaBreached = "sla.breached"
    case alertFired = "alert.fired"
    case incidentOpened = "incident.opened"
    case incidentSeverityChanged = "incident.severity_changed"

    /// The trigger an audit entry's action means, if any.
    public init?(auditAction action: String) {
        switch action {
        case "case.create": self = .caseCreated
        case "decision.create": self = .caseDecided
        case "alert.fire": self = .alertFired
        case "incident.open": self = .incidentOpened
        case "incident.severity": self = .incidentSeverityChanged
        default:
            guard action.hasPrefix("sla.") else { return nil }
            if action.hasSuffix(".warning") { self = .slaWarning } else if action.hasSuffix(".breached") { self = .slaBreached } else { return nil }
        }
    }

    /// What the trigger is about.
    public var subject: AutomationItem.Kind {
        switch self {
        case .caseCreated, .caseDecided, .slaWarning, .slaBreached: .case
        case .alertFired: .alert
        case .incidentOpened, .incidentSeverityChanged: .incident
        }
    }
}

/// The item a trigger is about, as conditions and templates see it: named text fields.
public struct AutomationItem: Sendable, Equatable {
    public enum Kind: String, Sendable { case `case`, alert, incident }
    public var kind: Kind
    public var id: Int64
    public var fields: [String: String]

    public init(kind: Kind, id: Int64, fields: [String: String]) {
        self.kind = kind
        self.id = id
        self.fields = fields
    }

    public var target: String { "\(kind.rawValue):\(id)" }

    /// The fields each kind of item has (what `when:` and `{…}` in texts may name).
    public static func fields(of kind: Kind) -> [String] {
        switch kind {
        case .case: ["case", "queue", "category", "severity", "source", "kind", "band", "state", "subject", "subject_type", "violation"]
        case .alert: ["alert", "rule", "key", "series", "value", "baseline"]
        case .incident: ["incident", "severity", "status", "source", "title"]
        }
    }
}

/// One thing an automation does.
public enum AutomationAction: Sendable, Equatable {
    /// Give the case to a person.
    case assign(String)
    /// Send the case to a queue, with a reason.
    case move(queue: String, reason: String)
    /// Tag the case: a `tag:` entry on its timeline (found by case search).
    case tag(String)
    /// Put a macro's text on the case's timeline.
    case macro(String)
    /// Open an incident (from a case or an alert) at a severity.
    case openIncident(severity: String, title: String?)
    /// Link the item to the most recent active incident.
    case linkIncident
    /// Send a text to a notification channel.
    case webhook(channel: String, text: String)

    public var name: String {
        switch self {
        case .assign: "assign"
        case .move: "move"
        case .tag: "tag"
        case .macro: "macro"
        case .openIncident: "open_incident"
        case .linkIncident: "link_incident"
        case .webhook: "webhook"
        }
    }

    /// The item kinds the action applies to.
    public var appliesTo: Set<AutomationItem.Kind> {
        switch self {
        case .assign, .move, .tag, .macro: [.case]
        case .openIncident, .linkIncident: [.case, .alert]
        case .webhook: [.case, .alert, .incident]
        }
    }
}

/// An automation from the pack (`automations.yaml`): on a trigger, when every condition holds,
/// do the actions in order.
public struct Automation: Sendable, Equatable {
    public var name: String
    public var description: String
    public var trigger: AutomationTrigger
    /// Field → patterns (`*` globs); every field must match one of its patterns.
    public var conditions: [String: [String]]
    public var actions: [AutomationAction]
    /// Runs allowed per hour (a runaway guard).
    public var maxRunsPerHour: Int

    public init(name: String, description: String = "", trigger: AutomationTrigger, conditions: [String: [String]] = [:], actions: [AutomationAction],
                maxRunsPerHour: Int = 60) {
        self.name = name
        self.description = description
        self.trigger = trigger
        self.conditions = conditions
        self.actions = actions
        self.maxRunsPerHour = maxRunsPerHour
    }

    /// The actor automations act as: entries it makes never trigger automations (loop protection).
    public var actor: ActorRef { .system("automation:\(name)") }

    /// Whether an audit entry by `actor` may trigger automations: not one an automation made.
    public static func mayTrigger(actor: String) -> Bool { !actor.hasPrefix("system:automation:") }

    /// Whether every condition holds for `item`.
    public func matches(_ item: AutomationItem) -> Bool {
        conditions.allSatisfy { field, patterns in
            guard let value = item.fields[field] else { return false }
            return patterns.contains { AlertRule.glob($0, matches: value) }
        }
    }

    /// `text` with `{field}` replaced by the item's fields (unknown names stay as written).
    public static func render(_ text: String, _ item: AutomationItem) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            result += item.fields[name] ?? "{\(name)}"
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}
