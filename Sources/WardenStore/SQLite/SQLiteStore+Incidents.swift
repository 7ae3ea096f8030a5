import Foundation
import GRDB
public import WardenCore
public import WardenIncidents

extension SQLiteStore: IncidentStore {
    // MARK: Incidents

    public func openIncident(_ draft: IncidentDraft, actor: ActorRef, settings: IncidentSettings, now: Int64) async throws -> IncidentRecord {
        try await pool.write { db in
            let (plan, record) = try IncidentPlanner(settings: settings, now: now).open(draft, id: try Self.nextID(db, "incident"), actor: actor)
            try Self.apply(plan, db, pager: nil, now: now)
            return record
        }
    }

    public func changeIncident(id: Int64, _ change: IncidentChange, actor: ActorRef, settings: IncidentSettings, pager: Pager, now: Int64) async throws -> IncidentRecord {
        try await pool.write { db in
            let record = try Self.requireIncident(db, id)
            let tasks = try Self.tasks(db, id)
            let links = try Self.links(db, id).map(\.link)
            let (plan, changed) = try IncidentPlanner(settings: settings, now: now)
                .change(record, tasks: tasks, links: links, change, actor: actor, nextTaskID: try Self.nextID(db, "incident_task"))
            try Self.apply(plan, db, pager: pager, now: now)
            return changed
        }
    }

    public func incident(id: Int64) async throws -> IncidentRecord? {
        try await pool.read { db in try Self.loadIncident(db, id) }
    }

    public func incidents(status: IncidentStatus?, openOnly: Bool, before: Int64?, limit: Int) async throws -> [IncidentRecord] {
        try await pool.read { db in
            var conditions = ["id < ?"]
            var arguments: [any DatabaseValueConvertible] = [before ?? Int64.max]
            if let status { conditions.append("status = ?"); arguments.append(status.rawValue) }
            if openOnly { conditions.append("status != 'closed'") }
            arguments.append(limit)
            return try db.cachedRows(sql: "SELECT * FROM incident WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?",
                                     arguments: StatementArguments(arguments)).map(Self.incident(row:))
        }
    }

