import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenIncidents
import WardenStore

/// `warden incidents`: incidents in a data directory, and their post-incident reviews.
struct Incidents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and show incidents, and export their post-incident reviews (offline, on a data directory).",
        subcommands: [List.self, Show.self, Export.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List incidents, newest first.")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only incidents in this status: investigating, identified, mitigating, monitoring, resolved or closed.") var status: String?
        @Flag(help: "Only incidents not closed.") var open = false
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var filter: IncidentStatus?
            if let status {
                guard let parsed = IncidentStatus(rawValue: status) else {
                    throw ValidationError("--status must be one of \(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter = parsed
            }
            let opened = try await OpenedDataDir(data, exclusive: false)
            let incidents = try await opened.store.incidents(status: filter, openOnly: open, before: nil, limit: limit)
            if json {
                printJSON(["incidents": incidents.map(Self.summary)])
                return
            }
            if incidents.isEmpty { print("no incidents"); return }
            for incident in incidents {
                let roles = incident.roles[.commander].map { "  commander \($0)" } ?? ""
                print("\(incident.id)  \(incident.severity)  \(incident.status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0))  \(Timestamp.formatRFC3339(incident.createdAt))  \(incident.title)\(roles)")
            }
        }

        static func summary(_ incident: IncidentRecord) -> [String: Any] {
            let times = IncidentTimes(incident)
            return ["id": incident.id, "title": incident.title, "severity": incident.severity, "status": incident.status.rawValue,
                    "source": incident.source.rawValue, "created_at": Timestamp.formatRFC3339(incident.createdAt),
                    "commander": incident.roles[.commander] ?? NSNull(), "to_acknowledge_ms": times.toAcknowledge ?? NSNull(),
                    "to_resolve_ms": times.toResolve ?? NSNull()]
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one incident: its fields, timeline, links and tasks.")
        @OptionGroup var data: DataDirOption
        @Argument(help: "The incident id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            guard let incident = try await opened.store.incident(id: id) else { throw ValidationError("there is no incident \(id)") }
            let timeline = try await opened.store.incidentTimeline(id: id)
            let links = try await opened.store.incidentLinks(id: id)
            let tasks = try await opened.store.incidentTasks(id: id)
            if json {
                var object = List.summary(incident)
                object["summary"] = incident.summary
                object["participants"] = incident.participants
                object["stakeholders"] = incident.stakeholders
                object["timeline"] = timeline.map { ["at": Timestamp.formatRFC3339($0.at), "actor": $0.actor.description, "kind": $0.kind.rawValue,
                                                     "text": PostIncidentReview.describe($0)] }
                object["links"] = links.map { $0.link.description }
                object["tasks"] = tasks.map { ["id": $0.id, "title": $0.title, "owner": $0.owner ?? NSNull(), "done": $0.doneAt != nil, "follow_up": $0.followUp] }
                printJSON(object)
                return
            }
            print("Incident \(incident.id): \(incident.title)")
            print("  \(incident.severity), \(incident.status.rawValue); opened \(Timestamp.formatRFC3339(incident.createdAt)) by \(incident.createdBy)")
            for role in IncidentRole.allCases { if let person = incident.roles[role] { print("  \(role.rawValue): \(person)") } }
            if !links.isEmpty { print("  links: \(links.map(\.link.description).joined(separator: ", "))") }
            print("Timeline:")
            for entry in timeline { print("  \(Timestamp.formatRFC3339(entry.at))  \(entry.actor)  \(PostIncidentReview.describe(entry))") }
            if !tasks.isEmpty {
                print("Tasks:")
                for task in tasks { print("  [\(task.doneAt == nil ? " " : "x")] \(task.id) \(task.followUp ? "(follow-up) " : "")\(task.title)\(task.owner.map { " — \($0)" } ?? "")") }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export an incident's post-incident review as Markdown.",
            discussion: "The review kept with the incident, or (with --regenerate, or when none was kept) one generated from it now."
        )
        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Argument(help: "The incident id.") var id: Int64
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?
        @Flag(help: "Generate the review afresh even if one was kept.") var regenerate = false

        func run() async throws {
            let settings = try pack.load().incidents.settings
            let opened = try await OpenedDataDir(data, exclusive: false)
            let markdown: String
            do {
                markdown = try await IncidentService.reviewDocument(store: opened.store, settings: settings, id: id, regenerate: regenerate,
                                                                    now: SystemWallClock().nowMillis())
            } catch let error as IncidentError {
                throw ValidationError(error.message)
            }
            if let output {
                try markdown.write(toFile: output, atomically: true, encoding: .utf8)
                print("wrote the review of incident \(id) to \(output)")
            } else {
                print(markdown, terminator: "")
            }
        }
    }
}

/// `warden alerts`: alerts in a data directory, and backtests of the pack's alert rules.
struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List alerts and backtest alert rules over the counted history (offline, on a data directory).",
        subcommands: [List.self, Backtest.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alerts, newest first.")
        @OptionGroup var data: DataDirOption
        @Flag(help: "Only alerts not resolved.") var open = false
        @Option(help: "Only this rule's alerts.") var rule: String?
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            let alerts = try await opened.store.alerts(openOnly: open, rule: rule, limit: limit)
            if json {
                printJSON(["alerts": alerts.map(Self.object)])
            } else if alerts.isEmpty {
                print("no alerts")
            } else {
                for alert in alerts {
                    print("\(alert.id)  \(alert.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))  \(Timestamp.formatRFC3339(alert.firstFiredAt))  \(alert.summary)\(alert.incidentID.map { "  incident \($0)" } ?? "")")
                }
            }
        }

        static func object(_ alert: AlertRecord) -> [String: Any] {
            ["id": alert.id, "rule": alert.rule, "key": alert.key, "series": alert.series.rawValue, "state": alert.state.rawValue,
             "first_fired_at": Timestamp.formatRFC3339(alert.firstFiredAt), "last_fired_at": Timestamp.formatRFC3339(alert.lastFiredAt),
             "peak": alert.peak, "baseline": alert.baseline ?? NSNull(), "incident_id": alert.incidentID ?? NSNull(),
             "resolved_at": alert.resolvedAt.map(Timestamp.formatRFC3339) ?? NSNull()]
        }
    }

    struct Backtest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay an alert rule of the pack over the last days of its series: the alerts it would have opened.",
            discussion: "Evaluates the rule minute by minute as the server does (same windows, baselines and deduplication) over what the server counted."
        )
        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Argument(help: "The alert rule's name (alerts.yaml).") var name: String
        @Option(help: "How many days back (1 to 90).") var days = 7
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard (1...90).contains(days) else { throw ValidationError("--days must be 1 to 90") }
            let rules = try pack.load().incidents.alerts
            guard let rule = rules.first(where: { $0.name == name }) else {
                throw ValidationError("the pack has no alert rule \(name); it has \(rules.map(\.name).joined(separator: ", "))")
            }
            let opened = try await OpenedDataDir(data, exclusive: false)
            let result = try await IncidentService.backtest(store: opened.store, rule: rule, days: days, now: SystemWallClock().nowMillis())
            if json {
                printJSON(["rule": rule.name, "minutes": result.minutes, "from": Timestamp.formatRFC3339(result.from * 60_000),
                           "through": Timestamp.formatRFC3339(result.through * 60_000), "alerts": result.alerts.map(List.object)])
                return
            }
            print("\(rule.name) over \(days) day\(days == 1 ? "" : "s") (\(result.minutes) minutes): \(result.alerts.count) alert\(result.alerts.count == 1 ? "" : "s")")
            for alert in result.alerts {
                let resolved = alert.resolvedAt.map { " → resolved \(Timestamp.formatRFC3339($0))" } ?? " (still open)"
                print("  \(Timestamp.formatRFC3339(alert.firstFiredAt))\(resolved)  \(alert.key): peak \(AlertRecordFormat.number(alert.peak))\(alert.baseline.map { ", baseline \(AlertRecordFormat.number($0))" } ?? "")")
            }
        }
    }
}

