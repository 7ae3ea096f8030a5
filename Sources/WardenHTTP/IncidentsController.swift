import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenIncidents
import WardenReview

// The request bodies of incident operations. Each names its members (others are refused) and checks
// what its types cannot; the OpenAPI document states the same bounds.

struct LinkBody: RequestBody {
    var kind: IncidentLinkKind
    var ref: String
    enum CodingKeys: String, CodingKey, CaseIterable { case kind, ref }

    func validate() throws(Problem) {
        try Bounds.text(ref, "ref", max: 300, nonBlank: true)
    }

    var link: IncidentLink { IncidentLink(kind, ref) }
}

struct OpenIncidentBody: RequestBody {
    var title: String
    var summary: String?
    var severity: String
    var commander: String?
    var stakeholders: [String]?
    var links: [LinkBody]?
    enum CodingKeys: String, CodingKey, CaseIterable { case title, summary, severity, commander, stakeholders, links }
    static var nestedMembers: [String: [String]] { ["links": LinkBody.CodingKeys.allCases.map(\.stringValue)] }

    func validate() throws(Problem) {
        try Bounds.incidentTitle(title)
        try Bounds.text(summary, "summary", max: 10_000)
        try Bounds.text(severity, "severity", max: 200, nonBlank: true)
        try Bounds.text(commander, "commander", max: 200, nonBlank: true)
        try Bounds.texts(stakeholders, "stakeholders", max: 200, maxItems: 20)
        if (links?.count ?? 0) > 50 { throw RequestInput.invalid("links", "has \(links?.count ?? 0) items; the limit is 50") }
        for (index, link) in (links ?? []).enumerated() { try Bounds.text(link.ref, "links[\(index)].ref", max: 300, nonBlank: true) }
    }
}

struct StatusBody: RequestBody {
    enum OpenCases: String, Codable, CaseIterable { case keep, move }
    var status: IncidentStatus
    var note: String?
    var openCases: OpenCases?
    var queue: String?
    var reason: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case status, note, openCases = "open_cases", queue, reason }

    func validate() throws(Problem) {
        try Bounds.text(note, "note", max: 10_000)
        try Bounds.text(queue, "queue", max: 200, nonBlank: true)
        try Bounds.text(reason, "reason", max: 10_000, nonBlank: true)
        if openCases == .move, queue == nil || reason == nil {
            throw RequestInput.invalid("open_cases", "move needs the queue to send the waiting cases to, and the reason")
        }
    }
}

struct SeverityBody: RequestBody {
    var severity: String
    var reason: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case severity, reason }
    func validate() throws(Problem) {
        try Bounds.text(severity, "severity", max: 200, nonBlank: true)
        try Bounds.text(reason, "reason", max: 10_000)
    }
}

struct RoleBody: RequestBody {
    var role: IncidentRole
    var person: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case role, person }
    func validate() throws(Problem) { try Bounds.text(person, "person", max: 200, nonBlank: true) }
}

struct MembershipBody: RequestBody {
    enum Change: String, Codable, CaseIterable { case add, remove }
    var name: String
    var change: Change
    enum CodingKeys: String, CodingKey, CaseIterable { case name, change }
    func validate() throws(Problem) { try Bounds.text(name, "name", max: 200, nonBlank: true) }
}

struct EditBody: RequestBody {
    var title: String?
    var summary: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case title, summary }
    func validate() throws(Problem) {
        try Bounds.incidentTitle(title)
        try Bounds.text(summary, "summary", max: 10_000)
        if title == nil, summary == nil { throw RequestInput.invalid(nil, "give a title or a summary to change") }
    }
}

struct TaskBody: RequestBody {
    var title: String
    var owner: String?
    var dueAt: String?
    var followUp: Bool?
    enum CodingKeys: String, CodingKey, CaseIterable { case title, owner, dueAt = "due_at", followUp = "follow_up" }
    func validate() throws(Problem) {
        try Bounds.text(title, "title", max: 10_000, nonBlank: true)
        try Bounds.text(owner, "owner", max: 200, nonBlank: true)
        if let dueAt, Timestamp.parseRFC3339(dueAt) == nil { throw RequestInput.invalid("due_at", "must be an RFC 3339 time such as 2026-12-01T09:00:00Z") }
    }
}

