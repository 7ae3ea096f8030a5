import Foundation
public import Logging
public import WardenCore
public import WardenIncidents
import WardenReview
public import WardenStore

/// Runs the pack's automations: follows the audit log (every trigger is an audit entry: a case
/// created or decided, an SLA warning or breach, an alert fired, an incident opened or its severity
/// changed), and for each automation whose trigger and conditions match, does its actions through
/// the same services people use, as `system:automation:<name>`.
///
/// Loop protection: entries made by automations never trigger automations; each automation runs at
/// most once per triggering entry (the run is recorded before its actions, so a crash cannot repeat
/// them); and an automation runs at most `max_runs_per_hour` times an hour (later matches are
/// recorded as skipped). Every run is audited (`automation.run`) with what each action did.
public struct AutomationRunner: Sendable {
    private let incidents: IncidentService
    private let logger: Logger

    public init(incidents: IncidentService, logger: Logger) {
        self.incidents = incidents
        self.logger = logger
    }

    private var store: any IncidentStore { incidents.store }
    private var review: ReviewService { incidents.review }

    /// Handles the audit entries written since the last step (at most `limit`); returns how many it read.
    /// The first step on a store starts from the end of the log: automations act on what happens
    /// after they start, never on history.
    @discardableResult
    public func step(limit: Int = 500) async throws -> Int {
        guard let cursor = try await store.automationCursor() else {
            try await store.setAutomationCursor(try await review.store.auditHead()?.seq ?? 0)
            return 0
        }
        let entries = try await review.store.auditEntries(after: cursor, limit: limit)
        guard let last = entries.last else { return 0 }
        let automations = incidents.pack.automations
        for entry in entries where !automations.isEmpty && Automation.mayTrigger(actor: entry.actor) {
            guard let trigger = AutomationTrigger(auditAction: entry.action) else { continue }
            let candidates = automations.filter { $0.trigger == trigger }
            guard !candidates.isEmpty, let item = try await Self.item(for: trigger, target: entry.target, cases: review.store, incidents: store) else { continue }
            for automation in candidates where automation.matches(item) {
                try await run(automation, item: item, triggerSeq: entry.seq)
            }
        }
        try await store.setAutomationCursor(last.seq)
        return entries.count
    }

    /// The item an audit entry's target names, as automations see it.
    public static func item(for trigger: AutomationTrigger, target: String, cases: any ReviewStore, incidents store: any IncidentStore) async throws -> AutomationItem? {
        let parts = target.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let id = Int64(parts[1]) else { return nil }
        switch trigger.subject {
        case .case:
            guard parts[0] == "case", let record = try await cases.caseRecord(id: id) else { return nil }
            var fields = ["case": String(id), "queue": record.queue, "category": record.category, "severity": record.severity,
                          "source": record.source.rawValue, "kind": record.kind.rawValue, "band": record.band.name, "state": record.state.rawValue,
                          "subject": record.subject.description, "subject_type": record.subject.type]
            if let decision = try await cases.decisions(caseID: id).last { fields["violation"] = decision.violation ? "true" : "false" }
            return AutomationItem(kind: .case, id: id, fields: fields)
        case .alert:
            guard parts[0] == "alert", let alert = try await store.alert(id: id) else { return nil }
            return AutomationItem(kind: .alert, id: id, fields: ["alert": String(id), "rule": alert.rule, "key": alert.key, "series": alert.series.rawValue,
                                                                 "value": AlertRecordText.number(alert.value), "baseline": alert.baseline.map(AlertRecordText.number) ?? ""])
        case .incident:
            guard parts[0] == "incident", let incident = try await store.incident(id: id) else { return nil }
            return AutomationItem(kind: .incident, id: id, fields: ["incident": String(id), "severity": incident.severity, "status": incident.status.rawValue,
                                                                    "source": incident.source.rawValue, "title": incident.title])
        }
    }

