import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenIncidents
import WardenReview
import WardenStore

/// The incident pages: the incident list with firing alerts, who is on call and the response
/// measures; one incident with everything that can be done to it; on-call schedules and overrides.
/// The same ``IncidentService`` and scopes as the API (`incidents:read` to see, `incidents:write` to act).
extension ConsoleController {
    var incidents: IncidentService { components.incidents }

    // MARK: Views

    struct IncidentRow {
        var id: Int64
        var title: String
        var severity: String
        var status: String
        var active: Bool
        var commander: String
        var opened: String
        var age: String
        var acknowledged: Bool
        var overdue: Bool
        var source: String
    }

    struct AlertRow {
        var id: Int64
        var summary: String
        var state: String
        var firing: Bool
        var firstFired: String
        var lastFired: String
        var incidentID: Int64?
        var hasIncident: Bool
    }

    struct Option { var value: String; var label: String; var selected: Bool }

    struct IncidentsView {
        struct OnCall { var schedule: String; var person: String; var until: String }
        struct Measure { var severity: String; var incidents: Int; var mtta: String; var mttr: String; var target: String }
        var incidents: [IncidentRow]
        var hasIncidents: Bool
        var alerts: [AlertRow]
        var hasAlerts: Bool
        var onCall: [OnCall]
        var measures: [Measure]
        var alertPrecision: String
        var pagesChart: String?
        var canWrite: Bool
        var severities: [Option]
        var stakeholders: [Option]
        var status: String
        var statuses: [Option]
        var csrf: String
        struct AutomationRow { var name: String; var on: String; var when: String; var actions: String; var description: String }
        struct RunRow { var at: String; var automation: String; var target: String; var href: String?; var outcome: String; var failed: Bool }
        var automations: [AutomationRow]
        var runs: [RunRow]
        var hasRuns: Bool
    }

