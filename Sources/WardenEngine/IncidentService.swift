import Foundation
public import Logging
public import ServiceLifecycle
public import WardenCore
public import WardenIncidents
public import WardenReview
public import WardenStore

/// Incidents, alerts and on-call over the store, with the pack in force: reads, changes (each
/// planned by WardenIncidents inside one store transaction), escalation from cases and alerts,
/// post-incident reviews, backtests of alert rules, and the measures of the response.
public final class IncidentService: Sendable {
    public let store: any IncidentStore
    public let review: ReviewService
    private let packs: PackManager
    public let clock: any WallClock

    public init(store: any IncidentStore, review: ReviewService, packs: PackManager, clock: any WallClock) {
        self.store = store
        self.review = review
        self.packs = packs
        self.clock = clock
    }

    /// The incident half of the pack in force.
    public var pack: IncidentPack { packs.pack.incidents }

    /// The pager over the pack's on-call configuration and the overrides in the store.
    public func pager() async throws -> Pager {
        pack.pager(overrides: try await store.overrides(now: clock.nowMillis()))
    }

    // MARK: Incidents

    public func open(_ draft: IncidentDraft, actor: ActorRef) async throws -> IncidentRecord {
        var draft = draft
        for link in draft.links where link.kind == .case {
            guard let id = Int64(link.ref), try await review.store.caseRecord(id: id) != nil else {
                throw IncidentError(.invalid, "link case:\(link.ref): there is no such case")
            }
        }
        if draft.source == .case, let ref = draft.sourceRef, let id = Int64(ref.dropFirst("case:".count)), let record = try await review.store.caseRecord(id: id) {
            draft.detectedAt = draft.detectedAt ?? record.createdAt
        }
        return try await store.openIncident(draft, actor: actor, settings: pack.settings, now: clock.nowMillis())
    }

