import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenIncidents
import WardenStore

/// An incident as the API shows it, with its measured times and whether an update is overdue.
struct IncidentResponse: ResponseEncodable {
    struct Roles: Encodable {
        var commander: String?
        var scribe: String?
        var communications: String?
    }
    struct Times: Encodable {
        var toDetectMs: Int64
        var toAcknowledgeMs: Int64?
        var toMitigateMs: Int64?
        var toResolveMs: Int64?
        enum CodingKeys: String, CodingKey {
            case toDetectMs = "to_detect_ms", toAcknowledgeMs = "to_acknowledge_ms", toMitigateMs = "to_mitigate_ms", toResolveMs = "to_resolve_ms"
        }
    }
    struct Entry: Encodable {
        var id: Int64
        var at: String
        var actor: String
        var kind: IncidentTimelineEntry.Kind
        var detail: JSONValue
        var text: String
    }
    struct Link: Encodable {
        var kind: IncidentLinkKind
        var ref: String
        var at: String
        var by: String
    }
    struct Task: Encodable {
        var id: Int64
        var title: String
        var owner: String?
        var dueAt: String?
        var followUp: Bool
        var createdAt: String
        var createdBy: String
        var doneAt: String?
        var doneBy: String?
        var change: String?
        var overdue: Bool
    }

    var id: Int64
    var title: String
    var summary: String
    var severity: String
    var status: IncidentStatus
    var roles: Roles
    var participants: [String]
    var stakeholders: [String]
    var source: IncidentSource
    var sourceRef: String?
    var createdAt: String
    var createdBy: String
    var detectedAt: String
    var acknowledgedAt: String?
    var acknowledgedBy: String?
    var identifiedAt: String?
    var mitigatedAt: String?
    var resolvedAt: String?
    var closedAt: String?
    var lastUpdateAt: String?
    var updateDueAt: String?
    var updateOverdue: Bool
    var times: Times
    var hasReview: Bool
    var timeline: [Entry]?
    var links: [Link]?
    var tasks: [Task]?

    init(_ record: IncidentRecord, now: Int64, timeline: [IncidentTimelineEntry]? = nil, links: [IncidentLinkRecord]? = nil, tasks: [IncidentTask]? = nil) {
        func time(_ millis: Int64?) -> String? { millis.map(Timestamp.formatRFC3339) }
        id = record.id
        title = record.title
        summary = record.summary
        severity = record.severity
        status = record.status
        roles = Roles(commander: record.roles[.commander], scribe: record.roles[.scribe], communications: record.roles[.communications])
        participants = record.participants
        stakeholders = record.stakeholders
        source = record.source
        sourceRef = record.sourceRef
        createdAt = Timestamp.formatRFC3339(record.createdAt)
        createdBy = record.createdBy.description
        detectedAt = Timestamp.formatRFC3339(record.detectedAt)
        acknowledgedAt = time(record.acknowledgedAt)
        acknowledgedBy = record.acknowledgedBy?.description
        identifiedAt = time(record.identifiedAt)
        mitigatedAt = time(record.mitigatedAt)
        resolvedAt = time(record.resolvedAt)
        closedAt = time(record.closedAt)
        lastUpdateAt = time(record.lastUpdateAt)
        updateDueAt = time(record.updateDueAt)
        updateOverdue = record.updateDueAt.map { $0 <= now } ?? false
        let measured = IncidentTimes(record)
        times = Times(toDetectMs: measured.toDetect, toAcknowledgeMs: measured.toAcknowledge, toMitigateMs: measured.toMitigate, toResolveMs: measured.toResolve)
        hasReview = record.review != nil
        self.timeline = timeline?.map {
            Entry(id: $0.id, at: Timestamp.formatRFC3339($0.at), actor: $0.actor.description, kind: $0.kind,
                  detail: JSONValue.parse(Array($0.detail.utf8)) ?? .object([:]), text: PostIncidentReview.describe($0))
        }
        self.links = links?.map { Link(kind: $0.link.kind, ref: $0.link.ref, at: Timestamp.formatRFC3339($0.at), by: $0.by.description) }
        self.tasks = tasks?.map {
            Task(id: $0.id, title: $0.title, owner: $0.owner, dueAt: time($0.dueAt), followUp: $0.followUp, createdAt: Timestamp.formatRFC3339($0.createdAt),
                 createdBy: $0.createdBy.description, doneAt: time($0.doneAt), doneBy: $0.doneBy?.description, change: $0.change,
                 overdue: $0.doneAt == nil && ($0.dueAt.map { $0 <= now } ?? false))
        }
    }
}

struct IncidentList: ResponseEncodable {
    var incidents: [IncidentResponse]
    var nextBefore: Int64?
}

