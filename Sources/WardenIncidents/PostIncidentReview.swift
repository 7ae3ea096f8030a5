import Foundation
import WardenCore

/// What the review of an incident states beside the incident's own record: gathered by the engine
/// from the store for the incident's span.
public struct ReviewFacts: Sendable, Equatable {
    public struct LinkedCase: Sendable, Equatable {
        public var id: Int64
        public var subject: String
        public var queue: String
        public var state: String
        /// The last decision's outcome (`violation: spam.links`), if decided.
        public var decision: String?
        public init(id: Int64, subject: String, queue: String, state: String, decision: String?) {
            self.id = id
            self.subject = subject
            self.queue = queue
            self.state = state
            self.decision = decision
        }
    }
    public struct Action: Sendable, Equatable {
        public var subject: String
        public var action: String
        public var at: Int64
        public init(subject: String, action: String, at: Int64) {
            self.subject = subject
            self.action = action
            self.at = at
        }
    }
    public struct RuleActivity: Sendable, Equatable {
        public var rule: String
        /// Signals between detection and resolution.
        public var signals: Int
        public init(rule: String, signals: Int) {
            self.rule = rule
            self.signals = signals
        }
    }
    public var cases: [LinkedCase]
    public var actions: [Action]
    public var alerts: [AlertRecord]
    public var rules: [RuleActivity]
    public var pages: [PageRecord]

    public init(cases: [LinkedCase] = [], actions: [Action] = [], alerts: [AlertRecord] = [], rules: [RuleActivity] = [], pages: [PageRecord] = []) {
        self.cases = cases
        self.actions = actions
        self.alerts = alerts
        self.rules = rules
        self.pages = pages
    }
}

/// The measured times of an incident.
public struct IncidentTimes: Sendable, Equatable {
    /// First evidence to opening.
    public var toDetect: Int64
    /// Opening to acknowledgement.
    public var toAcknowledge: Int64?
    /// Opening to mitigation (first `monitoring` or later).
    public var toMitigate: Int64?
    /// Opening to resolution.
    public var toResolve: Int64?

    public init(_ record: IncidentRecord) {
        toDetect = max(0, record.createdAt - record.detectedAt)
        toAcknowledge = record.acknowledgedAt.map { $0 - record.createdAt }
        toMitigate = record.mitigatedAt.map { $0 - record.createdAt }
        toResolve = record.resolvedAt.map { $0 - record.createdAt }
    }
}