struct ChangeRefBody: RequestBody {
    var change: String
    enum CodingKeys: String, CodingKey, CaseIterable { case change }
    func validate() throws(Problem) { try Bounds.text(change, "change", max: 200, nonBlank: true) }
}

struct ReviewBody: RequestBody {
    var markdown: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case markdown }
    func validate() throws(Problem) { try Bounds.text(markdown, "markdown", max: 100_000, nonBlank: true) }
}

struct CaseIncidentBody: RequestBody {
    var incidentId: Int64?
    var severity: String?
    var title: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case incidentId = "incident_id", severity, title }
    func validate() throws(Problem) {
        if let incidentId, incidentId < 1 { throw RequestInput.invalid("incident_id", "must be a positive integer") }
        try Bounds.text(severity, "severity", max: 200, nonBlank: true)
        try Bounds.incidentTitle(title)
        if (incidentId == nil) == (severity == nil) {
            throw RequestInput.invalid(nil, "give incident_id to link the case to an open incident, or severity (and a title) to open one")
        }
    }
}

struct SnoozeBody: RequestBody {
    var minutes: Int64
    enum CodingKeys: String, CodingKey, CaseIterable { case minutes }
    func validate() throws(Problem) {
        if !(1...10_080).contains(minutes) { throw RequestInput.invalid("minutes", "must be 1 to 10080 (7 days)") }
    }
}

struct AlertIncidentBody: RequestBody {
    var severity: String
    var title: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case severity, title }
    func validate() throws(Problem) {
        try Bounds.text(severity, "severity", max: 200, nonBlank: true)
        try Bounds.incidentTitle(title)
    }
}

struct BacktestBody: RequestBody {
    var days: Int64?
    enum CodingKeys: String, CodingKey, CaseIterable { case days }
    func validate() throws(Problem) {
        if let days, !(1...90).contains(days) { throw RequestInput.invalid("days", "must be 1 to 90") }
    }
}

struct OverrideBody: RequestBody {
    var schedule: String
    var person: String
    var startsAt: String
    var endsAt: String
    enum CodingKeys: String, CodingKey, CaseIterable { case schedule, person, startsAt = "starts_at", endsAt = "ends_at" }
    func validate() throws(Problem) {
        try Bounds.text(schedule, "schedule", max: 200, nonBlank: true)
        try Bounds.text(person, "person", max: 200, nonBlank: true)
        guard let starts = Timestamp.parseRFC3339(startsAt) else { throw RequestInput.invalid("starts_at", "must be an RFC 3339 time") }
        guard let ends = Timestamp.parseRFC3339(endsAt) else { throw RequestInput.invalid("ends_at", "must be an RFC 3339 time") }
        if ends <= starts { throw RequestInput.invalid("ends_at", "must be after starts_at") }
        if ends - starts > 90 * 86_400_000 { throw RequestInput.invalid("ends_at", "an override lasts at most 90 days") }
    }
}