/// Closing an incident: the incident, and what became of its open linked cases.
struct CloseResponse: ResponseEncodable {
    var incident: IncidentResponse
    var movedCases: [Int64]
    var keptCases: [Int64]
}

struct AlertResponse: ResponseEncodable {
    var id: Int64
    var rule: String
    var key: String
    var series: AlertSeries
    var state: AlertState
    var firstFiredAt: String
    var lastFiredAt: String
    var firings: Int
    var value: Double
    var baseline: Double?
    var score: Double?
    var peak: Double
    var summary: String
    var acknowledgedAt: String?
    var acknowledgedBy: String?
    var snoozedUntil: String?
    var resolvedAt: String?
    var resolvedBy: String?
    var incidentId: Int64?

    init(_ alert: AlertRecord) {
        id = alert.id
        rule = alert.rule
        key = alert.key
        series = alert.series
        state = alert.state
        firstFiredAt = Timestamp.formatRFC3339(alert.firstFiredAt)
        lastFiredAt = Timestamp.formatRFC3339(alert.lastFiredAt)
        firings = alert.firings
        value = alert.value
        baseline = alert.baseline
        score = alert.score
        peak = alert.peak
        summary = alert.summary
        acknowledgedAt = alert.acknowledgedAt.map(Timestamp.formatRFC3339)
        acknowledgedBy = alert.acknowledgedBy?.description
        snoozedUntil = alert.snoozedUntil.map(Timestamp.formatRFC3339)
        resolvedAt = alert.resolvedAt.map(Timestamp.formatRFC3339)
        resolvedBy = alert.resolvedBy?.description
        incidentId = alert.incidentID
    }
}

struct AlertList: ResponseEncodable {
    var alerts: [AlertResponse]
}

struct AlertRuleResponse: ResponseEncodable {
    struct Anomaly: Encodable {
        var season: String
        var seasons: Int
        var sensitivity: Double
        var minCount: Double
    }
    var name: String
    var description: String
    var series: AlertSeries
    var keys: [String]
    var window: String
    var above: Double?
    var anomaly: Anomaly?
    var resolveAfter: String
    var incident: String?
    var page: String?

    init(_ rule: AlertRule) {
        name = rule.name
        description = rule.description
        series = rule.series
        keys = rule.keys
        window = DurationText.format(rule.windowMinutes * 60_000)
        above = rule.above
        anomaly = rule.anomaly.map { Anomaly(season: DurationText.format($0.seasonMinutes * 60_000), seasons: $0.seasons, sensitivity: $0.sensitivity, minCount: $0.minCount) }
        resolveAfter = DurationText.format(rule.resolveAfterMinutes * 60_000)
        incident = rule.incidentSeverity
        page = rule.page
    }
}

struct AlertRuleList: ResponseEncodable {
    var rules: [AlertRuleResponse]
}

struct BacktestResponse: ResponseEncodable {
    var rule: String
    var from: String
    var through: String
    var minutes: Int
    var alerts: [AlertResponse]
}

struct PageResponse: ResponseEncodable {
    var id: Int64
    var subject: String
    var policy: String
    var summary: String
    var severity: String
    var startedAt: String
    var nextStep: Int
    var nextAt: String?
    var paged: [String]
    var acknowledgedAt: String?
    var acknowledgedBy: String?
    var resolvedAt: String?

    init(_ page: PageRecord) {
        id = page.id
        subject = page.subject
        policy = page.policy
        summary = page.summary
        severity = page.severity
        startedAt = Timestamp.formatRFC3339(page.startedAt)
        nextStep = page.nextStep
        nextAt = page.nextAt.map(Timestamp.formatRFC3339)
        paged = page.paged
        acknowledgedAt = page.acknowledgedAt.map(Timestamp.formatRFC3339)
        acknowledgedBy = page.acknowledgedBy?.description
        resolvedAt = page.resolvedAt.map(Timestamp.formatRFC3339)
    }
}

struct PageList: ResponseEncodable {
    var pages: [PageResponse]
}

/// Who is on call now on each schedule, the escalation policies and the overrides to come.
struct OnCallResponse: ResponseEncodable {
    struct Schedule: Encodable {
        var name: String
        var participants: [String]
        var turn: String
        var onCall: String?
        var nextHandover: String
        var nextOnCall: String?
    }
    struct Policy: Encodable {
        struct Step: Encodable {
            var after: String
            var notify: [String]
        }
        var name: String
        var channels: [String]
        var steps: [Step]
    }
    struct Override: Encodable {
        var id: Int64
        var schedule: String
        var person: String
        var startsAt: String
        var endsAt: String
        var createdBy: String
    }
    var schedules: [Schedule]
    var policies: [Policy]
    var overrides: [Override]