enum AlertRecordFormat {
    static func number(_ value: Double) -> String { value == value.rounded() ? String(Int64(value)) : String(format: "%.1f", value) }
}

/// `warden automations`: the pack's automations, their runs, and dry runs over the audit log.
struct Automations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List automation runs and dry-run the pack's automations over the audit log (offline, on a data directory).",
        subcommands: [Runs.self, DryRun.self]
    )

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Automation runs, newest first, with what each action did.")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this automation's runs.") var automation: String?
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            let runs = try await opened.store.automationRuns(automation: automation, limit: limit)
            if json {
                printJSON(["runs": runs.map { ["id": $0.id, "automation": $0.automation, "target": $0.target, "at": Timestamp.formatRFC3339($0.at),
                                               "outcome": $0.outcome, "detail": (try? JSONSerialization.jsonObject(with: Data($0.detail.utf8))) ?? [:]] as [String: Any] }])
            } else if runs.isEmpty {
                print("no automation runs")
            } else {
                for run in runs { print("\(run.id)  \(Timestamp.formatRFC3339(run.at))  \(run.automation)  \(run.target)  \(run.outcome)  \(run.detail)") }
            }
        }
    }

    struct DryRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dry-run",
            abstract: "What an automation of the pack would have done over the last days (conditions on each item as it is now); changes nothing."
        )
        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Argument(help: "The automation's name (automations.yaml).") var name: String
        @Option(help: "How many days back (1 to 90).") var days = 7
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard (1...90).contains(days) else { throw ValidationError("--days must be 1 to 90") }
            let automations = try pack.load().incidents.automations
            guard let automation = automations.first(where: { $0.name == name }) else {
                throw ValidationError("the pack has no automation \(name); it has \(automations.map(\.name).joined(separator: ", "))")
            }
            let opened = try await OpenedDataDir(data, exclusive: false)
            let hits = try await AutomationRunner.dryRun(automation, days: days, now: SystemWallClock().nowMillis(), cases: opened.store, incidents: opened.store)
            if json {
                printJSON(["automation": name, "days": days, "hits": hits.map { ["at": Timestamp.formatRFC3339($0.at), "target": $0.target, "actions": $0.actions] as [String: Any] }])
                return
            }
            print("\(name) over \(days) day\(days == 1 ? "" : "s"): would have run \(hits.count) time\(hits.count == 1 ? "" : "s")")
            for hit in hits.suffix(50) { print("  \(Timestamp.formatRFC3339(hit.at))  \(hit.target): \(hit.actions.joined(separator: "; "))") }
        }
    }
}