/// A post-incident review, generated from the incident as a Markdown document: summary, times
/// against the severity's targets, timeline, what was affected, what fired and what did not, and
/// follow-ups. People edit it from there; the edited text is kept with the incident.
public enum PostIncidentReview {
    public static func markdown(_ record: IncidentRecord, severity: IncidentSeverity?, timeline: [IncidentTimelineEntry], links: [IncidentLinkRecord],
                                tasks: [IncidentTask], facts: ReviewFacts, stakeholders: [StakeholderGroup]) -> String {
        var lines: [String] = []
        func time(_ at: Int64?) -> String { at.map(Timestamp.formatRFC3339) ?? "—" }
        func span(_ millis: Int64?) -> String { millis.map { $0 < 1000 ? "0s" : DurationText.format($0 / 1000 * 1000) } ?? "—" }
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        lines.append("# Post-incident review: incident \(record.id) — \(record.title)")
        lines.append("")
        lines.append("- **Severity:** \(record.severity)" + (severity.map { " (\($0.name))" } ?? ""))
        lines.append("- **Status:** \(record.status.rawValue)")
        lines.append("- **Opened:** \(time(record.createdAt)) by \(record.createdBy) (source: \(record.source.rawValue)\(record.sourceRef.map { ", \($0)" } ?? ""))")
        for role in IncidentRole.allCases { lines.append("- **\(role.rawValue.capitalized):** \(record.roles[role] ?? "—")") }
        lines.append("- **Participants:** \(record.participants.isEmpty ? "—" : record.participants.joined(separator: ", "))")
        let groups = record.stakeholders.map { id in stakeholders.first { $0.id == id }?.name ?? id }
        lines.append("- **Stakeholders:** \(groups.isEmpty ? "—" : groups.joined(separator: ", "))")
        lines.append("")
        lines.append("## Summary")
        lines.append("")
        lines.append(record.summary.isEmpty ? "_No summary was written._" : record.summary)
        lines.append("")
        lines.append("## Times")
        lines.append("")
        let times = IncidentTimes(record)
        lines.append("| Measure | From | To | Took | Target |")
        lines.append("|---|---|---|---|---|")
        lines.append("| Time to detect | \(time(record.detectedAt)) | \(time(record.createdAt)) | \(span(times.toDetect)) | — |")
        func target(_ took: Int64?, _ limit: Int64?) -> String {
            guard let limit else { return "—" }
            guard let took else { return "\(DurationText.format(limit)) (not reached)" }
            return "\(DurationText.format(limit)) (\(took <= limit ? "met" : "missed"))"
        }
        lines.append("| Time to acknowledge | \(time(record.createdAt)) | \(time(record.acknowledgedAt)) | \(span(times.toAcknowledge)) | \(target(times.toAcknowledge, severity?.acknowledgeWithin)) |")
        lines.append("| Time to mitigate | \(time(record.createdAt)) | \(time(record.mitigatedAt)) | \(span(times.toMitigate)) | \(target(times.toMitigate, severity?.mitigateWithin)) |")
        lines.append("| Time to resolve | \(time(record.createdAt)) | \(time(record.resolvedAt)) | \(span(times.toResolve)) | — |")
        lines.append("")
        lines.append("## Timeline")
        lines.append("")
        lines.append("| Time (UTC) | Who | What |")
        lines.append("|---|---|---|")
        for entry in timeline {
            lines.append("| \(time(entry.at)) | \(cell(entry.actor.description)) | \(cell(describe(entry))) |")
        }
        lines.append("")
        lines.append("## What was affected")
        lines.append("")
        if facts.cases.isEmpty {
            lines.append("- No cases were linked.")
        } else {
            lines.append("| Case | Subject | Queue | State | Decision |")
            lines.append("|---|---|---|---|---|")
            for linked in facts.cases {
                lines.append("| \(linked.id) | \(cell(linked.subject)) | \(cell(linked.queue)) | \(linked.state) | \(cell(linked.decision ?? "—")) |")
            }
        }
        let entities = links.filter { $0.link.kind == .entity }.map(\.link.ref)
        if !entities.isEmpty { lines.append(""); lines.append("Entities: " + entities.map { "`\($0)`" }.joined(separator: ", ")) }
        lines.append("")
        if facts.actions.isEmpty {
            lines.append("No enforcement actions were taken on the linked cases.")
        } else {
            var counts: [String: Int] = [:]
            for action in facts.actions { counts[action.action, default: 0] += 1 }
            lines.append("Enforcement on the linked cases: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ") + ".")
        }
        lines.append("")
        lines.append("## What fired and what did not")
        lines.append("")
        if facts.alerts.isEmpty {
            lines.append("- No alert fired for this incident: detection by alerting missed it.")
        } else {
            for alert in facts.alerts {
                lines.append("- Alert \(alert.id) `\(alert.rule)` on \(alert.series.rawValue) `\(alert.key)` first fired \(time(alert.firstFiredAt)), peak \(AlertRecord.number(alert.peak))"
                             + (alert.baseline.map { " against a baseline of \(AlertRecord.number($0))" } ?? "") + ".")
            }
        }
        for rule in facts.rules {
            lines.append(rule.signals > 0
                         ? "- Rule `\(rule.rule)` raised \(rule.signals) signal\(rule.signals == 1 ? "" : "s") during the incident."
                         : "- Rule `\(rule.rule)` did **not** fire during the incident.")
        }
        if !facts.pages.isEmpty {
            for page in facts.pages {
                let acknowledged = page.acknowledgedAt.map { "acknowledged \(time($0)) by \(page.acknowledgedBy?.name ?? "?")" } ?? "not acknowledged"
                lines.append("- Page \(page.id) (\(page.policy)) reached \(page.paged.isEmpty ? "nobody" : page.paged.joined(separator: ", ")); \(acknowledged).")
            }
        }
        lines.append("")
        lines.append("## Tasks and follow-ups")
        lines.append("")
        if tasks.isEmpty {
            lines.append("- None recorded.")
        } else {
            for task in tasks {
                let box = task.doneAt == nil ? "[ ]" : "[x]"
                var line = "- \(box) \(task.followUp ? "**Follow-up:** " : "")\(task.title)"
                if let owner = task.owner { line += " — \(owner)" }
                if let due = task.dueAt { line += ", due \(time(due))" }
                if let change = task.change { line += " (done in `\(change)`)" }
                lines.append(line)
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// One timeline entry in words.
    public static func describe(_ entry: IncidentTimelineEntry) -> String {
        let detail = JSONValue.parse(Array(entry.detail.utf8)) ?? .object([:])
        func text(_ key: String) -> String? {
            switch detail[key] {
            case .string(let value): value
            case .number(let value): value == value.rounded() ? String(Int64(value)) : String(value)
            case .bool(let value): String(value)
            default: nil
            }
        }
        switch entry.kind {
        case .opened: return "Opened at \(text("severity") ?? "?"): \(text("title") ?? "")" + (text("source_ref").map { " (from \($0))" } ?? "")
        case .status: return "Status \(text("from") ?? "?") → \(text("to") ?? "?")" + (text("note").map { ": \($0)" } ?? "")
        case .severity: return "Severity \(text("from") ?? "?") → \(text("to") ?? "?")" + (text("reason").map { ": \($0)" } ?? "")
        case .role: return "\((text("role") ?? "role").capitalized): \(text("to") ?? "nobody")"
        case .participant: return text("added").map { "\($0) joined" } ?? "\(text("removed") ?? "?") left"
        case .stakeholder: return text("added").map { "Stakeholders: \($0) added" } ?? "Stakeholders: \(text("removed") ?? "?") removed"
        case .edited: return "Title or summary edited"
        case .link: return "Linked \(text("link") ?? "?")"
        case .unlink: return "Unlinked \(text("link") ?? "?")"
        case .note: return "Note: \(text("text") ?? "")"
        case .task:
            if let done = text("done") { return "Task done: \(done)" }
            if let change = text("change") { return "Task \(text("task") ?? "?") carried out in \(change)" }
            return "Task: \(text("title") ?? "")" + (text("owner").map { " (\($0))" } ?? "")
        case .update: return "Update: \(text("text") ?? "")"
        case .reminder: return "Reminder: a stakeholder update was due \(text("overdue_since") ?? "")"
        case .page: return "Paged \(text("person") ?? "?") (\(text("policy") ?? "?"), step \(text("step") ?? "?"))"
        case .acknowledged: return "Acknowledged"
        case .review: return "Review kept"
        }
    }
}