    init(pack: IncidentPack, overrides: [OnCallOverride], now: Int64) {
        schedules = pack.schedules.values.sorted { $0.name < $1.name }.map { schedule in
            let handover = schedule.nextHandover(after: now)
            return Schedule(name: schedule.name, participants: schedule.participants, turn: DurationText.format(schedule.turnMillis),
                            onCall: schedule.onCall(at: now, overrides: overrides), nextHandover: Timestamp.formatRFC3339(handover),
                            nextOnCall: schedule.onCall(at: handover, overrides: overrides))
        }
        policies = pack.policies.values.sorted { $0.name < $1.name }.map { policy in
            Policy(name: policy.name, channels: policy.channels, steps: policy.steps.map { step in
                Policy.Step(after: step.after == 0 ? "0m" : DurationText.format(step.after), notify: step.targets.map {
                    switch $0 {
                    case .schedule(let name): "schedule:\(name)"
                    case .person(let name): name
                    }
                })
            })
        }
        self.overrides = overrides.map {
            Override(id: $0.id, schedule: $0.schedule, person: $0.person, startsAt: Timestamp.formatRFC3339($0.startsAt), endsAt: Timestamp.formatRFC3339($0.endsAt),
                     createdBy: $0.createdBy.description)
        }
    }
}

struct OverrideResponse: ResponseEncodable {
    var id: Int64
    var schedule: String
    var person: String
    var startsAt: String
    var endsAt: String
    var createdBy: String

    init(_ override: OnCallOverride) {
        id = override.id
        schedule = override.schedule
        person = override.person
        startsAt = Timestamp.formatRFC3339(override.startsAt)
        endsAt = Timestamp.formatRFC3339(override.endsAt)
        createdBy = override.createdBy.description
    }
}

struct MeasuresResponse: ResponseEncodable {
    struct Severity: Encodable {
        var severity: String
        var incidents: Int
        var mttaMs: Int64?
        var mttrMs: Int64?
        enum CodingKeys: String, CodingKey { case severity, incidents, mttaMs = "mtta_ms", mttrMs = "mttr_ms" }
    }
    struct Rule: Encodable {
        var rule: String
        var alerts: Int
        var withIncident: Int
        var precision: Double?
    }
    struct Person: Encodable {
        var person: String
        var pages: Int
        var perWeek: Double
    }
    var days: Double
    var severities: [Severity]
    var alerts: Int
    var alertsWithIncident: Int
    var alertPrecision: Double?
    var rules: [Rule]
    var pagesPerPerson: [Person]

    init(_ measures: IncidentMeasures) {
        days = (measures.days * 10).rounded() / 10
        severities = measures.severities.map { Severity(severity: $0.severity, incidents: $0.incidents, mttaMs: $0.mtta, mttrMs: $0.mttr) }
        alerts = measures.alerts
        alertsWithIncident = measures.alertsWithIncident
        alertPrecision = measures.alerts == 0 ? nil : Double(measures.alertsWithIncident) / Double(measures.alerts)
        rules = measures.rules.map { Rule(rule: $0.rule, alerts: $0.alerts, withIncident: $0.withIncident, precision: $0.precision) }
        pagesPerPerson = measures.people.map { Person(person: $0.person, pages: $0.pages, perWeek: $0.perWeek) }
    }
}

/// The pack's automations and their recent runs.
struct AutomationList: ResponseEncodable {
    struct Rule: Encodable {
        var name: String
        var description: String
        var on: String
        var when: [String: [String]]
        var actions: [String]
        var maxRunsPerHour: Int
    }
    struct Run: Encodable {
        var id: Int64
        var automation: String
        var triggerSeq: Int64
        var target: String
        var at: String
        var outcome: String
        var detail: JSONValue
    }
    var automations: [Rule]
    var runs: [Run]

    init(_ automations: [Automation], runs: [AutomationRun]) {
        self.automations = automations.map { automation in
            Rule(name: automation.name, description: automation.description, on: automation.trigger.rawValue, when: automation.conditions,
                 actions: automation.actions.map(\.name), maxRunsPerHour: automation.maxRunsPerHour)
        }
        self.runs = runs.map {
            Run(id: $0.id, automation: $0.automation, triggerSeq: $0.triggerSeq, target: $0.target, at: Timestamp.formatRFC3339($0.at), outcome: $0.outcome,
                detail: JSONValue.parse(Array($0.detail.utf8)) ?? .object([:]))
        }
    }
}

/// What an automation would have done.
struct DryRunResponse: ResponseEncodable {
    struct Hit: Encodable {
        var at: String
        var target: String
        var actions: [String]
    }
    var automation: String
    var days: Int
    var hits: [Hit]
}