    func run(_ automation: Automation, item: AutomationItem, triggerSeq: Int64) async throws {
        let now = incidents.clock.nowMillis()
        let recent = try await store.automationRunCount(automation: automation.name, since: now - 3_600_000)
        guard let runID = try await store.beginAutomationRun(automation: automation.name, triggerSeq: triggerSeq, target: item.target, at: now) else { return }
        var results: [(String, String)] = []
        var outcome: String
        if recent >= automation.maxRunsPerHour {
            outcome = "skipped"
            results = [("limit", "ran \(recent) times in the last hour; max_runs_per_hour is \(automation.maxRunsPerHour)")]
            logger.warning("automation skipped: over its hourly limit", metadata: ["automation": "\(automation.name)", "target": "\(item.target)"])
        } else {
            var refused = 0
            for action in automation.actions {
                do {
                    results.append((action.name, try await perform(action, automation: automation, item: item, triggerSeq: triggerSeq)))
                } catch let error as ReviewError {
                    refused += 1
                    results.append((action.name, "refused: \(error.message)"))
                } catch let error as IncidentError {
                    refused += 1
                    results.append((action.name, "refused: \(error.message)"))
                }
            }
            outcome = refused == 0 ? "done" : refused == automation.actions.count ? "failed" : "partial"
        }
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.field("automation", automation.name)
        writer.field("trigger", automation.trigger.rawValue)
        writer.field("trigger_seq", triggerSeq)
        writer.field("outcome", outcome)
        writer.key("actions")
        writer.beginArray()
        for (name, result) in results {
            writer.beginObject()
            writer.field("action", name)
            writer.field("result", result)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        let detail = String(decoding: writer.bytes, as: UTF8.self)
        try await store.finishAutomationRun(id: runID, outcome: outcome, detail: detail,
                                            audit: AuditDraft(at: now, actor: automation.actor, action: "automation.run", target: item.target, detail: detail))
    }

    /// Does one action; returns what it did, or throws the service's refusal.
    func perform(_ action: AutomationAction, automation: Automation, item: AutomationItem, triggerSeq: Int64) async throws -> String {
        let actor = automation.actor
        switch action {
        case .assign(let person):
            _ = try await review.change(caseID: item.id, .reassign(to: ActorRef(.user, person), note: "automation \(automation.name)"), actor: actor)
            return "given to \(person)"
        case .move(let queue, let reason):
            _ = try await review.change(caseID: item.id, .escalate(queue: queue, reason: Automation.render(reason, item)), actor: actor)
            return "moved to \(queue)"
        case .tag(let tag):
            _ = try await review.change(caseID: item.id, .comment("tag: \(tag)"), actor: actor)
            return "tagged \(tag)"
        case .macro(let name):
            let record = try await review.caseRecord(id: item.id)
            let message = try await review.previewMacro(name, caseID: item.id, draft: DecisionDraft(category: record.category, violation: true, actions: []))
            _ = try await review.change(caseID: item.id, .comment("macro \(name): \(message.text)"), actor: actor)
            return "macro \(name) on the timeline"
        case .openIncident(let severity, let title):
            let incident = item.kind == .alert
                ? try await incidents.incident(fromAlert: item.id, severity: severity, title: title.map { Automation.render($0, item) }, actor: actor)
                : try await incidents.escalate(caseID: item.id, to: nil, severity: severity, title: title.map { Automation.render($0, item) }, actor: actor)
            return "opened incident \(incident.id)"
        case .linkIncident:
            guard let latest = try await store.incidents(status: nil, openOnly: true, before: nil, limit: 50).first(where: { $0.status.isActive }) else {
                throw IncidentError(.notFound, "no incident is active to link to")
            }
            if item.kind == .alert {
                _ = try await incidents.change(id: latest.id, .link(IncidentLink(.alert, String(item.id))), actor: actor)
            } else {
                _ = try await incidents.escalate(caseID: item.id, to: latest.id, severity: nil, title: nil, actor: actor)
            }
            return "linked to incident \(latest.id)"
        case .webhook(let name, let text):
            guard let channel = incidents.pack.channels[name] else { throw IncidentError(.invalid, "channel \(name) is not defined") }
            let rendered = Automation.render(text, item)
            let notice = Notice(topic: "automation", subject: item.target, summary: rendered, text: "", severity: "info", key: "\(automation.name):\(triggerSeq)",
                                details: [("automation", automation.name)])
            let now = incidents.clock.nowMillis()
            try await store.notify([notice.delivery(to: channel, at: now)], audit: AuditDraft(at: now, actor: actor, action: "automation.webhook", target: item.target,
                                                                                              detail: #"{"channel":\#(jsonQuoted(name))}"#))
            return "sent to \(name)"
        }
    }

    // MARK: Dry run

    /// What `automation` would have done over the last `days` days of the audit log (its conditions
    /// evaluated on each item as it is now; nothing is changed). At most `limit` entries are read.
    public static func dryRun(_ automation: Automation, days: Int, now: Int64, cases: any ReviewStore, incidents: any IncidentStore,
                              limit: Int = 10_000) async throws -> [(at: Int64, target: String, actions: [String])] {
        let since = now - Int64(days) * 86_400_000
        let prefix: String = switch automation.trigger {
        case .caseCreated: "case.create"
        case .caseDecided: "decision.create"
        case .slaWarning, .slaBreached: "sla."
        case .alertFired: "alert.fire"
        case .incidentOpened: "incident.open"
        case .incidentSeverityChanged: "incident.severity"
        }
        var hits: [(at: Int64, target: String, actions: [String])] = []
        var before: Int64?
        var scanned = 0
        scan: while scanned < limit {
            let page = try await cases.auditEntries(before: before, actor: nil, action: prefix, target: nil, limit: 500)
            guard let last = page.last else { break }
            for entry in page {
                scanned += 1
                if entry.at < since { break scan }
                guard Automation.mayTrigger(actor: entry.actor), AutomationTrigger(auditAction: entry.action) == automation.trigger,
                      let item = try await item(for: automation.trigger, target: entry.target, cases: cases, incidents: incidents),
                      automation.matches(item) else { continue }
                hits.append((entry.at, item.target, automation.actions.map { describe($0, item) }))
            }
            before = last.seq
        }
        return hits.reversed()
    }

    static func describe(_ action: AutomationAction, _ item: AutomationItem) -> String {
        switch action {
        case .assign(let person): "give to \(person)"
        case .move(let queue, let reason): "move to \(queue): \(Automation.render(reason, item))"
        case .tag(let tag): "tag \(tag)"
        case .macro(let name): "put macro \(name) on the timeline"
        case .openIncident(let severity, let title): "open a \(severity) incident" + (title.map { ": \(Automation.render($0, item))" } ?? "")
        case .linkIncident: "link to the most recent active incident"
        case .webhook(let channel, let text): "send to \(channel): \(Automation.render(text, item))"
        }
    }
}

enum AlertRecordText {
    static func number(_ value: Double) -> String { value == value.rounded() ? String(Int64(value)) : String(format: "%.1f", value) }
}

func jsonQuoted(_ text: String) -> String {
    var writer = JSONWriter(capacity: text.utf8.count + 2)
    writer.string(text)
    return String(decoding: writer.bytes, as: UTF8.self)
}