/// Incidents, alerts, pages and on-call over HTTP. Each handler parses the request, calls one
/// ``IncidentService`` method and returns its typed answer; refusals become problem documents.
struct IncidentsController {
    let incidents: IncidentService
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/incidents", scope: .incidentsRead, list)
        routes.add(.post, "/v1/incidents", scope: .incidentsWrite, status: .created, open)
        routes.add(.get, "/v1/incidents/metrics", scope: .incidentsRead) { request, _ in
            let days = try input(request).integer("days", default: 30, range: 1...365)
            return MeasuresResponse(try await incidents.measures(days: Int(days)))
        }
        routes.add(.get, "/v1/incidents/{id}", scope: .incidentsRead, show)
        routes.add(.post, "/v1/incidents/{id}/status", scope: .incidentsWrite, status)
        routes.add(.post, "/v1/incidents/{id}/severity", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(SeverityBody.self)
            return try await change(context, .severity(body.severity, reason: body.reason))
        }
        routes.add(.post, "/v1/incidents/{id}/roles", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(RoleBody.self)
            return try await change(context, .role(body.role, person: body.person))
        }
        routes.add(.post, "/v1/incidents/{id}/participants", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(MembershipBody.self)
            return try await change(context, body.change == .add ? .addParticipant(body.name) : .removeParticipant(body.name))
        }
        routes.add(.post, "/v1/incidents/{id}/stakeholders", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(MembershipBody.self)
            return try await change(context, body.change == .add ? .addStakeholder(body.name) : .removeStakeholder(body.name))
        }
        routes.add(.post, "/v1/incidents/{id}/edit", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(EditBody.self)
            return try await change(context, .edit(title: body.title, summary: body.summary))
        }
        routes.add(.post, "/v1/incidents/{id}/links", scope: .incidentsWrite) { request, context in
            try await change(context, .link(try await input(request).body(LinkBody.self).link))
        }
        routes.add(.post, "/v1/incidents/{id}/unlink", scope: .incidentsWrite) { request, context in
            try await change(context, .unlink(try await input(request).body(LinkBody.self).link))
        }
        routes.add(.post, "/v1/incidents/{id}/notes", scope: .incidentsWrite) { request, context in
            try await change(context, .note(try await input(request).body(CommentBody.self).text))
        }
        routes.add(.post, "/v1/incidents/{id}/updates", scope: .incidentsWrite) { request, context in
            try await change(context, .update(try await input(request).body(CommentBody.self).text))
        }
        routes.add(.post, "/v1/incidents/{id}/acknowledge", scope: .incidentsWrite) { _, context in
            try await change(context, .acknowledge)
        }
        routes.add(.post, "/v1/incidents/{id}/tasks", scope: .incidentsWrite, status: .created) { request, context in
            let body = try await input(request).body(TaskBody.self)
            return try await change(context, .addTask(title: body.title, owner: body.owner, dueAt: body.dueAt.flatMap(Timestamp.parseRFC3339),
                                                      followUp: body.followUp ?? false))
        }
        routes.add(.post, "/v1/incidents/{id}/tasks/{task}/done", scope: .incidentsWrite) { _, context in
            try await change(context, .completeTask(try context.id("task")))
        }
        routes.add(.post, "/v1/incidents/{id}/tasks/{task}/change", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(ChangeRefBody.self)
            return try await change(context, .taskChange(try context.id("task"), change: body.change))
        }
        routes.add(.get, "/v1/incidents/{id}/review", scope: .incidentsRead, reviewDocument)
        routes.add(.post, "/v1/incidents/{id}/review", scope: .incidentsWrite) { request, context in
            let id = try context.id()
            let body = try await input(request).body(ReviewBody.self, allowEmpty: true)
            let markdown = try await Self.run { try await incidents.reviewDocument(id: id, regenerate: true) }
            return try await change(context, .review(body?.markdown ?? markdown))
        }
        routes.add(.post, "/v1/cases/{id}/incident", scope: .casesReview, status: .created) { request, context in
            let id = try context.id()
            let body = try await input(request).body(CaseIncidentBody.self)
            let record = try await ReviewController.run { try await incidents.review.caseRecord(id: id) }
            try ReviewController.requireQueue(record.queue, context)
            let incident = try await Self.run {
                try await incidents.escalate(caseID: id, to: body.incidentId, severity: body.severity, title: body.title, actor: context.actor)
            }
            return IncidentResponse(incident, now: incidents.clock.nowMillis())
        }
        routes.add(.get, "/v1/alerts", scope: .incidentsRead) { request, _ in
            let query = input(request)
            let limit = try query.integer("limit", default: 100, range: 1...1000)
            let open = try query.bool("open") ?? false
            let rule = try query.string("rule")
            return AlertList(alerts: try await incidents.store.alerts(openOnly: open, rule: rule, limit: Int(limit)).map(AlertResponse.init))
        }
        routes.add(.get, "/v1/alerts/{id}", scope: .incidentsRead) { _, context in
            let id = try context.id()
            guard let alert = try await incidents.store.alert(id: id) else { throw Problem.notFound("there is no alert \(id)") }
            return AlertResponse(alert)
        }
        routes.add(.post, "/v1/alerts/{id}/acknowledge", scope: .incidentsWrite) { _, context in
            try await command(context, .acknowledge)
        }
        routes.add(.post, "/v1/alerts/{id}/resolve", scope: .incidentsWrite) { _, context in
            try await command(context, .resolve)
        }
        routes.add(.post, "/v1/alerts/{id}/snooze", scope: .incidentsWrite) { request, context in
            let body = try await input(request).body(SnoozeBody.self)
            return try await command(context, .snooze(until: incidents.clock.nowMillis() + body.minutes * 60_000))
        }
        routes.add(.post, "/v1/alerts/{id}/incident", scope: .incidentsWrite, status: .created) { request, context in
            let id = try context.id()
            let body = try await input(request).body(AlertIncidentBody.self)
            let incident = try await Self.run { try await incidents.incident(fromAlert: id, severity: body.severity, title: body.title, actor: context.actor) }
            return IncidentResponse(incident, now: incidents.clock.nowMillis())
        }
        routes.add(.get, "/v1/alert-rules", scope: .incidentsRead) { _, _ in
            AlertRuleList(rules: incidents.pack.alerts.map(AlertRuleResponse.init))
        }
        routes.add(.post, "/v1/alert-rules/{name}/backtest", scope: .incidentsRead) { request, context in
            let name = context.path("name")
            guard let rule = incidents.pack.alerts.first(where: { $0.name == name }) else {
                throw Problem.notFound("the pack has no alert rule \(name); it has \(incidents.pack.alerts.map(\.name).joined(separator: ", "))")
            }
            let body = try await input(request).body(BacktestBody.self, allowEmpty: true)
            let result = try await incidents.backtest(rule: rule, days: Int(body?.days ?? 7))
            return BacktestResponse(rule: rule.name, from: Timestamp.formatRFC3339(result.from * 60_000), through: Timestamp.formatRFC3339(result.through * 60_000),
                                    minutes: result.minutes, alerts: result.alerts.map(AlertResponse.init))
        }
        routes.add(.get, "/v1/automations", scope: .incidentsRead) { request, _ in
            let limit = try input(request).integer("limit", default: 50, range: 1...1000)
            return AutomationList(incidents.pack.automations, runs: try await incidents.store.automationRuns(automation: nil, limit: Int(limit)))
        }
        routes.add(.post, "/v1/automations/{name}/dry-run", scope: .incidentsRead) { request, context in
            let name = context.path("name")
            guard let automation = incidents.pack.automations.first(where: { $0.name == name }) else {
                throw Problem.notFound("the pack has no automation \(name); it has \(incidents.pack.automations.map(\.name).joined(separator: ", "))")
            }
            let days = Int(try await input(request).body(BacktestBody.self, allowEmpty: true)?.days ?? 7)
            let hits = try await AutomationRunner.dryRun(automation, days: days, now: incidents.clock.nowMillis(), cases: incidents.review.store,
                                                         incidents: incidents.store)
            return DryRunResponse(automation: name, days: days, hits: hits.map { .init(at: Timestamp.formatRFC3339($0.at), target: $0.target, actions: $0.actions) })
        }
        routes.add(.get, "/v1/pages", scope: .incidentsRead) { request, _ in
            let query = input(request)
            let limit = try query.integer("limit", default: 100, range: 1...1000)
            let open = try query.bool("open") ?? false
            return PageList(pages: try await incidents.store.pages(subject: try query.string("subject"), openOnly: open, limit: Int(limit)).map(PageResponse.init))
        }
        routes.add(.get, "/v1/oncall", scope: .incidentsRead) { _, _ in
            let now = incidents.clock.nowMillis()
            return OnCallResponse(pack: incidents.pack, overrides: try await incidents.store.overrides(now: now), now: now)
        }
        routes.add(.post, "/v1/oncall/overrides", scope: .incidentsWrite, status: .created) { request, context in
            let body = try await input(request).body(OverrideBody.self)
            guard incidents.pack.schedules[body.schedule] != nil else {
                throw RequestInput.invalid("schedule", "\"\(body.schedule)\" is not a schedule of oncall.yaml (\(incidents.pack.schedules.keys.sorted().joined(separator: ", ")))")
            }
            return OverrideResponse(try await incidents.store.addOverride(
                schedule: body.schedule, person: body.person, startsAt: Timestamp.parseRFC3339(body.startsAt)!, endsAt: Timestamp.parseRFC3339(body.endsAt)!,
                actor: context.actor, now: incidents.clock.nowMillis()))
        }
        routes.add(.delete, "/v1/oncall/overrides/{id}", scope: .incidentsWrite) { _, context in
            let id = try context.id()
            guard try await incidents.store.deleteOverride(id: id, actor: context.actor, now: incidents.clock.nowMillis()) else {
                throw Problem.notFound("there is no override \(id)")
            }
            return Response(status: .noContent)
        }
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    /// Runs an incident operation, turning its refusals into problem documents.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await ReviewController.run(body)
        } catch let error as IncidentError {
            switch error.kind {
            case .notFound: throw Problem.notFound(error.message)
            case .conflict: throw Problem(.conflict, "incident-conflict", title: "Conflict", detail: error.message)
            case .invalid: throw Problem(.unprocessableContent, "invalid-incident", title: "Not allowed by the policy pack", detail: error.message)
            }
        }
    }

    func change(_ context: WardenRequestContext, _ change: IncidentChange) async throws -> IncidentResponse {
        let id = try context.id()
        let record = try await Self.run { try await incidents.change(id: id, change, actor: context.actor) }
        return try await details(record)
    }

    func details(_ record: IncidentRecord) async throws -> IncidentResponse {
        let (record, timeline, links, tasks) = try await Self.run { try await incidents.details(id: record.id) }
        return IncidentResponse(record, now: incidents.clock.nowMillis(), timeline: timeline, links: links, tasks: tasks)
    }

    func command(_ context: WardenRequestContext, _ command: AlertCommand) async throws -> AlertResponse {
        let id = try context.id()
        return AlertResponse(try await Self.run { try await incidents.command(alertID: id, command, actor: context.actor) })
    }

    // MARK: Handlers

    @Sendable func list(_ request: Request, _ context: WardenRequestContext) async throws -> IncidentList {
        let query = input(request)
        let limit = try query.integer("limit", default: 50, range: 1...500)
        let before = try query.integer("before", range: 1...Int64.max)
        let status = try query.choice("status", IncidentStatus.self)
        let open = try query.bool("open") ?? false
        let list = try await incidents.store.incidents(status: status, openOnly: open, before: before, limit: Int(limit))
        let now = incidents.clock.nowMillis()
        return IncidentList(incidents: list.map { IncidentResponse($0, now: now) }, nextBefore: list.count == Int(limit) ? list.last?.id : nil)
    }

    @Sendable func open(_ request: Request, _ context: WardenRequestContext) async throws -> IncidentResponse {
        let body = try await input(request).body(OpenIncidentBody.self)
        let draft = IncidentDraft(title: body.title, summary: body.summary ?? "", severity: body.severity, commander: body.commander,
                                  stakeholders: body.stakeholders ?? [], links: (body.links ?? []).map(\.link))
        let record = try await Self.run { try await incidents.open(draft, actor: context.actor) }
        return try await details(record)
    }

    @Sendable func show(_ request: Request, _ context: WardenRequestContext) async throws -> IncidentResponse {
        let id = try context.id()
        guard let record = try await incidents.store.incident(id: id) else { throw Problem.notFound("there is no incident \(id)") }
        return try await details(record)
    }

    @Sendable func status(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await input(request).body(StatusBody.self)
        if body.status == .closed {
            let openCases: IncidentService.OpenCases? = switch body.openCases {
            case .keep: .keep
            case .move: .move(queue: body.queue ?? "", reason: body.reason ?? "")
            case nil: nil
            }
            let closed = try await Self.run { try await incidents.close(id: id, note: body.note, openCases: openCases, actor: context.actor) }
            let response = CloseResponse(incident: try await details(closed.incident), movedCases: closed.moved, keptCases: closed.kept)
            return try response.response(from: request, context: context)
        }
        return try await change(context, .status(body.status, note: body.note)).response(from: request, context: context)
    }

    @Sendable func reviewDocument(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try context.id()
        let regenerate = try input(request).bool("regenerate") ?? false
        let markdown = try await Self.run { try await incidents.reviewDocument(id: id, regenerate: regenerate) }
        return Response(status: .ok, headers: [.contentType: "text/markdown; charset=utf-8",
                                               .contentDisposition: "inline; filename=\"incident-\(id)-review.md\""],
                        body: .init(byteBuffer: ByteBuffer(string: markdown)))
    }
}

extension Bounds {
    /// An incident's title: 1 to 200 characters, not blank, no NUL (the contract's pattern).
    static func incidentTitle(_ value: String?) throws(Problem) {
        try text(value, "title", max: 200, nonBlank: true)
        if let value, value.unicodeScalars.contains("\u{0}") { throw RequestInput.invalid("title", "must not contain NUL characters") }
    }
}