    @Sendable func incidentsPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .incidentsRead)
        let now = incidents.clock.nowMillis()
        let status = request.uri.queryParameters["status"].flatMap { IncidentStatus(rawValue: String($0)) }
        let list = try await incidents.store.incidents(status: status, openOnly: status == nil, before: nil, limit: 200)
        let alerts = try await incidents.store.alerts(openOnly: true, rule: nil, limit: 100)
        let pack = incidents.pack
        let overrides = try await incidents.store.overrides(now: now)
        let measures = try await incidents.measures(days: 30)
        let runs = try await incidents.store.automationRuns(automation: nil, limit: 15)
        let pagesChart = measures.people.isEmpty ? nil : SVG.barChart(title: "Pages per person per week (30 days)",
                                                                      bars: measures.people.prefix(12).map { ($0.person, $0.perWeek) })
        let view = IncidentsView(
            incidents: list.map { Self.row($0, now: now) }, hasIncidents: !list.isEmpty,
            alerts: alerts.map(Self.alertRow), hasAlerts: !alerts.isEmpty,
            onCall: pack.schedules.values.sorted { $0.name < $1.name }.map { schedule in
                .init(schedule: schedule.name, person: schedule.onCall(at: now, overrides: overrides) ?? "nobody",
                      until: Timestamp.formatRFC3339(schedule.nextHandover(after: now)))
            },
            measures: measures.severities.map { severity in
                let target = pack.settings.severity(severity.severity).map { "ack \(DurationText.format($0.acknowledgeWithin)), mitigate \(DurationText.format($0.mitigateWithin))" } ?? ""
                return .init(severity: severity.severity, incidents: severity.incidents, mtta: severity.mtta.map(ConsolePage.age) ?? "—",
                             mttr: severity.mttr.map(ConsolePage.age) ?? "—", target: target)
            },
            alertPrecision: measures.alerts == 0 ? "no alerts in 30 days"
                : "\(measures.alertsWithIncident) of \(measures.alerts) alerts led to an incident (\(Int((Double(measures.alertsWithIncident) / Double(measures.alerts) * 100).rounded())) %)",
            pagesChart: pagesChart, canWrite: Scope.incidentsWrite.isSatisfied(by: user.role.scopes),
            severities: pack.settings.severities.map { .init(value: $0.id, label: "\($0.id) — \($0.name)", selected: false) },
            stakeholders: pack.settings.stakeholders.map { .init(value: $0.id, label: $0.name, selected: false) },
            status: status?.rawValue ?? "open",
            statuses: [Option(value: "", label: "Open", selected: status == nil)] + IncidentStatus.allCases.map { .init(value: $0.rawValue, label: $0.rawValue, selected: $0 == status) },
            csrf: context.session?.csrfToken ?? "",
            automations: pack.automations.map { automation in
                .init(name: automation.name, on: automation.trigger.rawValue,
                      when: automation.conditions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.joined(separator: " or "))" }.joined(separator: ", "),
                      actions: automation.actions.map(\.name).joined(separator: ", "), description: automation.description)
            },
            runs: runs.map { run in
                let parts = run.target.split(separator: ":")
                let href: String? = parts.count == 2 ? "/\(parts[0] == "case" ? "cases" : parts[0] == "incident" ? "incidents" : "incidents")/\(parts[1])" : nil
                return .init(at: Timestamp.formatRFC3339(run.at), automation: run.automation, target: run.target, href: parts.first == "alert" ? nil : href,
                             outcome: run.outcome, failed: run.outcome == "failed" || run.outcome == "partial" || run.outcome == "skipped")
            },
            hasRuns: !runs.isEmpty)
        return render("incidents", title: "Incidents", path: "/incidents", context, body: view)
    }

    static func row(_ record: IncidentRecord, now: Int64) -> IncidentRow {
        IncidentRow(id: record.id, title: record.title, severity: record.severity, status: record.status.rawValue, active: record.status.isActive,
                    commander: record.roles[.commander] ?? "—", opened: Timestamp.formatRFC3339(record.createdAt), age: ConsolePage.age(now - record.createdAt),
                    acknowledged: record.acknowledgedAt != nil, overdue: record.updateDueAt.map { $0 <= now } ?? false, source: record.sourceRef ?? record.source.rawValue)
    }

    static func alertRow(_ alert: AlertRecord) -> AlertRow {
        AlertRow(id: alert.id, summary: alert.summary, state: alert.state.rawValue, firing: alert.state == .firing,
                 firstFired: Timestamp.formatRFC3339(alert.firstFiredAt), lastFired: Timestamp.formatRFC3339(alert.lastFiredAt),
                 incidentID: alert.incidentID, hasIncident: alert.incidentID != nil)
    }

    struct IncidentView {
        struct Entry { var at: String; var actor: String; var kind: String; var text: String }
        struct LinkRow { var kind: String; var ref: String; var href: String?; var ref2: String }
        struct TaskRow { var id: Int64; var title: String; var owner: String?; var due: String?; var done: Bool; var overdue: Bool; var followUp: Bool; var change: String? }
        struct Time { var label: String; var took: String; var target: String; var met: Bool; var missed: Bool }
        struct CaseRow { var id: Int64; var subject: String; var queue: String; var state: String }
        var id: Int64
        var title: String
        var summary: String?
        var severity: String
        var severityName: String
        var severityMeaning: String
        var status: String
        var active: Bool
        var closed: Bool
        var resolved: Bool
        var acknowledged: Bool
        var acknowledgedBy: String
        var overdue: Bool
        var updateDue: String
        var commander: String?
        var scribe: String?
        var communications: String?
        var participants: String?
        var stakeholders: String?
        var source: String
        var times: [Time]
        var timeline: [Entry]
        var links: [LinkRow]
        var tasks: [TaskRow]
        var hasTasks: Bool
        var openCases: [CaseRow]
        var hasOpenCases: Bool
        var nextStatuses: [Option]
        var severities: [Option]
        var stakeholderOptions: [Option]
        var queues: [Option]
        var canWrite: Bool
        var hasReview: Bool
        var review: String
        var pages: [String]
        var incidentID: Int64
        var csrf: String
    }

    @Sendable func incidentPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .incidentsRead)
        let id = try context.id()
        let (record, timeline, links, tasks) = try await IncidentsController.run { try await incidents.details(id: id) }
        let now = incidents.clock.nowMillis()
        let pack = incidents.pack
        let severity = pack.settings.severity(record.severity)
        let measured = IncidentTimes(record)
        func time(_ label: String, _ took: Int64?, _ target: Int64?) -> IncidentView.Time {
            let reached = took.map(ConsolePage.age) ?? (label == "Detect" ? "—" : "not yet (\(ConsolePage.age(now - record.createdAt)) so far)")
            return .init(label: label, took: reached, target: target.map(DurationText.format) ?? "—",
                         met: target.map { limit in (took ?? .max) <= limit } ?? false,
                         missed: target.map { limit in (took ?? (now - record.createdAt)) > limit } ?? false)
        }
        let openCases = try await incidents.openLinkedCases(incidentID: id)
        let pages = try await incidents.store.pages(subject: record.target, openOnly: false, limit: 20).map { page in
            "Page \(page.id) (\(page.policy)): \(page.paged.isEmpty ? "nobody yet" : page.paged.joined(separator: " → "))"
                + (page.acknowledgedAt.map { " — acknowledged \(Timestamp.formatRFC3339($0))" } ?? page.resolvedAt.map { _ in " — resolved" } ?? " — escalating")
        }
        let view = IncidentView(
            id: record.id, title: record.title, summary: record.summary.isEmpty ? nil : record.summary, severity: record.severity, severityName: severity?.name ?? "",
            severityMeaning: severity?.description ?? "", status: record.status.rawValue, active: record.status.isActive, closed: record.status == .closed,
            resolved: record.status == .resolved, acknowledged: record.acknowledgedAt != nil, acknowledgedBy: record.acknowledgedBy?.description ?? "",
            overdue: record.updateDueAt.map { $0 <= now } ?? false, updateDue: record.updateDueAt.map(Timestamp.formatRFC3339) ?? "—",
            commander: record.roles[.commander], scribe: record.roles[.scribe], communications: record.roles[.communications],
            participants: record.participants.isEmpty ? nil : record.participants.joined(separator: ", "),
            stakeholders: record.stakeholders.isEmpty ? nil : record.stakeholders.map { id in pack.settings.stakeholders.first { $0.id == id }?.name ?? id }.joined(separator: ", "),
            source: record.sourceRef ?? record.source.rawValue,
            times: [time("Detect", measured.toDetect, nil), time("Acknowledge", measured.toAcknowledge, severity?.acknowledgeWithin),
                    time("Mitigate", measured.toMitigate, severity?.mitigateWithin), time("Resolve", measured.toResolve, nil)],
            timeline: timeline.reversed().map { .init(at: Timestamp.formatRFC3339($0.at), actor: $0.actor.description, kind: $0.kind.rawValue, text: PostIncidentReview.describe($0)) },
            links: links.map { link in
                let href: String? = switch link.link.kind {
                case .case: "/cases/\(link.link.ref)"
                case .entity: EntityRef(parsing: link.link.ref).map { "/entities/\(Self.pathEscape($0.type))/\(Self.pathEscape($0.id))" }
                case .rule: "/rules/\(Self.pathEscape(link.link.ref))"
                case .queue: "/queues/\(Self.pathEscape(link.link.ref))"
                case .alert, .signal: nil
                }
                return .init(kind: link.link.kind.rawValue, ref: link.link.ref, href: href, ref2: link.link.ref)
            },
            tasks: tasks.map { .init(id: $0.id, title: $0.title, owner: $0.owner, due: $0.dueAt.map(Timestamp.formatRFC3339), done: $0.doneAt != nil,
                                     overdue: $0.doneAt == nil && ($0.dueAt.map { $0 <= now } ?? false), followUp: $0.followUp, change: $0.change) },
            hasTasks: !tasks.isEmpty,
            openCases: openCases.map { .init(id: $0.id, subject: $0.subject.description, queue: $0.queue, state: $0.state.rawValue) }, hasOpenCases: !openCases.isEmpty,
            nextStatuses: IncidentLifecycle.allowed(from: record.status).map { .init(value: $0.rawValue, label: $0.rawValue, selected: false) },
            severities: pack.settings.severities.map { .init(value: $0.id, label: "\($0.id) — \($0.name)", selected: $0.id == record.severity) },
            stakeholderOptions: pack.settings.stakeholders.filter { !record.stakeholders.contains($0.id) }.map { .init(value: $0.id, label: $0.name, selected: false) },
            queues: review.policy.configuration.queueOrder.map { .init(value: $0, label: $0, selected: false) },
            canWrite: Scope.incidentsWrite.isSatisfied(by: user.role.scopes) && record.status != .closed,
            hasReview: record.review != nil, review: record.review ?? "", pages: pages, incidentID: record.id, csrf: context.session?.csrfToken ?? "")
        return render("incident", title: "Incident \(id)", path: "/incidents", context, body: view)
    }

    /// Every change to an incident from its page: one form per action.
    @Sendable func incidentAction(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .incidentsWrite)
        let id = try context.id()
        let action = context.path("action")
        var notice = "Done."
        let change: IncidentChange?
        switch action {
        case "status":
            guard let status = form["status"].flatMap(IncidentStatus.init(rawValue:)) else { throw ConsoleRefusal("choose a status") }
            if status == .closed {
                let choice: IncidentService.OpenCases? = switch form["open_cases"] {
                case "keep": .keep
                case "move": .move(queue: try form.required("queue", label: "the queue", max: 200), reason: try form.required("reason", label: "the reason", max: 2000))
                default: nil
                }
                let closed = try await IncidentsController.run { try await incidents.close(id: id, note: form.text("note"), openCases: choice, actor: context.actor) }
                notice = "Incident \(id) closed." + (closed.moved.isEmpty ? "" : " Moved cases \(closed.moved.map(String.init).joined(separator: ", ")).")
                    + (closed.kept.isEmpty ? "" : " Left cases \(closed.kept.map(String.init).joined(separator: ", ")) open.")
                change = nil
            } else {
                change = .status(status, note: form.text("note"))
                notice = "Incident \(id) is \(status.rawValue)."
            }
        case "severity": change = .severity(try form.required("severity", label: "the severity", max: 200), reason: form.text("reason"))
        case "role":
            guard let role = form["role"].flatMap(IncidentRole.init(rawValue:)) else { throw ConsoleRefusal("choose a role") }
            change = .role(role, person: form.text("person"))
        case "participant": change = .addParticipant(try form.required("person", label: "the participant", max: 200))
        case "stakeholder": change = .addStakeholder(try form.required("group", label: "the stakeholder group", max: 200))
        case "link":
            guard let kind = form["kind"].flatMap(IncidentLinkKind.init(rawValue:)) else { throw ConsoleRefusal("choose what to link") }
            change = .link(IncidentLink(kind, try form.required("ref", label: "the item", max: 300)))
        case "note": change = .note(try form.required("text", label: "the note", max: 10_000))
        case "update":
            change = .update(try form.required("text", label: "the update", max: 10_000))
            notice = "Update posted."
        case "acknowledge":
            change = .acknowledge
            notice = "Acknowledged: the page has stopped."
        case "task":
            let due = try form.text("due").map { text -> Int64 in
                guard let value = Timestamp.parseRFC3339(text.count == 16 ? text + ":00Z" : text) else { throw ConsoleRefusal("the due time is not a time") }
                return value
            }
            change = .addTask(title: try form.required("title", label: "the task", max: 10_000), owner: form.text("owner"), dueAt: due, followUp: form["follow_up"] == "on")
        case "task-done":
            guard let task = form["task"].flatMap({ Int64($0) }) else { throw ConsoleRefusal("which task?") }
            change = .completeTask(task)
        case "review":
            let markdown = try await IncidentsController.run { try await incidents.reviewDocument(id: id, regenerate: true) }
            change = .review(form.text("markdown") ?? markdown)
            notice = "Review kept with the incident."
        default:
            throw Problem.notFound("there is no incident action \(action)")
        }
        if let change { _ = try await IncidentsController.run { try await incidents.change(id: id, change, actor: context.actor) } }
        ConsolePage.leaveNotice(notice, for: context)
        return ConsolePage.redirect("/incidents/\(id)")
    }

    @Sendable func openIncident(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .incidentsWrite)
        let draft = IncidentDraft(title: try form.required("title", label: "the title", max: 200), summary: form.text("summary") ?? "",
                                  severity: try form.required("severity", label: "the severity", max: 200), commander: form.text("commander"),
                                  stakeholders: form.all("stakeholders"))
        let record = try await IncidentsController.run { try await incidents.open(draft, actor: context.actor) }
        ConsolePage.leaveNotice("Incident \(record.id) opened.", for: context)
        return ConsolePage.redirect("/incidents/\(record.id)")
    }

    /// A case escalated into an incident (new or open) from the case page.
    @Sendable func caseIncident(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesReview)
        let id = try context.id()
        let record = try await ReviewController.run { try await review.caseRecord(id: id) }
        try ReviewController.requireQueue(record.queue, context)
        let existing = form.text("incident").flatMap { Int64($0) }
        let incident = try await IncidentsController.run {
            try await incidents.escalate(caseID: id, to: existing, severity: existing == nil ? form.text("severity") : nil, title: form.text("title"), actor: context.actor)
        }
        ConsolePage.leaveNotice(existing == nil ? "Incident \(incident.id) opened from case \(id)." : "Case \(id) linked to incident \(incident.id).", for: context)
        return ConsolePage.redirect("/cases/\(id)")
    }

    @Sendable func alertAction(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .incidentsWrite)
        let id = try context.id()
        switch context.path("action") {
        case "acknowledge": _ = try await IncidentsController.run { try await incidents.command(alertID: id, .acknowledge, actor: context.actor) }
        case "resolve": _ = try await IncidentsController.run { try await incidents.command(alertID: id, .resolve, actor: context.actor) }
        case "snooze":
            let minutes = Int64(form["minutes"] ?? "") ?? 60
            _ = try await IncidentsController.run { try await incidents.command(alertID: id, .snooze(until: incidents.clock.nowMillis() + min(max(minutes, 1), 10_080) * 60_000), actor: context.actor) }
        case "incident":
            let incident = try await IncidentsController.run {
                try await incidents.incident(fromAlert: id, severity: try form.required("severity", label: "the severity", max: 200), title: nil, actor: context.actor)
            }
            ConsolePage.leaveNotice("Incident \(incident.id) opened from alert \(id).", for: context)
            return ConsolePage.redirect("/incidents/\(incident.id)")
        default: throw Problem.notFound("there is no alert action")
        }
        ConsolePage.leaveNotice("Alert \(id) updated.", for: context)
        return ConsolePage.redirect("/incidents")
    }

    @Sendable func incidentReviewFile(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .incidentsRead)
        let id = try context.id()
        let markdown = try await IncidentsController.run { try await incidents.reviewDocument(id: id) }
        return Response(status: .ok, headers: [.contentType: "text/markdown; charset=utf-8", .contentDisposition: "attachment; filename=\"incident-\(id)-review.md\""],
                        body: .init(byteBuffer: ByteBuffer(string: markdown)))
    }

    struct OnCallView {
        struct ScheduleRow { var name: String; var onCall: String; var next: String; var handover: String; var participants: String; var turn: String }
        struct PolicyRow { var name: String; var channels: String; var steps: [String] }
        struct OverrideRow { var id: Int64; var schedule: String; var person: String; var starts: String; var ends: String; var by: String }
        var schedules: [ScheduleRow]
        var policies: [PolicyRow]
        var overrides: [OverrideRow]
        var hasOverrides: Bool
        var scheduleOptions: [Option]
        var canWrite: Bool
        var pages: [String]
        var csrf: String
    }

    @Sendable func onCallPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .incidentsRead)
        let now = incidents.clock.nowMillis()
        let response = OnCallResponse(pack: incidents.pack, overrides: try await incidents.store.overrides(now: now), now: now)
        let pages = try await incidents.store.pages(subject: nil, openOnly: false, limit: 20).map { page in
            "\(Timestamp.formatRFC3339(page.startedAt)) \(page.subject) via \(page.policy): \(page.paged.isEmpty ? "nobody paged" : page.paged.joined(separator: " → "))"
                + (page.acknowledgedAt != nil ? " (acknowledged by \(page.acknowledgedBy?.name ?? "?"))" : page.resolvedAt != nil ? " (resolved)" : " (escalating)")
        }
        let view = OnCallView(
            schedules: response.schedules.map { .init(name: $0.name, onCall: $0.onCall ?? "nobody", next: $0.nextOnCall ?? "nobody", handover: $0.nextHandover,
                                                      participants: $0.participants.joined(separator: ", "), turn: $0.turn) },
            policies: response.policies.map { policy in
                .init(name: policy.name, channels: policy.channels.joined(separator: ", "),
                      steps: policy.steps.map { "after \($0.after): \($0.notify.joined(separator: ", "))" })
            },
            overrides: response.overrides.map { .init(id: $0.id, schedule: $0.schedule, person: $0.person, starts: $0.startsAt, ends: $0.endsAt, by: $0.createdBy) },
            hasOverrides: !response.overrides.isEmpty,
            scheduleOptions: response.schedules.map { .init(value: $0.name, label: $0.name, selected: false) },
            canWrite: Scope.incidentsWrite.isSatisfied(by: user.role.scopes), pages: pages, csrf: context.session?.csrfToken ?? "")
        return render("oncall", title: "On call", path: "/oncall", context, body: view)
    }

    @Sendable func onCallOverride(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .incidentsWrite)
        if let remove = form["remove"].flatMap({ Int64($0) }) {
            _ = try await incidents.store.deleteOverride(id: remove, actor: context.actor, now: incidents.clock.nowMillis())
            ConsolePage.leaveNotice("Override removed.", for: context)
            return ConsolePage.redirect("/oncall")
        }
        let schedule = try form.required("schedule", label: "the schedule", max: 200)
        guard incidents.pack.schedules[schedule] != nil else { throw ConsoleRefusal("\(schedule) is not a schedule") }
        func time(_ name: String) throws -> Int64 {
            let text = try form.required(name, label: name == "starts" ? "the start" : "the end", max: 40)
            guard let value = Timestamp.parseRFC3339(text.count == 16 ? text + ":00Z" : text) else { throw ConsoleRefusal("\(text) is not a time (UTC)") }
            return value
        }
        let starts = try time("starts"), ends = try time("ends")
        guard ends > starts, ends - starts <= 90 * 86_400_000 else { throw ConsoleRefusal("an override ends after it starts, within 90 days") }
        _ = try await incidents.store.addOverride(schedule: schedule, person: try form.required("person", label: "the person", max: 200), startsAt: starts, endsAt: ends,
                                                  actor: context.actor, now: incidents.clock.nowMillis())
        ConsolePage.leaveNotice("Override added.", for: context)
        return ConsolePage.redirect("/oncall")
    }
}