    /// Opens an incident from a case, or links the case to an open incident.
    public func escalate(caseID: Int64, to incidentID: Int64?, severity: String?, title: String?, actor: ActorRef) async throws -> IncidentRecord {
        let record = try await review.caseRecord(id: caseID)
        let link = IncidentLink(.case, String(caseID))
        if let incidentID {
            let incident = try await change(id: incidentID, .link(link), actor: actor)
            try await review.store.audit(actor: actor, action: "case.incident", target: "case:\(caseID)", detail: #"{"incident":\#(incidentID)}"#, now: clock.nowMillis())
            return incident
        }
        guard let severity else { throw IncidentError(.invalid, "give the severity of the new incident, or the incident to link the case to") }
        let draft = IncidentDraft(title: title ?? IncidentDraft.fitTitle("Case \(caseID): \(record.category) — \(record.subject)"), summary: "Escalated from case \(caseID) in \(record.queue).",
                                  severity: severity, links: [link, IncidentLink(.entity, record.subject.description)], source: .case,
                                  sourceRef: "case:\(caseID)", detectedAt: record.createdAt)
        let incident = try await store.openIncident(draft, actor: actor, settings: pack.settings, now: clock.nowMillis())
        try await review.store.audit(actor: actor, action: "case.incident", target: "case:\(caseID)", detail: #"{"incident":\#(incident.id)}"#, now: clock.nowMillis())
        return incident
    }

    public func change(id: Int64, _ change: IncidentChange, actor: ActorRef) async throws -> IncidentRecord {
        if case .link(let link) = change, link.kind == .case, let caseID = Int64(link.ref), try await review.store.caseRecord(id: caseID) == nil {
            throw IncidentError(.invalid, "there is no case \(link.ref) to link")
        }
        if case .link(let link) = change, link.kind == .alert, let alertID = Int64(link.ref), try await store.alert(id: alertID) == nil {
            throw IncidentError(.invalid, "there is no alert \(link.ref) to link")
        }
        return try await store.changeIncident(id: id, change, actor: actor, settings: pack.settings, pager: try await pager(), now: clock.nowMillis())
    }

    /// What to do with linked cases still open when an incident closes.
    public enum OpenCases: Sendable, Equatable {
        /// Leave them where they are.
        case keep
        /// Send the waiting ones to a queue with a reason (held ones stay with their reviewer).
        case move(queue: String, reason: String)
    }

    /// The linked cases that are still open.
    public func openLinkedCases(incidentID: Int64) async throws -> [CaseRecord] {
        var open: [CaseRecord] = []
        for link in try await store.incidentLinks(id: incidentID) where link.link.kind == .case {
            if let id = Int64(link.link.ref), let record = try await review.store.caseRecord(id: id), record.state.isOpen { open.append(record) }
        }
        return open
    }

    /// Closes an incident. With linked cases still open it asks what to do with them (a conflict
    /// naming them) unless `openCases` says.
    public func close(id: Int64, note: String?, openCases: OpenCases?, actor: ActorRef) async throws -> (incident: IncidentRecord, moved: [Int64], kept: [Int64]) {
        let open = try await openLinkedCases(incidentID: id)
        guard !open.isEmpty else { return (try await change(id: id, .status(.closed, note: note), actor: actor), [], []) }
        guard let openCases else {
            throw IncidentError(.conflict, "incident \(id) has open linked cases (\(open.map { String($0.id) }.joined(separator: ", "))): "
                + "say what to do with them: open_cases \"keep\" leaves them in their queues, \"move\" sends the waiting ones to a queue with a reason")
        }
        var moved: [Int64] = []
        var kept: [Int64] = []
        if case .move(let queue, let reason) = openCases {
            guard review.policy.configuration.queues[queue] != nil else { throw IncidentError(.invalid, "queue \"\(queue)\" does not exist") }
            for record in open {
                if record.state.isHeld {
                    kept.append(record.id)
                } else {
                    _ = try await review.change(caseID: record.id, .escalate(queue: queue, reason: "incident \(id) closed: \(reason)"), actor: actor)
                    moved.append(record.id)
                }
            }
        } else {
            kept = open.map(\.id)
        }
        let detail = note.map { $0 + " " } ?? ""
        let summary = moved.isEmpty ? "" : "moved cases \(moved.map(String.init).joined(separator: ", ")); "
        let incident = try await change(id: id, .status(.closed, note: detail + summary + (kept.isEmpty ? "" : "left cases \(kept.map(String.init).joined(separator: ", ")) open")),
                                        actor: actor)
        return (incident, moved, kept)
    }

    /// An incident with everything about it.
    public func details(id: Int64) async throws -> (IncidentRecord, [IncidentTimelineEntry], [IncidentLinkRecord], [IncidentTask]) {
        guard let record = try await store.incident(id: id) else { throw IncidentError(.notFound, "there is no incident \(id)") }
        return (record, try await store.incidentTimeline(id: id), try await store.incidentLinks(id: id), try await store.incidentTasks(id: id))
    }

    /// The post-incident review: the kept one, or one generated from the incident now.
    public func reviewDocument(id: Int64, regenerate: Bool = false) async throws -> String {
        try await Self.reviewDocument(store: store, settings: pack.settings, id: id, regenerate: regenerate, now: clock.nowMillis())
    }

    /// The review of incident `id` in `store` (the CLI's export reads a data directory with this).
    public static func reviewDocument(store: any IncidentStore, settings: IncidentSettings, id: Int64, regenerate: Bool, now: Int64) async throws -> String {
        guard let record = try await store.incident(id: id) else { throw IncidentError(.notFound, "there is no incident \(id)") }
        if !regenerate, let kept = record.review { return kept }
        let facts = try await store.reviewFacts(incidentID: id, now: now)
        return PostIncidentReview.markdown(record, severity: settings.severity(record.severity), timeline: try await store.incidentTimeline(id: id),
                                           links: try await store.incidentLinks(id: id), tasks: try await store.incidentTasks(id: id),
                                           facts: facts, stakeholders: settings.stakeholders)
    }

    // MARK: Alerts

    public func command(alertID: Int64, _ command: AlertCommand, actor: ActorRef) async throws -> AlertRecord {
        try await store.commandAlert(id: alertID, command, actor: actor, pager: try await pager(), now: clock.nowMillis())
    }

    public func incident(fromAlert id: Int64, severity: String, title: String?, actor: ActorRef) async throws -> IncidentRecord {
        try await store.incidentFromAlert(id: id, severity: severity, title: title, actor: actor, settings: pack.settings, now: clock.nowMillis())
    }

    /// Replays an alert rule over the series history of the last `days` days, minute by minute, as
    /// the live evaluator would have: the alerts it would have opened (with when and why).
    public func backtest(rule: AlertRule, days: Int) async throws -> AlertBacktest {
        try await Self.backtest(store: store, rule: rule, days: days, now: clock.nowMillis())
    }

    /// Replays `rule` over the series in `store` (shared with `warden alerts backtest`).
    public static func backtest(store: any IncidentStore, rule: AlertRule, days: Int, now: Int64) async throws -> AlertBacktest {
        let through = now / 60_000 - 1
        let from = through - Int64(days) * 1440
        let lookback = rule.anomaly.map { Int64($0.seasons) * $0.seasonMinutes } ?? 0
        let after = from - lookback - rule.windowMinutes * Int64(AlertRule.trailingWindows + 1)
        let buckets = try await store.seriesBuckets(rule.series, after: after, through: through)
        let first = try await store.seriesHistoryStart()
        return AlertBacktest.run(rule: rule, buckets: buckets, after: after, firstMinute: first, from: from, through: through)
    }

    // MARK: Measures

    public func measures(days: Int) async throws -> IncidentMeasures {
        let since = clock.nowMillis() - Int64(days) * 86_400_000
        return IncidentMeasures(incidents: try await store.incidents(createdSince: since, limit: 100_000),
                                alerts: try await store.alerts(firedSince: since, limit: 100_000),
                                pages: try await store.pages(startedSince: since, limit: 100_000), since: since, now: clock.nowMillis())
    }
}

/// The incident clocks: counts the series alerts read, evaluates the pack's alert rules once a
/// minute, fires due page steps, reminds incidents whose stakeholder update is overdue, and runs
/// the pack's automations on what the audit log recorded since the last pass.
public struct IncidentClock: Service {
    private let incidents: IncidentService
    private let interval: Duration
    private let logger: Logger

    public init(incidents: IncidentService, interval: Duration = .seconds(1), logger: Logger) {
        self.incidents = incidents
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var evaluated: Int64 = 0
            while !Task.isCancelled {
                do {
                    evaluated = try await tick(lastEvaluated: evaluated)
                    try await Task.sleep(for: interval)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("incident clocks failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// One pass; returns the last minute evaluated.
    @discardableResult
    public func tick(lastEvaluated: Int64) async throws -> Int64 {
        let store = incidents.store
        while try await store.recordSeries(batch: 200_000) >= 200_000 {}
        let now = incidents.clock.nowMillis()
        let minute = now / 60_000 - 1
        var evaluated = lastEvaluated
        if minute > lastEvaluated {
            let rules = incidents.pack.alerts
            if !rules.isEmpty {
                let opened = try await store.evaluateAlerts(rules, minute: minute, settings: incidents.pack.settings, now: now)
                for alert in opened {
                    logger.warning("alert fired", metadata: ["alert": "\(alert.id)", "rule": "\(alert.rule)", "key": "\(alert.key)", "value": "\(alert.value)"])
                }
            }
            evaluated = minute
        }
        let pager = try await incidents.pager()
        while try await store.advancePages(pager: pager, now: now, limit: 100) == 100 {}
        _ = try await store.remindOverdueIncidents(settings: incidents.pack.settings, now: now, limit: 100)
        let automations = AutomationRunner(incidents: incidents, logger: logger)
        while try await automations.step() == 500 {}
        return evaluated
    }
}
