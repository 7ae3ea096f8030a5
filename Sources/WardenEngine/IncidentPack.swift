import Foundation
public import WardenCore
public import WardenIncidents
import Yams

/// The incident half of a policy pack: `incidents.yaml` (severities, stakeholder groups, where
/// updates go), `alerts.yaml` (alert rules) and `oncall.yaml` (notification channels, schedules,
/// escalation policies). All optional: a pack without them has the standard SEV0–SEV3 severities
/// and five stakeholder groups, no alerts and nobody on call. Every problem is reported with its
/// file and field path.
public struct IncidentPack: Sendable {
    public var settings: IncidentSettings
    public var alerts: [AlertRule]
    public var schedules: [String: OnCallSchedule]
    public var policies: [String: EscalationPolicy]
    public var channels: [String: NotificationChannel]
    /// Where each channel's deliveries go (URL, secret, retry settings).
    public var deliveries: [String: WebhookSettings]
    /// Automations (`automations.yaml`).
    public var automations: [Automation] = []

    public static let minimal = IncidentPack(settings: .standard, alerts: [], schedules: [:], policies: [:], channels: [:], deliveries: [:])

    /// The pager over the pack's on-call configuration with `overrides`.
    public func pager(overrides: [OnCallOverride]) -> Pager {
        Pager(policies: policies, schedules: schedules, channels: channels, overrides: overrides)
    }

    // MARK: Files

    private struct IncidentsFile: Decodable {
        struct Severity: Decodable {
            var id: String
            var name: String
            var description: String?
            var acknowledgeWithin: String
            var updateEvery: String
            var mitigateWithin: String
            var pagerSeverity: String?
            var page: String?
            enum CodingKeys: String, CodingKey {
                case id, name, description, page
                case acknowledgeWithin = "acknowledge_within", updateEvery = "update_every", mitigateWithin = "mitigate_within", pagerSeverity = "pager_severity"
            }
        }
        struct Stakeholder: Decodable {
            var id: String
            var name: String
            var contacts: [String]?
        }
        var severities: [Severity]?
        var stakeholders: [Stakeholder]?
        var updatesTo: [String]?
        enum CodingKeys: String, CodingKey { case severities, stakeholders, updatesTo = "updates_to" }
    }

    private struct AlertsFile: Decodable {
        struct Rule: Decodable {
            struct Anomaly: Decodable {
                var season: String?
                var seasons: Int?
                var sensitivity: Double?
                var minCount: Double?
                enum CodingKeys: String, CodingKey { case season, seasons, sensitivity, minCount = "min_count" }
            }
            var name: String
            var description: String?
            var series: String
            var keys: [String]?
            var window: String
            var above: Double?
            var anomaly: Anomaly?
            var resolveAfter: String?
            var incident: String?
            var page: String?
            enum CodingKeys: String, CodingKey {
                case name, description, series, keys, window, above, anomaly, incident, page, resolveAfter = "resolve_after"
            }
        }
        var alerts: [Rule]
    }

    private struct OnCallFile: Decodable {
        struct Channel: Decodable {
            var name: String
            var kind: String
            var url: String?
            var secretEnv: String?
            var routingKeyEnv: String?
            var maxAttempts: Int?
            enum CodingKeys: String, CodingKey {
                case name, kind, url, secretEnv = "secret_env", routingKeyEnv = "routing_key_env", maxAttempts = "max_attempts"
            }
        }
        struct Schedule: Decodable {
            var name: String
            var participants: [String]
            var turn: String
            var handover: String
        }
        struct Policy: Decodable {
            struct Step: Decodable {
                var after: String?
                var notify: [String]
            }
            var name: String
            var channels: [String]
            var steps: [Step]
        }
        var channels: [Channel]?
        var schedules: [Schedule]?
        var escalationPolicies: [Policy]?
        enum CodingKeys: String, CodingKey { case channels, schedules, escalationPolicies = "escalation_policies" }
    }