    public func incidents(createdSince since: Int64, limit: Int) async throws -> [IncidentRecord] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM incident WHERE created_at >= ? ORDER BY created_at LIMIT ?", arguments: [since, limit]).map(Self.incident(row:))
        }
    }

    public func incidentTimeline(id: Int64) async throws -> [IncidentTimelineEntry] {
        try await pool.read { db in try Self.timeline(db, id) }
    }

    public func incidentLinks(id: Int64) async throws -> [IncidentLinkRecord] {
        try await pool.read { db in try Self.links(db, id) }
    }

    public func incidentTasks(id: Int64) async throws -> [IncidentTask] {
        try await pool.read { db in try Self.tasks(db, id) }
    }

    public func incidents(linkedTo link: IncidentLink) async throws -> [IncidentRecord] {
        try await pool.read { db in
            try db.cachedRows(sql: """
                SELECT i.* FROM incident_link l JOIN incident i ON i.id = l.incident_id WHERE l.kind = ? AND l.ref = ? ORDER BY i.id DESC LIMIT 50
                """, arguments: [link.kind.rawValue, link.ref]).map(Self.incident(row:))
        }
    }

    public func remindOverdueIncidents(settings: IncidentSettings, now: Int64, limit: Int) async throws -> Int {
        try await pool.write { db in
            let due = try db.cachedRows(sql: "SELECT * FROM incident INDEXED BY incident_update_due WHERE update_due_at <= ? ORDER BY update_due_at LIMIT ?",
                                        arguments: [now, limit]).map(Self.incident(row:))
            var count = 0
            for record in due {
                guard let (plan, _) = IncidentPlanner(settings: settings, now: now).remind(record) else {
                    // An incident whose severity left the pack: stop reminding rather than loop.
                    try db.run(sql: "UPDATE incident SET update_due_at = NULL WHERE id = ?", arguments: [record.id])
                    continue
                }
                try Self.apply(plan, db, pager: nil, now: now)
                count += 1
            }
            return count
        }
    }

    public func reviewFacts(incidentID: Int64, now: Int64) async throws -> ReviewFacts {
        try await pool.read { db in
            let record = try Self.requireIncident(db, incidentID)
            let links = try Self.links(db, incidentID)
            var facts = ReviewFacts()
            for link in links where link.link.kind == .case {
                guard let caseID = Int64(link.link.ref), let row = try db.cachedRow(sql: "SELECT subject, queue, state FROM review_case WHERE id = ?", arguments: [caseID])
                else { continue }
                let decision = try db.cachedRow(sql: "SELECT violation, category FROM decision WHERE case_id = ? ORDER BY id DESC LIMIT 1", arguments: [caseID])
                let outcome = decision.map { (($0["violation"] as Bool?) == true ? "violation: " : "no violation: ") + (($0["category"] as String?) ?? "") }
                facts.cases.append(.init(id: caseID, subject: row["subject"], queue: row["queue"], state: row["state"], decision: outcome))
                for action in try db.cachedRows(sql: "SELECT subject, action, created_at FROM enforcement_action WHERE case_id = ? AND reverses IS NULL ORDER BY id",
                                                arguments: [caseID]) {
                    facts.actions.append(.init(subject: action["subject"], action: action["action"], at: action["created_at"]))
                }
            }
            let alertIDs = Set(links.filter { $0.link.kind == .alert }.compactMap { Int64($0.link.ref) })
            let linkedAlerts = try db.cachedRows(sql: "SELECT * FROM alert WHERE incident_id = ? ORDER BY id", arguments: [incidentID]).map(Self.alert(row:))
            var alerts = linkedAlerts
            for id in alertIDs.sorted() where !alerts.contains(where: { $0.id == id }) {
                if let alert = try db.cachedRow(sql: "SELECT * FROM alert WHERE id = ?", arguments: [id]).map(Self.alert(row:)) { alerts.append(alert) }
            }
            facts.alerts = alerts
            let end = record.resolvedAt ?? now
            for link in links where link.link.kind == .rule {
                let count = try db.cachedOne(Int.self, sql: """
                    SELECT coalesce(sum(count), 0) FROM series_bucket WHERE series = 'signals_by_rule' AND key = ? AND minute >= ? AND minute <= ?
                    """, arguments: [link.link.ref, record.detectedAt / 60_000, end / 60_000]) ?? 0
                facts.rules.append(.init(rule: link.link.ref, signals: count))
            }
            var subjects = [record.target]
            subjects += alerts.map(\.target)
            for subject in subjects {
                facts.pages += try db.cachedRows(sql: "SELECT * FROM page INDEXED BY page_by_subject WHERE subject = ? ORDER BY id", arguments: [subject])
                    .map(Self.page(row:))
            }
            return facts
        }
    }

    // MARK: Alerts

    public func evaluateAlerts(_ rules: [AlertRule], minute: Int64, settings: IncidentSettings, now: Int64) async throws -> [AlertRecord] {
        // Read the windows outside the write: evaluation never holds the writer.
        let evaluated: [(AlertRule, [AlertRule.Finding], [String: Int64])] = try await pool.read { db in
            // History starts when counting started: the first minute of the intake series (a series
            // with no count in a minute has no row, so its own first row says when it first fired).
            let first = try Self.historyStart(db)
            return try rules.map { rule in
                let (current, seasonal, trailing) = rule.windows(at: minute)
                func sums(_ window: AlertRule.Window) throws -> [String: Double]? {
                    guard let first, window.after + 1 >= first else { return nil }
                    return try Self.sums(db, rule.series, window)
                }
                let inputs = AlertRule.Inputs(current: try Self.sums(db, rule.series, current), seasonal: try seasonal.map(sums), trailing: try trailing.map(sums))
                let findings = rule.evaluate(inputs)
                // The first minute with a count in the firing window: the earliest evidence.
                var firstEvidence: [String: Int64] = [:]
                for finding in findings where finding.firing {
                    firstEvidence[finding.key] = try db.cachedOne(Int64.self, sql: """
                        SELECT min(minute) FROM series_bucket WHERE series = ? AND key = ? AND minute > ? AND minute <= ? AND count > 0
                        """, arguments: [rule.series.rawValue, finding.key, current.after, current.through])
                }
                return (rule, findings, firstEvidence)
            }
        }
        return try await pool.write { db in
            var opened: [AlertRecord] = []
            for (rule, findings, firstEvidence) in evaluated {
                let open = try db.cachedRows(sql: "SELECT * FROM alert WHERE rule = ? AND state != 'resolved'", arguments: [rule.name]).map(Self.alert(row:))
                guard !findings.isEmpty || !open.isEmpty else { continue }
                let round = AlertPlanner.round(rule: rule, findings: findings, open: open, now: now, nextID: try Self.nextID(db, "alert"))
                for alert in round.opened { try Self.insertAlert(db, alert) }
                for alert in round.updated { try Self.saveAlert(db, alert) }
                for entry in round.audit { try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail) }
                for var alert in round.opened {
                    if let severity = rule.incidentSeverity {
                        let detected = firstEvidence[alert.key].map { $0 * 60_000 } ?? alert.firstFiredAt
                        let draft = IncidentDraft(title: IncidentDraft.fitTitle("\(rule.name): \(alert.key)"), summary: rule.description + (rule.description.isEmpty ? "" : "\n\n") + alert.summary,
                                                  severity: severity, links: Self.alertLinks(alert), source: .alert, sourceRef: alert.target, detectedAt: detected)
                        var (plan, incident) = try IncidentPlanner(settings: settings, now: now).open(draft, id: try Self.nextID(db, "incident"), actor: .system("alerts"))
                        if let policy = rule.page {
                            plan.pages = [PageStart(subject: incident.target, policy: policy, summary: "\(incident.severity) incident \(incident.id): \(incident.title)",
                                                    severity: settings.severity(severity)?.pagerSeverity ?? "error", at: now)]
                        }
                        try Self.apply(plan, db, pager: nil, now: now)
                        alert.incidentID = incident.id
                        try db.run(sql: "UPDATE alert SET incident_id = ? WHERE id = ?", arguments: [incident.id, alert.id])
                    } else if let policy = rule.page {
                        try Self.startPage(db, PageStart(subject: alert.target, policy: policy, summary: alert.summary, severity: "warning", at: now))
                    }
                    opened.append(alert)
                }
            }
            return opened
        }
    }

    static func alertLinks(_ alert: AlertRecord) -> [IncidentLink] {
        var links = [IncidentLink(.alert, String(alert.id))]
        switch alert.series {
        case .signalsByRule, .classifierFlags: links.append(IncidentLink(.rule, alert.key))
        case .cases, .slaBreaches, .slaWarnings: links.append(IncidentLink(.queue, alert.key))
        default: break
        }
        return links
    }

    public func alert(id: Int64) async throws -> AlertRecord? {
        try await pool.read { db in try db.cachedRow(sql: "SELECT * FROM alert WHERE id = ?", arguments: [id]).map(Self.alert(row:)) }
    }

    public func alerts(openOnly: Bool, rule: String?, limit: Int) async throws -> [AlertRecord] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if openOnly { conditions.append("state != 'resolved'") }
            if let rule { conditions.append("rule = ?"); arguments.append(rule) }
            arguments.append(limit)
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try db.cachedRows(sql: "SELECT * FROM alert \(filter) ORDER BY id DESC LIMIT ?", arguments: StatementArguments(arguments)).map(Self.alert(row:))
        }
    }

    public func alerts(firedSince since: Int64, limit: Int) async throws -> [AlertRecord] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM alert WHERE first_fired_at >= ? ORDER BY first_fired_at LIMIT ?", arguments: [since, limit]).map(Self.alert(row:))
        }
    }

    public func commandAlert(id: Int64, _ command: AlertCommand, actor: ActorRef, pager: Pager, now: Int64) async throws -> AlertRecord {
        try await pool.write { db in
            guard let alert = try db.cachedRow(sql: "SELECT * FROM alert WHERE id = ?", arguments: [id]).map(Self.alert(row:)) else {
                throw IncidentError(.notFound, "there is no alert \(id)")
            }
            let (changed, audit) = try AlertPlanner.apply(command, to: alert, actor: actor, now: now)
            try Self.saveAlert(db, changed)
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
            switch command {
            case .acknowledge: try Self.stopPages(db, subject: alert.target, acknowledgedBy: actor, pager: pager, now: now)
            case .resolve: try Self.stopPages(db, subject: alert.target, acknowledgedBy: nil, pager: pager, now: now)
            case .snooze: break
            }
            return changed
        }
    }

    public func incidentFromAlert(id: Int64, severity: String, title: String?, actor: ActorRef, settings: IncidentSettings, now: Int64) async throws -> IncidentRecord {
        try await pool.write { db in
            guard let alert = try db.cachedRow(sql: "SELECT * FROM alert WHERE id = ?", arguments: [id]).map(Self.alert(row:)) else {
                throw IncidentError(.notFound, "there is no alert \(id)")
            }
            if let existing = alert.incidentID { throw IncidentError(.conflict, "alert \(id) already opened incident \(existing)") }
            let draft = IncidentDraft(title: title ?? IncidentDraft.fitTitle("\(alert.rule): \(alert.key)"), summary: alert.summary, severity: severity, links: Self.alertLinks(alert),
                                      source: .alert, sourceRef: alert.target, detectedAt: alert.firstFiredAt)
            let (plan, incident) = try IncidentPlanner(settings: settings, now: now).open(draft, id: try Self.nextID(db, "incident"), actor: actor)
            try Self.apply(plan, db, pager: nil, now: now)
            try db.run(sql: "UPDATE alert SET incident_id = ? WHERE id = ?", arguments: [incident.id, id])
            return incident
        }
    }

    // MARK: Series

    static let seriesCursors = (events: "series.events", signals: "series.signals", cases: "series.cases", flags: "series.flags")

    /// Counts what arrived since the series' cursors in a read snapshot, then adds the counts and
    /// advances the cursors in one short write. Counting inside the write transaction held the
    /// log's writer, and so intake's commits, for the whole scan (up to `batch` events a pass, every
    /// second under load). The write checks the cursors still stand where the count began (one
    /// recorder runs per process; a second one's pass would simply be counted again later).
    public func recordSeries(batch: Int) async throws -> Int {
        let counted = try await pool.read { db in try Self.countSeries(db, batch: batch) }
        guard counted.read > 0 else { return 0 }
        return try await pool.write { db in
            for (name, from, _) in counted.cursors {
                let now = try db.cachedOne(Int64.self, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [name]) ?? 0
                guard now == from else { return 0 }
            }
            for (name, from, through) in counted.cursors where through > from {
                try db.run(sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq", arguments: [name, through])
            }
            for (key, count) in counted.counts {
                try db.run(sql: """
                    INSERT INTO series_bucket (series, minute, key, count) VALUES (?, ?, ?, ?)
                    ON CONFLICT (series, minute, key) DO UPDATE SET count = count + excluded.count
                    """, arguments: [key.series.rawValue, key.minute, key.key, count])
            }
            return counted.read
        }
    }

    /// The counts of one pass of ``recordSeries(batch:)``: per bucket, each cursor's position before
    /// and after, and how many items were read.
    private static func countSeries(_ db: Database, batch: Int) throws
        -> (counts: [SeriesKey: Int64], cursors: [(name: String, from: Int64, through: Int64)], read: Int) {
        func cursor(_ name: String) throws -> Int64 {
            try db.cachedOne(Int64.self, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [name]) ?? 0
        }
        var cursors: [(name: String, from: Int64, through: Int64)] = []
        var counts: [SeriesKey: Int64] = [:]
        var read = 0
        // Events by type, and reports by reason.
        let eventCursor = try cursor(Self.seriesCursors.events)
        let head = try db.cachedOne(Int64.self, sql: "SELECT max(seq) FROM event") ?? 0
        let eventsThrough = min(head, eventCursor + Int64(batch))
        if eventsThrough > eventCursor {
            for row in try db.cachedRows(sql: "SELECT type, received_at / 60000 AS m, count(*) AS n FROM event WHERE seq > ? AND seq <= ? GROUP BY type, m",
                                         arguments: [eventCursor, eventsThrough]) {
                counts[SeriesKey(series: .events, minute: row["m"], key: row["type"]), default: 0] += row["n"]
            }
            for row in try db.cachedRows(sql: """
                SELECT json_extract(body, '$.data.reason') AS reason, received_at / 60000 AS m, count(*) AS n FROM event INDEXED BY event_by_type
                WHERE type = 'report' AND seq > ? AND seq <= ? GROUP BY reason, m
                """, arguments: [eventCursor, eventsThrough]) {
                counts[SeriesKey(series: .reports, minute: row["m"], key: (row["reason"] as String?) ?? "unknown"), default: 0] += row["n"]
            }
            read += Int(eventsThrough - eventCursor)
            cursors.append((Self.seriesCursors.events, eventCursor, eventsThrough))
        }
        // Signals by rule and category; SLA signals by queue.
        let signalCursor = try cursor(Self.seriesCursors.signals)
        let signalsThrough = min(try db.cachedOne(Int64.self, sql: "SELECT max(id) FROM signal") ?? 0, signalCursor + Int64(batch))
        if signalsThrough > signalCursor {
            for row in try db.cachedRows(sql: """
                SELECT rule, rule_version, category, queue, created_at / 60000 AS m, count(*) AS n FROM signal WHERE id > ? AND id <= ?
                GROUP BY rule, rule_version, category, queue, m
                """, arguments: [signalCursor, signalsThrough]) {
                let rule: String = row["rule"]
                let minute: Int64 = row["m"]
                let n: Int64 = row["n"]
                if rule == "sla" {
                    let event: String = row["rule_version"]
                    let queue: String = (row["queue"] as String?) ?? ""
                    counts[SeriesKey(series: event.hasSuffix("breached") ? .slaBreaches : .slaWarnings, minute: minute, key: queue), default: 0] += n
                } else {
                    counts[SeriesKey(series: .signalsByRule, minute: minute, key: rule), default: 0] += n
                    counts[SeriesKey(series: .signalsByCategory, minute: minute, key: row["category"]), default: 0] += n
                }
            }
            read += Int(signalsThrough - signalCursor)
            cursors.append((Self.seriesCursors.signals, signalCursor, signalsThrough))
        }
        // Cases opened by queue.
        let caseCursor = try cursor(Self.seriesCursors.cases)
        let casesThrough = min(try db.cachedOne(Int64.self, sql: "SELECT max(id) FROM review_case") ?? 0, caseCursor + Int64(batch))
        if casesThrough > caseCursor {
            for row in try db.cachedRows(sql: "SELECT queue, created_at / 60000 AS m, count(*) AS n FROM review_case WHERE id > ? AND id <= ? GROUP BY queue, m",
                                         arguments: [caseCursor, casesThrough]) {
                counts[SeriesKey(series: .cases, minute: row["m"], key: row["queue"]), default: 0] += row["n"]
            }
            read += Int(casesThrough - caseCursor)
            cursors.append((Self.seriesCursors.cases, caseCursor, casesThrough))
        }
        // Classifier flags: jobs settled as fired, up to the first job still pending (so none is skipped).
        let flagCursor = try cursor(Self.seriesCursors.flags)
        let firstPending = try db.cachedOne(Int64.self, sql: "SELECT min(id) FROM classification_job INDEXED BY classification_job_due WHERE state = 'pending'")
        let lastJob = try db.cachedOne(Int64.self, sql: "SELECT max(id) FROM classification_job") ?? 0
        let flagsThrough = min(firstPending.map { $0 - 1 } ?? lastJob, flagCursor + Int64(batch))
        if flagsThrough > flagCursor {
            for row in try db.cachedRows(sql: """
                SELECT rule, settled_at / 60000 AS m, count(*) AS n FROM classification_job WHERE id > ? AND id <= ? AND state = 'fired' GROUP BY rule, m
                """, arguments: [flagCursor, flagsThrough]) {
                counts[SeriesKey(series: .classifierFlags, minute: row["m"], key: row["rule"]), default: 0] += row["n"]
            }
            read += Int(flagsThrough - flagCursor)
            cursors.append((Self.seriesCursors.flags, flagCursor, flagsThrough))
        }
        return (counts, cursors, read)
    }

    struct SeriesKey: Hashable {
        var series: AlertSeries
        var minute: Int64
        var key: String
    }

    public func addSeriesCounts(_ series: AlertSeries, _ counts: [SeriesCount]) async throws {
        try await pool.write { db in
            for count in counts {
                try db.run(sql: """
                    INSERT INTO series_bucket (series, minute, key, count) VALUES (?, ?, ?, ?)
                    ON CONFLICT (series, minute, key) DO UPDATE SET count = count + excluded.count
                    """, arguments: [series.rawValue, count.minute, count.key, count.count])
            }
        }
    }

    public func seriesBuckets(_ series: AlertSeries, after: Int64, through: Int64) async throws -> [SeriesCount] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT minute, key, count FROM series_bucket WHERE series = ? AND minute > ? AND minute <= ? ORDER BY minute, key",
                              arguments: [series.rawValue, after, through]).map { SeriesCount(minute: $0["minute"], key: $0["key"], count: $0["count"]) }
        }
    }

    public func seriesHistoryStart() async throws -> Int64? {
        try await pool.read { db in try Self.historyStart(db) }
    }

    static func historyStart(_ db: Database) throws -> Int64? {
        try db.cachedOne(Int64.self, sql: "SELECT min(minute) FROM series_bucket WHERE series = 'events'")
    }

    static func sums(_ db: Database, _ series: AlertSeries, _ window: AlertRule.Window) throws -> [String: Double] {
        var sums: [String: Double] = [:]
        for row in try db.cachedRows(sql: "SELECT key, sum(count) AS n FROM series_bucket WHERE series = ? AND minute > ? AND minute <= ? GROUP BY key",
                                     arguments: [series.rawValue, window.after, window.through]) {
            sums[row["key"]] = Double(row["n"] as Int64)
        }
        return sums
    }

    // MARK: Pages and on-call

    public func advancePages(pager: Pager, now: Int64, limit: Int) async throws -> Int {
        try await pool.write { db in
            let due = try db.cachedRows(sql: "SELECT * FROM page INDEXED BY page_due WHERE next_at <= ? ORDER BY next_at LIMIT ?", arguments: [now, limit]).map(Self.page(row:))
            for page in due {
                let (advanced, sent, outbox) = pager.advance(page, now: now)
                var saved = advanced
                if pager.policies[page.policy] == nil { saved.nextAt = nil }
                try Self.savePage(db, saved)
                try Self.enqueue(outbox, db)
                for person in sent {
                    let detail = #"{"page":\#(page.id),"person":\#(jsonString(person.person)),"policy":\#(jsonString(page.policy)),"step":\#(person.step + 1)}"#
                    try Self.appendAudit(db, at: now, actor: "system:pager", action: "page.sent", target: page.subject, detail: detail)
                    if page.subject.hasPrefix("incident:"), let id = Int64(page.subject.dropFirst("incident:".count)) {
                        try db.run(sql: "INSERT INTO incident_timeline (incident_id, at, actor, kind, detail) VALUES (?, ?, 'system:pager', 'page', ?)",
                                   arguments: [id, now, detail])
                    }
                }
            }
            return due.count
        }
    }

    public func pages(subject: String?, openOnly: Bool, limit: Int) async throws -> [PageRecord] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let subject { conditions.append("subject = ?"); arguments.append(subject) }
            if openOnly { conditions.append("acknowledged_at IS NULL AND resolved_at IS NULL") }
            arguments.append(limit)
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try db.cachedRows(sql: "SELECT * FROM page \(filter) ORDER BY id DESC LIMIT ?", arguments: StatementArguments(arguments)).map(Self.page(row:))
        }
    }

    public func pages(startedSince since: Int64, limit: Int) async throws -> [PageRecord] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM page WHERE started_at >= ? ORDER BY started_at LIMIT ?", arguments: [since, limit]).map(Self.page(row:))
        }
    }

    public func addOverride(schedule: String, person: String, startsAt: Int64, endsAt: Int64, actor: ActorRef, now: Int64) async throws -> OnCallOverride {
        try await pool.write { db in
            let id = try Self.nextID(db, "oncall_override")
            try db.run(sql: "INSERT INTO oncall_override (id, schedule, person, starts_at, ends_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [id, schedule, person, startsAt, endsAt, actor.description])
            try Self.appendAudit(db, at: now, actor: actor.description, action: "oncall.override", target: "schedule:\(schedule)",
                                 detail: #"{"override":\#(id),"person":\#(jsonString(person)),"starts_at":\#(jsonString(Timestamp.formatRFC3339(startsAt))),"ends_at":\#(jsonString(Timestamp.formatRFC3339(endsAt)))}"#)
            return OnCallOverride(id: id, schedule: schedule, person: person, startsAt: startsAt, endsAt: endsAt, createdBy: actor)
        }
    }

    public func overrides(now: Int64) async throws -> [OnCallOverride] {
        try await pool.read { db in
            try db.cachedRows(sql: "SELECT * FROM oncall_override WHERE ends_at > ? ORDER BY starts_at, id", arguments: [now]).map { row in
                OnCallOverride(id: row["id"], schedule: row["schedule"], person: row["person"], startsAt: row["starts_at"], endsAt: row["ends_at"],
                               createdBy: try row.actor("created_by", table: "oncall_override"))
            }
        }
    }

    public func deleteOverride(id: Int64, actor: ActorRef, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.run(sql: "DELETE FROM oncall_override WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            try Self.appendAudit(db, at: now, actor: actor.description, action: "oncall.override.delete", target: "override:\(id)", detail: "{}")
            return true
        }
    }

    // MARK: Automations

    static let automationCursorName = "automations"

    public func automationCursor() async throws -> Int64? {
        try await pool.read { db in
            try db.cachedOne(Int64.self, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [Self.automationCursorName])
        }
    }

    public func setAutomationCursor(_ seq: Int64) async throws {
        try await pool.write { db in
            try db.run(sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                       arguments: [Self.automationCursorName, seq])
        }
    }

    public func beginAutomationRun(automation: String, triggerSeq: Int64, target: String, at: Int64) async throws -> Int64? {
        try await pool.write { db in
            try db.run(sql: """
                INSERT INTO automation_run (automation, trigger_seq, target, at, outcome, detail) VALUES (?, ?, ?, ?, 'running', '{}')
                ON CONFLICT (automation, trigger_seq) DO NOTHING
                """, arguments: [automation, triggerSeq, target, at])
            return db.changesCount > 0 ? db.lastInsertedRowID : nil
        }
    }

    public func finishAutomationRun(id: Int64, outcome: String, detail: String, audit: AuditDraft) async throws {
        try await pool.write { db in
            try db.run(sql: "UPDATE automation_run SET outcome = ?, detail = ? WHERE id = ?", arguments: [outcome, detail, id])
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
        }
    }

    public func automationRuns(automation: String?, limit: Int) async throws -> [AutomationRun] {
        try await pool.read { db in
            let rows = if let automation {
                try db.cachedRows(sql: "SELECT * FROM automation_run WHERE automation = ? ORDER BY id DESC LIMIT ?", arguments: [automation, limit])
            } else {
                try db.cachedRows(sql: "SELECT * FROM automation_run ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
            return rows.map {
                AutomationRun(id: $0["id"], automation: $0["automation"], triggerSeq: $0["trigger_seq"], target: $0["target"], at: $0["at"],
                              outcome: $0["outcome"], detail: $0["detail"])
            }
        }
    }

    public func automationRunCount(automation: String, since: Int64) async throws -> Int {
        try await pool.read { db in
            try db.cachedOne(Int.self, sql: "SELECT count(*) FROM automation_run WHERE automation = ? AND at >= ? AND outcome != 'skipped'",
                             arguments: [automation, since]) ?? 0
        }
    }

    public func notify(_ messages: [OutboxMessage], audit: AuditDraft) async throws {
        try await pool.write { db in
            try Self.enqueue(messages, db)
            try Self.appendAudit(db, at: audit.at, actor: audit.actor.description, action: audit.action, target: audit.target, detail: audit.detail)
        }
    }

    // MARK: Applying plans

    static func apply(_ plan: IncidentPlan, _ db: Database, pager: Pager?, now: Int64) throws {
        if let record = plan.inserted { try insertIncident(db, record) }
        if let record = plan.updated { try saveIncident(db, record) }
        for link in plan.links {
            try db.run(sql: "INSERT INTO incident_link (incident_id, kind, ref, at, by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       arguments: [link.incidentID, link.link.kind.rawValue, link.link.ref, link.at, link.by.description])
        }
        let incidentID = plan.inserted?.id ?? plan.updated?.id
        for link in plan.unlinks {
            try db.run(sql: "DELETE FROM incident_link WHERE incident_id = ? AND kind = ? AND ref = ?", arguments: [incidentID, link.kind.rawValue, link.ref])
        }
        for task in plan.tasks {
            try db.run(sql: """
                INSERT INTO incident_task (id, incident_id, title, owner, due_at, follow_up, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [task.id, task.incidentID, task.title, task.owner, task.dueAt, task.followUp, task.createdAt, task.createdBy.description])
        }
        for task in plan.updatedTasks {
            try db.run(sql: "UPDATE incident_task SET done_at = ?, done_by = ?, change = ? WHERE id = ?",
                       arguments: [task.doneAt, task.doneBy?.description, task.change, task.id])
        }
        for entry in plan.timeline {
            try db.run(sql: "INSERT INTO incident_timeline (incident_id, at, actor, kind, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [entry.incidentID, entry.at, entry.actor.description, entry.kind.rawValue, entry.detail])
        }
        for entry in plan.audit {
            try appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
        }
        try enqueue(plan.outbox, db)
        for start in plan.pages { try startPage(db, start) }
        if let pager {
            for subject in plan.acknowledgedPages {
                let acknowledger = plan.updated?.acknowledgedBy.flatMap { $0.description.isEmpty ? nil : $0 }
                let resolving = plan.updated.map { !$0.status.isActive } ?? false
                try stopPages(db, subject: subject, acknowledgedBy: resolving ? nil : acknowledger, pager: pager, now: now)
            }
        }
    }

    static func startPage(_ db: Database, _ start: PageStart) throws {
        // One open page per subject: a second start (a severity raised before anyone answered) leaves the first running.
        if try db.cachedOne(Int64.self, sql: "SELECT id FROM page INDEXED BY page_by_subject WHERE subject = ? AND acknowledged_at IS NULL AND resolved_at IS NULL",
                            arguments: [start.subject]) != nil { return }
        let page = PageRecord(id: try nextID(db, "page"), start: start)
        try db.run(sql: """
            INSERT INTO page (id, subject, policy, summary, severity, started_at, next_step, next_at, paged) VALUES (?, ?, ?, ?, ?, ?, 0, ?, '[]')
            """, arguments: [page.id, page.subject, page.policy, page.summary, page.severity, page.startedAt, page.nextAt])
    }

    static func stopPages(_ db: Database, subject: String, acknowledgedBy actor: ActorRef?, pager: Pager, now: Int64) throws {
        let open = try db.cachedRows(sql: "SELECT * FROM page INDEXED BY page_by_subject WHERE subject = ? AND acknowledged_at IS NULL AND resolved_at IS NULL",
                                     arguments: [subject]).map(page(row:))
        for page in open {
            let (stopped, outbox) = pager.stop(page, acknowledgedBy: actor, now: now)
            try savePage(db, stopped)
            try enqueue(outbox, db)
            try appendAudit(db, at: now, actor: (actor ?? .system("pager")).description, action: actor == nil ? "page.resolve" : "page.acknowledge",
                            target: subject, detail: #"{"page":\#(page.id)}"#)
        }
    }

    // MARK: Rows

    static func requireIncident(_ db: Database, _ id: Int64) throws -> IncidentRecord {
        guard let record = try loadIncident(db, id) else { throw IncidentError(.notFound, "there is no incident \(id)") }
        return record
    }

    static func loadIncident(_ db: Database, _ id: Int64) throws -> IncidentRecord? {
        try db.cachedRow(sql: "SELECT * FROM incident WHERE id = ?", arguments: [id]).map(incident(row:))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static func encode<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T { try JSONDecoder().decode(type, from: Data(text.utf8)) }

    static func incident(row: Row) throws -> IncidentRecord {
        let roles = try decode([String: String].self, row["roles"])
        var record = IncidentRecord(
            id: row["id"], title: row["title"], summary: row["summary"], severity: row["severity"],
            status: try row.decode(IncidentStatus.self, "status", table: "incident"),
            roles: Dictionary(uniqueKeysWithValues: roles.compactMap { key, value in IncidentRole(rawValue: key).map { ($0, value) } }),
            participants: try decode([String].self, row["participants"]), stakeholders: try decode([String].self, row["stakeholders"]),
            source: try row.decode(IncidentSource.self, "source", table: "incident"), sourceRef: row["source_ref"],
            createdAt: row["created_at"], createdBy: try row.actor("created_by", table: "incident"), detectedAt: row["detected_at"])
        record.acknowledgedAt = row["acknowledged_at"]
        record.acknowledgedBy = try row.actorIfPresent("acknowledged_by", table: "incident")
        record.identifiedAt = row["identified_at"]
        record.mitigatedAt = row["mitigated_at"]
        record.resolvedAt = row["resolved_at"]
        record.closedAt = row["closed_at"]
        record.lastUpdateAt = row["last_update_at"]
        record.updateDueAt = row["update_due_at"]
        record.review = row["review"]
        return record
    }

    static func incidentValues(_ record: IncidentRecord) throws -> StatementArguments {
        let roles = Dictionary(uniqueKeysWithValues: record.roles.map { ($0.key.rawValue, $0.value) })
        let values: [any DatabaseValueConvertible & Sendable] = [
            record.title, record.summary, record.severity, record.status.rawValue, try encode(roles), try encode(record.participants), try encode(record.stakeholders),
            record.source.rawValue,
        ]
        let optionals: [(any DatabaseValueConvertible & Sendable)?] = [
            record.sourceRef, record.createdAt, record.createdBy.description, record.detectedAt, record.acknowledgedAt, record.acknowledgedBy?.description,
            record.identifiedAt, record.mitigatedAt, record.resolvedAt, record.closedAt, record.lastUpdateAt, record.updateDueAt, record.review, record.id,
        ]
        return StatementArguments(values.map { $0 as (any DatabaseValueConvertible)? } + optionals.map { $0 as (any DatabaseValueConvertible)? })
    }

    static let incidentColumns = ["title", "summary", "severity", "status", "roles", "participants", "stakeholders", "source", "source_ref", "created_at", "created_by",
                                  "detected_at", "acknowledged_at", "acknowledged_by", "identified_at", "mitigated_at", "resolved_at", "closed_at", "last_update_at",
                                  "update_due_at", "review", "id"]

    static func insertIncident(_ db: Database, _ record: IncidentRecord) throws {
        try db.run(sql: "INSERT INTO incident (\(incidentColumns.joined(separator: ", "))) VALUES (\(incidentColumns.map { _ in "?" }.joined(separator: ", ")))",
                   arguments: try incidentValues(record))
    }

    static func saveIncident(_ db: Database, _ record: IncidentRecord) throws {
        try db.run(sql: "UPDATE incident SET \(incidentColumns.dropLast().map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
                   arguments: try incidentValues(record))
    }

    static func timeline(_ db: Database, _ id: Int64) throws -> [IncidentTimelineEntry] {
        try db.cachedRows(sql: "SELECT * FROM incident_timeline INDEXED BY incident_timeline_by_incident WHERE incident_id = ? ORDER BY id", arguments: [id]).map { row in
            IncidentTimelineEntry(id: row["id"], incidentID: row["incident_id"], at: row["at"], actor: try row.actor("actor", table: "incident_timeline"),
                                  kind: try row.decode(IncidentTimelineEntry.Kind.self, "kind", table: "incident_timeline"), detail: row["detail"])
        }
    }

    static func links(_ db: Database, _ id: Int64) throws -> [IncidentLinkRecord] {
        try db.cachedRows(sql: "SELECT * FROM incident_link WHERE incident_id = ? ORDER BY at, kind, ref", arguments: [id]).map { row in
            IncidentLinkRecord(incidentID: row["incident_id"], link: IncidentLink(try row.decode(IncidentLinkKind.self, "kind", table: "incident_link"), row["ref"]),
                               at: row["at"], by: try row.actor("by", table: "incident_link"))
        }
    }

    static func tasks(_ db: Database, _ id: Int64) throws -> [IncidentTask] {
        try db.cachedRows(sql: "SELECT * FROM incident_task INDEXED BY task_by_incident WHERE incident_id = ? ORDER BY id", arguments: [id]).map { row in
            var task = IncidentTask(id: row["id"], incidentID: row["incident_id"], title: row["title"], owner: row["owner"], dueAt: row["due_at"],
                                    followUp: row["follow_up"], createdAt: row["created_at"], createdBy: try row.actor("created_by", table: "incident_task"))
            task.doneAt = row["done_at"]
            task.doneBy = try row.actorIfPresent("done_by", table: "incident_task")
            task.change = row["change"]
            return task
        }
    }

    static func alert(row: Row) throws -> AlertRecord {
        var alert = AlertRecord(id: row["id"], rule: row["rule"], key: row["key"], series: try row.decode(AlertSeries.self, "series", table: "alert"),
                                state: try row.decode(AlertState.self, "state", table: "alert"), firstFiredAt: row["first_fired_at"],
                                lastFiredAt: row["last_fired_at"], firings: row["firings"], value: row["value"], baseline: row["baseline"], score: row["score"])
        alert.peak = row["peak"]
        alert.acknowledgedAt = row["acknowledged_at"]
        alert.acknowledgedBy = try row.actorIfPresent("acknowledged_by", table: "alert")
        alert.snoozedUntil = row["snoozed_until"]
        alert.resolvedAt = row["resolved_at"]
        alert.resolvedBy = try row.actorIfPresent("resolved_by", table: "alert")
        alert.incidentID = row["incident_id"]
        return alert
    }

    static func insertAlert(_ db: Database, _ alert: AlertRecord) throws {
        try db.run(sql: """
            INSERT INTO alert (id, rule, key, series, state, first_fired_at, last_fired_at, firings, value, baseline, score, peak)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [alert.id, alert.rule, alert.key, alert.series.rawValue, alert.state.rawValue, alert.firstFiredAt, alert.lastFiredAt, alert.firings,
                             alert.value, alert.baseline, alert.score, alert.peak])
    }

    static func saveAlert(_ db: Database, _ alert: AlertRecord) throws {
        try db.run(sql: """
            UPDATE alert SET state = ?, last_fired_at = ?, firings = ?, value = ?, baseline = ?, score = ?, peak = ?, acknowledged_at = ?, acknowledged_by = ?,
                snoozed_until = ?, resolved_at = ?, resolved_by = ?, incident_id = ? WHERE id = ?
            """, arguments: [alert.state.rawValue, alert.lastFiredAt, alert.firings, alert.value, alert.baseline, alert.score, alert.peak, alert.acknowledgedAt,
                             alert.acknowledgedBy?.description, alert.snoozedUntil, alert.resolvedAt, alert.resolvedBy?.description, alert.incidentID, alert.id])
    }

    static func page(row: Row) throws -> PageRecord {
        var page = PageRecord(id: row["id"], start: PageStart(subject: row["subject"], policy: row["policy"], summary: row["summary"], severity: row["severity"],
                                                               at: row["started_at"]))
        page.nextStep = row["next_step"]
        page.nextAt = row["next_at"]
        page.paged = try decode([String].self, row["paged"])
        page.acknowledgedAt = row["acknowledged_at"]
        page.acknowledgedBy = try row.actorIfPresent("acknowledged_by", table: "page")
        page.resolvedAt = row["resolved_at"]
        return page
    }

    static func savePage(_ db: Database, _ page: PageRecord) throws {
        try db.run(sql: "UPDATE page SET next_step = ?, next_at = ?, paged = ?, acknowledged_at = ?, acknowledged_by = ?, resolved_at = ? WHERE id = ?",
                   arguments: [page.nextStep, page.nextAt, try encode(page.paged), page.acknowledgedAt, page.acknowledgedBy?.description, page.resolvedAt, page.id])
    }
}