    private struct AutomationsFile: Decodable {
        enum Patterns: Decodable {
            case one(String)
            case many([String])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) { self = .one(text) } else { self = .many(try container.decode([String].self)) }
            }
            var list: [String] { switch self { case .one(let text): [text]; case .many(let list): list } }
        }
        struct Step: Decodable {
            struct Move: Decodable { var queue: String; var reason: String? }
            struct Open: Decodable { var severity: String; var title: String? }
            struct Hook: Decodable { var channel: String; var text: String }
            var assign: String?
            var move: Move?
            var tag: String?
            var macro: String?
            var openIncident: Open?
            var linkIncident: Bool?
            var webhook: Hook?
            enum CodingKeys: String, CodingKey { case assign, move, tag, macro, openIncident = "open_incident", linkIncident = "link_incident", webhook }
        }
        struct Rule: Decodable {
            var name: String
            var description: String?
            var on: String
            var when: [String: Patterns]?
            var `do`: [Step]
            var maxRunsPerHour: Int?
            enum CodingKeys: String, CodingKey { case name, description, on, when, `do`, maxRunsPerHour = "max_runs_per_hour" }
        }
        var automations: [Rule]
    }

    // MARK: Loading

    static func load(directory: String, queues: Set<String>, macros: Set<String> = [], problems: inout [PolicyPackError.Problem]) -> IncidentPack {
        var pack = IncidentPack.minimal
        let environment = ProcessInfo.processInfo.environment
        func problem(_ file: String, _ path: String, _ message: String) { problems.append(.init(file: file, path: path, message: message)) }
        func duration(_ file: String, _ path: String, _ text: String) -> Int64? {
            guard let millis = DurationText.millis(text), millis >= 0 else {
                problem(file, path, "\"\(text)\" is not a duration such as 30s, 10m, 4h or 7d")
                return nil
            }
            return millis
        }

        // oncall.yaml first: the other files name its policies and channels.
        if let file: OnCallFile = ReviewPack.read("oncall.yaml", directory: directory, problems: &problems) {
            for (index, channel) in (file.channels ?? []).enumerated() {
                let path = "channels[\(index)]"
                guard pack.channels[channel.name] == nil, !channel.name.isEmpty else {
                    problem("oncall.yaml", "\(path).name", channel.name.isEmpty ? "a channel needs a name" : "channel \"\(channel.name)\" is defined twice")
                    continue
                }
                guard let kind = NotificationChannel.Kind(rawValue: channel.kind) else {
                    problem("oncall.yaml", "\(path).kind", "\"\(channel.kind)\" is not a channel kind; use webhook, chat or pagerduty")
                    continue
                }
                let url = channel.url.map { ClassifierRegistry.expand($0, environment) }.flatMap { $0.isEmpty ? nil : $0 }
                if let url, URL(string: url)?.scheme.map({ $0 == "http" || $0 == "https" }) != true {
                    problem("oncall.yaml", "\(path).url", "\"\(url)\" is not an http or https URL")
                }
                let secret = channel.secretEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
                if kind == .webhook, channel.secretEnv == nil {
                    problem("oncall.yaml", "\(path).secret_env", "a webhook channel is signed: name the environment variable holding its secret")
                }
                if kind == .pagerduty, channel.routingKeyEnv == nil {
                    problem("oncall.yaml", "\(path).routing_key_env", "a pagerduty channel needs the environment variable holding its integration (routing) key")
                }
                let routingKey = channel.routingKeyEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
                pack.channels[channel.name] = NotificationChannel(name: channel.name, kind: kind, routingKey: routingKey)
                var settings = WebhookSettings(url: kind == .pagerduty && routingKey == nil ? nil : url, secret: secret)
                settings.requiresSecret = kind == .webhook
                if let attempts = channel.maxAttempts { settings.maxAttempts = max(1, attempts) }
                pack.deliveries[channel.name] = settings
            }
            for (index, schedule) in (file.schedules ?? []).enumerated() {
                let path = "schedules[\(index)]"
                if pack.schedules[schedule.name] != nil || schedule.name.isEmpty {
                    problem("oncall.yaml", "\(path).name", schedule.name.isEmpty ? "a schedule needs a name" : "schedule \"\(schedule.name)\" is defined twice")
                }
                if schedule.participants.isEmpty { problem("oncall.yaml", "\(path).participants", "a schedule needs at least one participant") }
                let turn = duration("oncall.yaml", "\(path).turn", schedule.turn)
                if let turn, turn < 3_600_000 { problem("oncall.yaml", "\(path).turn", "a turn lasts at least 1h") }
                let handover = Timestamp.parseRFC3339(schedule.handover)
                if handover == nil { problem("oncall.yaml", "\(path).handover", "\"\(schedule.handover)\" is not an RFC 3339 time such as 2026-01-05T09:00:00Z") }
                pack.schedules[schedule.name] = OnCallSchedule(name: schedule.name, participants: schedule.participants, turnMillis: turn ?? 86_400_000,
                                                               handoverAt: handover ?? 0)
            }
            for (index, policy) in (file.escalationPolicies ?? []).enumerated() {
                let path = "escalation_policies[\(index)]"
                if pack.policies[policy.name] != nil || policy.name.isEmpty {
                    problem("oncall.yaml", "\(path).name", policy.name.isEmpty ? "a policy needs a name" : "escalation policy \"\(policy.name)\" is defined twice")
                }
                for channel in policy.channels where pack.channels[channel] == nil {
                    problem("oncall.yaml", "\(path).channels", "channel \"\(channel)\" is not defined under channels:")
                }
                if policy.steps.isEmpty { problem("oncall.yaml", "\(path).steps", "a policy needs at least one step") }
                var steps: [EscalationPolicy.Step] = []
                for (position, step) in policy.steps.enumerated() {
                    let after = step.after.flatMap { duration("oncall.yaml", "\(path).steps[\(position)].after", $0) } ?? 0
                    var targets: [EscalationPolicy.Target] = []
                    for target in step.notify {
                        if target.hasPrefix("schedule:") {
                            let name = String(target.dropFirst("schedule:".count))
                            if pack.schedules[name] == nil { problem("oncall.yaml", "\(path).steps[\(position)].notify", "schedule \"\(name)\" is not defined under schedules:") }
                            targets.append(.schedule(name))
                        } else if !target.isEmpty {
                            targets.append(.person(target))
                        }
                    }
                    if targets.isEmpty { problem("oncall.yaml", "\(path).steps[\(position)].notify", "a step notifies at least one schedule:NAME or person") }
                    steps.append(.init(after: after, targets: targets))
                }
                pack.policies[policy.name] = EscalationPolicy(name: policy.name, steps: steps, channels: policy.channels)
            }
        }

        if let file: IncidentsFile = ReviewPack.read("incidents.yaml", directory: directory, problems: &problems) {
            if let severities = file.severities {
                if severities.isEmpty { problem("incidents.yaml", "severities", "define at least one severity, or leave severities out for SEV0–SEV3") }
                var parsed: [IncidentSeverity] = []
                var pages: [String: String] = [:]
                for (index, severity) in severities.enumerated() {
                    let path = "severities[\(index)]"
                    if severity.id.isEmpty || parsed.contains(where: { $0.id == severity.id }) {
                        problem("incidents.yaml", "\(path).id", severity.id.isEmpty ? "a severity needs an id" : "severity \"\(severity.id)\" is defined twice")
                    }
                    let pagerSeverity = severity.pagerSeverity ?? "error"
                    if !["critical", "error", "warning", "info"].contains(pagerSeverity) {
                        problem("incidents.yaml", "\(path).pager_severity", "\"\(pagerSeverity)\" is not a PagerDuty severity; use critical, error, warning or info")
                    }
                    if let page = severity.page {
                        if pack.policies[page] == nil { problem("incidents.yaml", "\(path).page", "escalation policy \"\(page)\" is not defined in oncall.yaml") }
                        pages[severity.id] = page
                    }
                    parsed.append(IncidentSeverity(
                        id: severity.id, name: severity.name, description: severity.description ?? "",
                        acknowledgeWithin: duration("incidents.yaml", "\(path).acknowledge_within", severity.acknowledgeWithin) ?? 0,
                        updateEvery: max(60_000, duration("incidents.yaml", "\(path).update_every", severity.updateEvery) ?? 3_600_000),
                        mitigateWithin: duration("incidents.yaml", "\(path).mitigate_within", severity.mitigateWithin) ?? 0,
                        pagerSeverity: pagerSeverity))
                }
                pack.settings.severities = parsed
                pack.settings.pageOnOpen = pages
            }
            if let stakeholders = file.stakeholders {
                var seen = Set<String>()
                for (index, group) in stakeholders.enumerated() where group.id.isEmpty || !seen.insert(group.id).inserted {
                    problem("incidents.yaml", "stakeholders[\(index)].id", group.id.isEmpty ? "a stakeholder group needs an id" : "group \"\(group.id)\" is defined twice")
                }
                pack.settings.stakeholders = stakeholders.map { StakeholderGroup(id: $0.id, name: $0.name, contacts: $0.contacts ?? []) }
            }
            for (index, name) in (file.updatesTo ?? []).enumerated() {
                if let channel = pack.channels[name] {
                    pack.settings.updateChannels.append(channel)
                } else {
                    problem("incidents.yaml", "updates_to[\(index)]", "channel \"\(name)\" is not defined in oncall.yaml")
                }
            }
        }

        if let file: AlertsFile = ReviewPack.read("alerts.yaml", directory: directory, problems: &problems) {
            var names = Set<String>()
            for (index, rule) in file.alerts.enumerated() {
                let path = "alerts[\(index)]"
                if rule.name.isEmpty || !names.insert(rule.name).inserted {
                    problem("alerts.yaml", "\(path).name", rule.name.isEmpty ? "an alert needs a name" : "alert \"\(rule.name)\" is defined twice")
                }
                guard let series = AlertSeries(rawValue: rule.series) else {
                    problem("alerts.yaml", "\(path).series", "\"\(rule.series)\" is not a series; use one of \(AlertSeries.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                let window = duration("alerts.yaml", "\(path).window", rule.window) ?? 600_000
                if window < 60_000 || window % 60_000 != 0 || window > 86_400_000 {
                    problem("alerts.yaml", "\(path).window", "a window is whole minutes, from 1m to 24h")
                }
                if rule.above == nil, rule.anomaly == nil { problem("alerts.yaml", path, "give a threshold (above:), an anomaly test (anomaly:), or both") }
                var anomaly: AlertRule.Anomaly?
                if let test = rule.anomaly {
                    let season = test.season.flatMap { duration("alerts.yaml", "\(path).anomaly.season", $0) } ?? 86_400_000
                    if season != 86_400_000, season != 7 * 86_400_000 { problem("alerts.yaml", "\(path).anomaly.season", "a season is 1d (the daily rhythm) or 7d (hour of week)") }
                    let seasons = test.seasons ?? (season == 86_400_000 ? 7 : 4)
                    if !(3...28).contains(seasons) { problem("alerts.yaml", "\(path).anomaly.seasons", "use 3 to 28 past seasons") }
                    let sensitivity = test.sensitivity ?? 5
                    if sensitivity <= 0 { problem("alerts.yaml", "\(path).anomaly.sensitivity", "sensitivity is a positive number of robust deviations") }
                    anomaly = .init(seasonMinutes: season / 60_000, seasons: seasons, sensitivity: sensitivity, minCount: max(1, test.minCount ?? 10))
                }
                if let severity = rule.incident, pack.settings.severity(severity) == nil {
                    problem("alerts.yaml", "\(path).incident", "severity \"\(severity)\" is not defined; use one of \(pack.settings.severities.map(\.id).joined(separator: ", "))")
                }
                if let page = rule.page, pack.policies[page] == nil {
                    problem("alerts.yaml", "\(path).page", "escalation policy \"\(page)\" is not defined in oncall.yaml")
                }
                if series == .cases || series == .slaWarnings || series == .slaBreaches {
                    for key in rule.keys ?? [] where !key.contains("*") && !queues.contains(key) {
                        problem("alerts.yaml", "\(path).keys", "queue \"\(key)\" is not defined in queues.yaml")
                    }
                }
                let resolveAfter = rule.resolveAfter.flatMap { duration("alerts.yaml", "\(path).resolve_after", $0) }
                pack.alerts.append(AlertRule(name: rule.name, description: rule.description ?? "", series: series, keys: rule.keys ?? [],
                                             windowMinutes: max(1, window / 60_000), above: rule.above, anomaly: anomaly,
                                             resolveAfterMinutes: resolveAfter.map { max(1, $0 / 60_000) }, incidentSeverity: rule.incident, page: rule.page))
            }
        }
        if let file: AutomationsFile = ReviewPack.read("automations.yaml", directory: directory, problems: &problems) {
            var names = Set<String>()
            for (index, rule) in file.automations.enumerated() {
                let path = "automations[\(index)]"
                func refuse(_ field: String, _ message: String) { problem("automations.yaml", field.isEmpty ? path : "\(path).\(field)", message) }
                if rule.name.isEmpty || !names.insert(rule.name).inserted {
                    refuse("name", rule.name.isEmpty ? "an automation needs a name" : "automation \"\(rule.name)\" is defined twice")
                }
                guard let trigger = AutomationTrigger(rawValue: rule.on) else {
                    refuse("on", "\"\(rule.on)\" is not a trigger; use one of \(AutomationTrigger.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                let fields = AutomationItem.fields(of: trigger.subject)
                var conditions: [String: [String]] = [:]
                for (field, patterns) in rule.when ?? [:] {
                    if !fields.contains(field) {
                        refuse("when.\(field)", "a \(trigger.rawValue) item has no field \"\(field)\"; it has \(fields.joined(separator: ", "))")
                    }
                    if patterns.list.isEmpty { refuse("when.\(field)", "give at least one value") }
                    conditions[field] = patterns.list
                }
                if rule.do.isEmpty { refuse("do", "an automation does at least one thing") }
                var actions: [AutomationAction] = []
                for (position, step) in rule.do.enumerated() {
                    let field = "do[\(position)]"
                    var found: [AutomationAction] = []
                    if let person = step.assign { found.append(.assign(person)) }
                    if let move = step.move {
                        if !queues.contains(move.queue) { refuse("\(field).move.queue", "queue \"\(move.queue)\" is not defined in queues.yaml") }
                        found.append(.move(queue: move.queue, reason: move.reason ?? "automation \(rule.name)"))
                    }
                    if let tag = step.tag {
                        if tag.isEmpty || tag.count > 100 { refuse("\(field).tag", "a tag has 1 to 100 characters") }
                        found.append(.tag(tag))
                    }
                    if let macro = step.macro {
                        if !macros.contains(macro) { refuse("\(field).macro", "there is no macro \"\(macro)\" in macros/") }
                        found.append(.macro(macro))
                    }
                    if let open = step.openIncident {
                        if pack.settings.severity(open.severity) == nil {
                            refuse("\(field).open_incident.severity", "severity \"\(open.severity)\" is not defined; use one of \(pack.settings.severities.map(\.id).joined(separator: ", "))")
                        }
                        found.append(.openIncident(severity: open.severity, title: open.title))
                    }
                    if step.linkIncident == true { found.append(.linkIncident) }
                    if let hook = step.webhook {
                        if pack.channels[hook.channel] == nil { refuse("\(field).webhook.channel", "channel \"\(hook.channel)\" is not defined in oncall.yaml") }
                        found.append(.webhook(channel: hook.channel, text: hook.text))
                    }
                    guard found.count == 1, let action = found.first else {
                        refuse(field, "a step does one thing: assign, move, tag, macro, open_incident, link_incident or webhook")
                        continue
                    }
                    if !action.appliesTo.contains(trigger.subject) {
                        refuse(field, "\(action.name) does not apply to \(trigger.rawValue), which is about a\(trigger.subject == .alert || trigger.subject == .incident ? "n" : "") \(trigger.subject.rawValue)")
                    }
                    actions.append(action)
                }
                let limit = rule.maxRunsPerHour ?? 60
                if !(1...10_000).contains(limit) { refuse("max_runs_per_hour", "use 1 to 10000") }
                pack.automations.append(Automation(name: rule.name, description: rule.description ?? "", trigger: trigger, conditions: conditions,
                                                   actions: actions, maxRunsPerHour: limit))
            }
        }
        return pack
    }
}
