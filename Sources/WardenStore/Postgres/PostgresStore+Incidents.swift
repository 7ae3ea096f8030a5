import Foundation
import Logging
import PostgresNIO
public import WardenCore
public import WardenIncidents

// Incidents on PostgreSQL: the same loads and plans as the SQLite store (IncidentPlanner,
// AlertPlanner, Pager decide; this applies). Writes that name new rows (`max(id) + 1`) take
// `review_head` first, as review's do; the record a change plans from is read `FOR UPDATE`.

extension PostgresStore: IncidentStore {
    // MARK: Incidents

    public func openIncident(_ draft: IncidentDraft, actor: ActorRef, settings: IncidentSettings, now: Int64) async throws -> IncidentRecord {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let (plan, record) = try IncidentPlanner(settings: settings, now: now)
                .open(draft, id: try await Self.nextID(connection, logger, "incident"), actor: actor)
            try await Self.apply(plan, connection, logger, pager: nil, now: now)
            return record
        }
    }

    public func changeIncident(id: Int64, _ change: IncidentChange, actor: ActorRef, settings: IncidentSettings, pager: Pager, now: Int64) async throws -> IncidentRecord {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let record = try await Self.requireIncident(connection, logger, id)
            let tasks = try await Self.tasks(connection, logger, id)
            let links = try await Self.links(connection, logger, id).map(\.link)
            let (plan, changed) = try IncidentPlanner(settings: settings, now: now)
                .change(record, tasks: tasks, links: links, change, actor: actor, nextTaskID: try await Self.nextID(connection, logger, "incident_task"))
            try await Self.apply(plan, connection, logger, pager: pager, now: now)
            return changed
        }
    }

    public func incident(id: Int64) async throws -> IncidentRecord? {
        try await rows("SELECT * FROM incident WHERE id = \(id)").first.map(Self.incident(row:))
    }

    public func incidents(status: IncidentStatus?, openOnly: Bool, before: Int64?, limit: Int) async throws -> [IncidentRecord] {
        var query = DynamicQuery()
        var conditions = ["id < \(query.bind(before ?? Int64.max))"]
        if let status { conditions.append("status = \(query.bind(status.rawValue))") }
        if openOnly { conditions.append("status <> 'closed'") }
        query.sql = "SELECT * FROM incident WHERE \(conditions.joined(separator: " AND ")) ORDER BY id DESC LIMIT \(query.bind(limit))"
        return try await rows(query.query).map(Self.incident(row:))
    }

    public func incidents(createdSince since: Int64, limit: Int) async throws -> [IncidentRecord] {
        try await rows("SELECT * FROM incident WHERE created_at >= \(since) ORDER BY created_at LIMIT \(limit)").map(Self.incident(row:))
    }

    public func incidentTimeline(id: Int64) async throws -> [IncidentTimelineEntry] {
        try await client.withConnection { connection in try await Self.timeline(connection, self.logger, id) }
    }

    public func incidentLinks(id: Int64) async throws -> [IncidentLinkRecord] {
        try await client.withConnection { connection in try await Self.links(connection, self.logger, id) }
    }

    public func incidentTasks(id: Int64) async throws -> [IncidentTask] {
        try await client.withConnection { connection in try await Self.tasks(connection, self.logger, id) }
    }

    public func incidents(linkedTo link: IncidentLink) async throws -> [IncidentRecord] {
        try await rows("""
            SELECT i.* FROM incident_link l JOIN incident i ON i.id = l.incident_id WHERE l.kind = \(link.kind.rawValue) AND l.ref = \(link.ref)
            ORDER BY i.id DESC LIMIT 50
            """).map(Self.incident(row:))
    }

    public func remindOverdueIncidents(settings: IncidentSettings, now: Int64, limit: Int) async throws -> Int {
        let logger = self.logger
        return try await transaction { connection in
            // Incidents another node is reminding about are passed over, not reminded twice.
            let due = try await connection.rows("""
                SELECT * FROM incident WHERE update_due_at <= \(now) ORDER BY update_due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger).map(Self.incident(row:))
            var count = 0
            for record in due {
                guard let (plan, _) = IncidentPlanner(settings: settings, now: now).remind(record) else {
                    // An incident whose severity left the pack: stop reminding rather than loop.
                    try await connection.query("UPDATE incident SET update_due_at = NULL WHERE id = \(record.id)", logger: logger)
                    continue
                }
                try await Self.apply(plan, connection, logger, pager: nil, now: now)
                count += 1
            }
            return count
        }
    }

    public func reviewFacts(incidentID: Int64, now: Int64) async throws -> ReviewFacts {
        let logger = self.logger
        return try await client.withConnection { connection in
            let record = try await Self.requireIncident(connection, logger, incidentID, lock: false)
            let links = try await Self.links(connection, logger, incidentID)
            var facts = ReviewFacts()
            for link in links where link.link.kind == .case {
                guard let caseID = Int64(link.link.ref),
                      let row = try await connection.rows("SELECT subject, queue, state FROM review_case WHERE id = \(caseID)", logger: logger).first?.cells
                else { continue }
                let decision = try await connection.rows("SELECT violation, category FROM decision WHERE case_id = \(caseID) ORDER BY id DESC LIMIT 1",
                                                         logger: logger).first?.cells
                let outcome = try decision.map { (try $0["violation"] as Bool ? "violation: " : "no violation: ") + (try $0["category"] as String) }
                facts.cases.append(.init(id: caseID, subject: try row["subject"], queue: try row["queue"], state: try row["state"], decision: outcome))
                for action in try await connection.rows("""
                    SELECT subject, action, created_at FROM enforcement_action WHERE case_id = \(caseID) AND reverses IS NULL ORDER BY id
                    """, logger: logger).map(\.cells) {
                    facts.actions.append(.init(subject: try action["subject"], action: try action["action"], at: try action["created_at"]))
                }
            }
            let alertIDs = Set(links.filter { $0.link.kind == .alert }.compactMap { Int64($0.link.ref) })
            var alerts = try await connection.rows("SELECT * FROM alert WHERE incident_id = \(incidentID) ORDER BY id", logger: logger).map(Self.alert(row:))
            for id in alertIDs.sorted() where !alerts.contains(where: { $0.id == id }) {
                if let alert = try await connection.rows("SELECT * FROM alert WHERE id = \(id)", logger: logger).first.map(Self.alert(row:)) { alerts.append(alert) }
            }
            facts.alerts = alerts
            let end = record.resolvedAt ?? now
            for link in links where link.link.kind == .rule {
                let count = try await connection.one(Int64.self, """
                    SELECT coalesce(sum(count), 0)::bigint FROM series_bucket WHERE series = 'signals_by_rule' AND key = \(link.link.ref)
                        AND minute >= \(record.detectedAt / 60_000) AND minute <= \(end / 60_000)
                    """, logger: logger) ?? 0
                facts.rules.append(.init(rule: link.link.ref, signals: Int(count)))
            }
            for subject in [record.target] + alerts.map(\.target) {
                facts.pages += try await connection.rows("SELECT * FROM page WHERE subject = \(subject) ORDER BY id", logger: logger).map(Self.page(row:))
            }
            return facts
        }
    }

    // MARK: Alerts

    public func evaluateAlerts(_ rules: [AlertRule], minute: Int64, settings: IncidentSettings, now: Int64) async throws -> [AlertRecord] {
        let logger = self.logger
        // Read the windows outside the write.
        let evaluated: [(AlertRule, [AlertRule.Finding], [String: Int64])] = try await client.withConnection { connection in
            let first = try await Self.historyStart(connection, logger)
            var evaluated: [(AlertRule, [AlertRule.Finding], [String: Int64])] = []
            for rule in rules {
                let (current, seasonal, trailing) = rule.windows(at: minute)
                func sums(_ window: AlertRule.Window) async throws -> [String: Double]? {
                    guard let first, window.after + 1 >= first else { return nil }
                    return try await Self.sums(connection, logger, rule.series, window)
                }
                var seasonalSums: [[String: Double]?] = []
                for window in seasonal { seasonalSums.append(try await sums(window)) }
                var trailingSums: [[String: Double]?] = []
                for window in trailing { trailingSums.append(try await sums(window)) }
                let inputs = AlertRule.Inputs(current: try await Self.sums(connection, logger, rule.series, current), seasonal: seasonalSums, trailing: trailingSums)
                let findings = rule.evaluate(inputs)
                var firstEvidence: [String: Int64] = [:]
                for finding in findings where finding.firing {
                    firstEvidence[finding.key] = try await connection.one(Int64.self, """
                        SELECT min(minute) FROM series_bucket WHERE series = \(rule.series.rawValue) AND key = \(finding.key)
                            AND minute > \(current.after) AND minute <= \(current.through) AND count > 0
                        """, logger: logger)
                }
                evaluated.append((rule, findings, firstEvidence))
            }
            return evaluated
        }
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            var opened: [AlertRecord] = []
            for (rule, findings, firstEvidence) in evaluated {
                let open = try await connection.rows("SELECT * FROM alert WHERE rule = \(rule.name) AND state <> 'resolved' FOR UPDATE", logger: logger)
                    .map(Self.alert(row:))
                guard !findings.isEmpty || !open.isEmpty else { continue }
                let round = AlertPlanner.round(rule: rule, findings: findings, open: open, now: now,
                                               nextID: try await Self.nextID(connection, logger, "alert"))
                for alert in round.opened { try await Self.insertAlert(connection, logger, alert) }
                for alert in round.updated { try await Self.saveAlert(connection, logger, alert) }
                for entry in round.audit { try await Self.appendAudit(connection, logger: logger, entry) }
                for var alert in round.opened {
                    if let severity = rule.incidentSeverity {
                        let detected = firstEvidence[alert.key].map { $0 * 60_000 } ?? alert.firstFiredAt
                        let draft = IncidentDraft(title: IncidentDraft.fitTitle("\(rule.name): \(alert.key)"),
                                                  summary: rule.description + (rule.description.isEmpty ? "" : "\n\n") + alert.summary,
                                                  severity: severity, links: SQLiteStore.alertLinks(alert), source: .alert, sourceRef: alert.target, detectedAt: detected)
                        var (plan, incident) = try IncidentPlanner(settings: settings, now: now)
                            .open(draft, id: try await Self.nextID(connection, logger, "incident"), actor: .system("alerts"))
                        if let policy = rule.page {
                            plan.pages = [PageStart(subject: incident.target, policy: policy, summary: "\(incident.severity) incident \(incident.id): \(incident.title)",
                                                    severity: settings.severity(severity)?.pagerSeverity ?? "error", at: now)]
                        }
                        try await Self.apply(plan, connection, logger, pager: nil, now: now)
                        alert.incidentID = incident.id
                        try await connection.query("UPDATE alert SET incident_id = \(incident.id) WHERE id = \(alert.id)", logger: logger)
                    } else if let policy = rule.page {
                        try await Self.startPage(connection, logger, PageStart(subject: alert.target, policy: policy, summary: alert.summary, severity: "warning", at: now))
                    }
                    opened.append(alert)
                }
            }
            return opened
        }
    }

    public func alert(id: Int64) async throws -> AlertRecord? {
        try await rows("SELECT * FROM alert WHERE id = \(id)").first.map(Self.alert(row:))
    }

    public func alerts(openOnly: Bool, rule: String?, limit: Int) async throws -> [AlertRecord] {
        var query = DynamicQuery()
        var conditions: [String] = []
        if openOnly { conditions.append("state <> 'resolved'") }
        if let rule { conditions.append("rule = \(query.bind(rule))") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        query.sql = "SELECT * FROM alert \(filter) ORDER BY id DESC LIMIT \(query.bind(limit))"
        return try await rows(query.query).map(Self.alert(row:))
    }

    public func alerts(firedSince since: Int64, limit: Int) async throws -> [AlertRecord] {
        try await rows("SELECT * FROM alert WHERE first_fired_at >= \(since) ORDER BY first_fired_at LIMIT \(limit)").map(Self.alert(row:))
    }

    public func commandAlert(id: Int64, _ command: AlertCommand, actor: ActorRef, pager: Pager, now: Int64) async throws -> AlertRecord {
        let logger = self.logger
        return try await transaction { connection in
            guard let alert = try await connection.rows("SELECT * FROM alert WHERE id = \(id) FOR UPDATE", logger: logger).first.map(Self.alert(row:)) else {
                throw IncidentError(.notFound, "there is no alert \(id)")
            }
            let (changed, audit) = try AlertPlanner.apply(command, to: alert, actor: actor, now: now)
            try await Self.saveAlert(connection, logger, changed)
            try await Self.appendAudit(connection, logger: logger, audit)
            switch command {
            case .acknowledge: try await Self.stopPages(connection, logger, subject: alert.target, acknowledgedBy: actor, pager: pager, now: now)
            case .resolve: try await Self.stopPages(connection, logger, subject: alert.target, acknowledgedBy: nil, pager: pager, now: now)
            case .snooze: break
            }
            return changed
        }
    }

    public func incidentFromAlert(id: Int64, severity: String, title: String?, actor: ActorRef, settings: IncidentSettings, now: Int64) async throws -> IncidentRecord {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            guard let alert = try await connection.rows("SELECT * FROM alert WHERE id = \(id) FOR UPDATE", logger: logger).first.map(Self.alert(row:)) else {
                throw IncidentError(.notFound, "there is no alert \(id)")
            }
            if let existing = alert.incidentID { throw IncidentError(.conflict, "alert \(id) already opened incident \(existing)") }
            let draft = IncidentDraft(title: title ?? IncidentDraft.fitTitle("\(alert.rule): \(alert.key)"), summary: alert.summary, severity: severity,
                                      links: SQLiteStore.alertLinks(alert), source: .alert, sourceRef: alert.target, detectedAt: alert.firstFiredAt)
            let (plan, incident) = try IncidentPlanner(settings: settings, now: now)
                .open(draft, id: try await Self.nextID(connection, logger, "incident"), actor: actor)
            try await Self.apply(plan, connection, logger, pager: nil, now: now)
            try await connection.query("UPDATE alert SET incident_id = \(incident.id) WHERE id = \(id)", logger: logger)
            return incident
        }
    }

    // MARK: Series

    public func recordSeries(batch: Int) async throws -> Int {
        let logger = self.logger
        let cursors = SQLiteStore.seriesCursors
        return try await transaction { connection in
            // One counter at a time: the cursors are read and advanced under this lock.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.seriesLock))", logger: logger)
            func cursor(_ name: String) async throws -> Int64 {
                try await connection.one(Int64.self, "SELECT seq FROM consumer_cursor WHERE name = \(name)", logger: logger) ?? 0
            }
            func advance(_ name: String, _ value: Int64) async throws {
                try await connection.query("""
                    INSERT INTO consumer_cursor (name, seq) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq
                    """, logger: logger)
            }
            var counts: [SQLiteStore.SeriesKey: Int64] = [:]
            var read = 0
            let eventCursor = try await cursor(cursors.events)
            let head = try await connection.one(Int64.self, "SELECT seq FROM log_head WHERE id = 1", logger: logger) ?? 0
            let eventsThrough = min(head, eventCursor + Int64(batch))
            if eventsThrough > eventCursor {
                for row in try await connection.rows("""
                    SELECT type, received_at / 60000 AS m, count(*) AS n FROM event WHERE seq > \(eventCursor) AND seq <= \(eventsThrough) GROUP BY type, m
                    """, logger: logger).map(\.cells) {
                    counts[SQLiteStore.SeriesKey(series: .events, minute: try row["m"], key: try row["type"]), default: 0] += try row["n"]
                }
                // Reports by reason, read from the bodies here (jsonb refuses some text JSON allows).
                for row in try await connection.rows("""
                    SELECT received_at / 60000, body FROM event WHERE type = 'report' AND seq > \(eventCursor) AND seq <= \(eventsThrough)
                    """, logger: logger) {
                    let (minute, body) = try row.decode((Int64, String).self)
                    var reason = "unknown"
                    if case .string(let text)? = JSONValue.parse(Array(body.utf8))?["data"]?["reason"] { reason = text }
                    counts[SQLiteStore.SeriesKey(series: .reports, minute: minute, key: reason), default: 0] += 1
                }
                read += Int(eventsThrough - eventCursor)
                try await advance(cursors.events, eventsThrough)
            }
            let signalCursor = try await cursor(cursors.signals)
            let signalsThrough = min(try await connection.one(Int64.self, "SELECT max(id) FROM signal", logger: logger) ?? 0, signalCursor + Int64(batch))
            if signalsThrough > signalCursor {
                for row in try await connection.rows("""
                    SELECT rule, rule_version, category, queue, created_at / 60000 AS m, count(*) AS n FROM signal WHERE id > \(signalCursor) AND id <= \(signalsThrough)
                    GROUP BY rule, rule_version, category, queue, m
                    """, logger: logger).map(\.cells) {
                    let rule: String = try row["rule"]
                    let minute: Int64 = try row["m"]
                    let n: Int64 = try row["n"]
                    if rule == "sla" {
                        let event: String = try row["rule_version"]
                        let queue: String = (try row["queue"] as String?) ?? ""
                        counts[SQLiteStore.SeriesKey(series: event.hasSuffix("breached") ? .slaBreaches : .slaWarnings, minute: minute, key: queue), default: 0] += n
                    } else {
                        counts[SQLiteStore.SeriesKey(series: .signalsByRule, minute: minute, key: rule), default: 0] += n
                        counts[SQLiteStore.SeriesKey(series: .signalsByCategory, minute: minute, key: try row["category"]), default: 0] += n
                    }
                }
                read += Int(signalsThrough - signalCursor)
                try await advance(cursors.signals, signalsThrough)
            }
            let caseCursor = try await cursor(cursors.cases)
            let casesThrough = min(try await connection.one(Int64.self, "SELECT max(id) FROM review_case", logger: logger) ?? 0, caseCursor + Int64(batch))
            if casesThrough > caseCursor {
                for row in try await connection.rows("""
                    SELECT queue, created_at / 60000 AS m, count(*) AS n FROM review_case WHERE id > \(caseCursor) AND id <= \(casesThrough) GROUP BY queue, m
                    """, logger: logger).map(\.cells) {
                    counts[SQLiteStore.SeriesKey(series: .cases, minute: try row["m"], key: try row["queue"]), default: 0] += try row["n"]
                }
                read += Int(casesThrough - caseCursor)
                try await advance(cursors.cases, casesThrough)
            }
            let flagCursor = try await cursor(cursors.flags)
            let firstPending = try await connection.one(Int64.self, "SELECT min(id) FROM classification_job WHERE state = 'pending'", logger: logger)
            let lastJob = try await connection.one(Int64.self, "SELECT max(id) FROM classification_job", logger: logger) ?? 0
            let flagsThrough = min(firstPending.map { $0 - 1 } ?? lastJob, flagCursor + Int64(batch))
            if flagsThrough > flagCursor {
                for row in try await connection.rows("""
                    SELECT rule, settled_at / 60000 AS m, count(*) AS n FROM classification_job
                    WHERE id > \(flagCursor) AND id <= \(flagsThrough) AND state = 'fired' GROUP BY rule, m
                    """, logger: logger).map(\.cells) {
                    counts[SQLiteStore.SeriesKey(series: .classifierFlags, minute: try row["m"], key: try row["rule"]), default: 0] += try row["n"]
                }
                read += Int(flagsThrough - flagCursor)
                try await advance(cursors.flags, flagsThrough)
            }
            for (key, count) in counts.sorted(by: { ($0.key.series.rawValue, $0.key.minute, $0.key.key) < ($1.key.series.rawValue, $1.key.minute, $1.key.key) }) {
                try await Self.addCount(connection, logger, key.series, SeriesCount(minute: key.minute, key: key.key, count: count))
            }
            return read
        }
    }

    /// The advisory lock the series counter holds for its transaction ("series" in ASCII).
    static let seriesLock: Int64 = 0x73_65_72_69_65_73

    static func addCount(_ connection: PostgresConnection, _ logger: Logger, _ series: AlertSeries, _ count: SeriesCount) async throws {
        try await connection.query("""
            INSERT INTO series_bucket (series, minute, key, count) VALUES (\(series.rawValue), \(count.minute), \(count.key), \(count.count))
            ON CONFLICT (series, minute, key) DO UPDATE SET count = series_bucket.count + excluded.count
            """, logger: logger)
    }

    public func addSeriesCounts(_ series: AlertSeries, _ counts: [SeriesCount]) async throws {
        let logger = self.logger
        try await transaction { connection in
            for count in counts { try await Self.addCount(connection, logger, series, count) }
        }
    }

    public func seriesBuckets(_ series: AlertSeries, after: Int64, through: Int64) async throws -> [SeriesCount] {
        try await rows("""
            SELECT minute, key, count FROM series_bucket WHERE series = \(series.rawValue) AND minute > \(after) AND minute <= \(through) ORDER BY minute, key
            """).map { row in
            let (minute, key, count) = try row.decode((Int64, String, Int64).self)
            return SeriesCount(minute: minute, key: key, count: count)
        }
    }

    public func seriesHistoryStart() async throws -> Int64? {
        try await client.withConnection { connection in try await Self.historyStart(connection, self.logger) }
    }

    static func historyStart(_ connection: PostgresConnection, _ logger: Logger) async throws -> Int64? {
        try await connection.one(Int64.self, "SELECT min(minute) FROM series_bucket WHERE series = 'events'", logger: logger)
    }

    static func sums(_ connection: PostgresConnection, _ logger: Logger, _ series: AlertSeries, _ window: AlertRule.Window) async throws -> [String: Double] {
        var sums: [String: Double] = [:]
        for row in try await connection.rows("""
            SELECT key, sum(count)::bigint FROM series_bucket WHERE series = \(series.rawValue) AND minute > \(window.after) AND minute <= \(window.through) GROUP BY key
            """, logger: logger) {
            let (key, n) = try row.decode((String, Int64).self)
            sums[key] = Double(n)
        }
        return sums
    }

    // MARK: Pages and on-call

    public func advancePages(pager: Pager, now: Int64, limit: Int) async throws -> Int {
        let logger = self.logger
        return try await transaction { connection in
            let due = try await connection.rows("SELECT * FROM page WHERE next_at <= \(now) ORDER BY next_at LIMIT \(limit) FOR UPDATE SKIP LOCKED", logger: logger)
                .map(Self.page(row:))
            for page in due {
                let (advanced, sent, outbox) = pager.advance(page, now: now)
                var saved = advanced
                if pager.policies[page.policy] == nil { saved.nextAt = nil }
                try await Self.savePage(connection, logger, saved)
                try await Self.enqueue(outbox, connection, logger)
                for person in sent {
                    let detail = #"{"page":\#(page.id),"person":\#(jsonString(person.person)),"policy":\#(jsonString(page.policy)),"step":\#(person.step + 1)}"#
                    try await Self.appendAudit(connection, logger: logger, at: now, actor: "system:pager", action: "page.sent", target: page.subject, detail: detail)
                    if page.subject.hasPrefix("incident:"), let id = Int64(page.subject.dropFirst("incident:".count)) {
                        try await connection.query("""
                            INSERT INTO incident_timeline (incident_id, at, actor, kind, detail) VALUES (\(id), \(now), 'system:pager', 'page', \(detail))
                            """, logger: logger)
                    }
                }
            }
            return due.count
        }
    }

    public func pages(subject: String?, openOnly: Bool, limit: Int) async throws -> [PageRecord] {
        var query = DynamicQuery()
        var conditions: [String] = []
        if let subject { conditions.append("subject = \(query.bind(subject))") }
        if openOnly { conditions.append("acknowledged_at IS NULL AND resolved_at IS NULL") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        query.sql = "SELECT * FROM page \(filter) ORDER BY id DESC LIMIT \(query.bind(limit))"
        return try await rows(query.query).map(Self.page(row:))
    }

    public func pages(startedSince since: Int64, limit: Int) async throws -> [PageRecord] {
        try await rows("SELECT * FROM page WHERE started_at >= \(since) ORDER BY started_at LIMIT \(limit)").map(Self.page(row:))
    }

    public func addOverride(schedule: String, person: String, startsAt: Int64, endsAt: Int64, actor: ActorRef, now: Int64) async throws -> OnCallOverride {
        let logger = self.logger
        return try await transaction { connection in
            try await Self.lockReviewHead(connection, logger)
            let id = try await Self.nextID(connection, logger, "oncall_override")
            try await connection.query("""
                INSERT INTO oncall_override (id, schedule, person, starts_at, ends_at, created_by)
                VALUES (\(id), \(schedule), \(person), \(startsAt), \(endsAt), \(actor.description))
                """, logger: logger)
            let detail = #"{"override":\#(id),"person":\#(jsonString(person)),"starts_at":\#(jsonString(Timestamp.formatRFC3339(startsAt))),"ends_at":\#(jsonString(Timestamp.formatRFC3339(endsAt)))}"#
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "oncall.override", target: "schedule:\(schedule)",
                                       detail: detail)
            return OnCallOverride(id: id, schedule: schedule, person: person, startsAt: startsAt, endsAt: endsAt, createdBy: actor)
        }
    }

    public func overrides(now: Int64) async throws -> [OnCallOverride] {
        try await rows("SELECT * FROM oncall_override WHERE ends_at > \(now) ORDER BY starts_at, id").map(\.cells).map { row in
            OnCallOverride(id: try row["id"], schedule: try row["schedule"], person: try row["person"], startsAt: try row["starts_at"], endsAt: try row["ends_at"],
                           createdBy: try row.actor("created_by", table: "oncall_override"))
        }
    }

    public func deleteOverride(id: Int64, actor: ActorRef, now: Int64) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard try await !connection.rows("DELETE FROM oncall_override WHERE id = \(id) RETURNING id", logger: logger).isEmpty else { return false }
            try await Self.appendAudit(connection, logger: logger, at: now, actor: actor.description, action: "oncall.override.delete", target: "override:\(id)",
                                       detail: "{}")
            return true
        }
    }

    // MARK: Automations

    public func automationCursor() async throws -> Int64? {
        try await one(Int64.self, "SELECT seq FROM consumer_cursor WHERE name = \(SQLiteStore.automationCursorName)")
    }

    public func setAutomationCursor(_ seq: Int64) async throws {
        try await rows("""
            INSERT INTO consumer_cursor (name, seq) VALUES (\(SQLiteStore.automationCursorName), \(seq)) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq
            """)
    }

    public func beginAutomationRun(automation: String, triggerSeq: Int64, target: String, at: Int64) async throws -> Int64? {
        try await one(Int64.self, """
            INSERT INTO automation_run (automation, trigger_seq, target, at, outcome, detail) VALUES (\(automation), \(triggerSeq), \(target), \(at), 'running', '{}')
            ON CONFLICT (automation, trigger_seq) DO NOTHING RETURNING id
            """)
    }

    public func finishAutomationRun(id: Int64, outcome: String, detail: String, audit: AuditDraft) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await connection.query("UPDATE automation_run SET outcome = \(outcome), detail = \(detail) WHERE id = \(id)", logger: logger)
            try await Self.appendAudit(connection, logger: logger, audit)
        }
    }

    public func automationRuns(automation: String?, limit: Int) async throws -> [AutomationRun] {
        let found = if let automation {
            try await rows("SELECT * FROM automation_run WHERE automation = \(automation) ORDER BY id DESC LIMIT \(limit)")
        } else {
            try await rows("SELECT * FROM automation_run ORDER BY id DESC LIMIT \(limit)")
        }
        return try found.map(\.cells).map {
            AutomationRun(id: try $0["id"], automation: try $0["automation"], triggerSeq: try $0["trigger_seq"], target: try $0["target"], at: try $0["at"],
                          outcome: try $0["outcome"], detail: try $0["detail"])
        }
    }

    public func automationRunCount(automation: String, since: Int64) async throws -> Int {
        Int(try await one(Int64.self, """
            SELECT count(*) FROM automation_run WHERE automation = \(automation) AND at >= \(since) AND outcome <> 'skipped'
            """) ?? 0)
    }

    public func notify(_ messages: [OutboxMessage], audit: AuditDraft) async throws {
        let logger = self.logger
        try await transaction { connection in
            try await Self.enqueue(messages, connection, logger)
            try await Self.appendAudit(connection, logger: logger, audit)
        }
    }

    // MARK: Applying plans

    static func apply(_ plan: IncidentPlan, _ connection: PostgresConnection, _ logger: Logger, pager: Pager?, now: Int64) async throws {
        if let record = plan.inserted { try await writeIncident(connection, logger, record, insert: true) }
        if let record = plan.updated { try await writeIncident(connection, logger, record, insert: false) }
        for link in plan.links {
            try await connection.query("""
                INSERT INTO incident_link (incident_id, kind, ref, at, by_actor) VALUES (\(link.incidentID), \(link.link.kind.rawValue), \(link.link.ref), \(link.at),
                    \(link.by.description)) ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        let incidentID = plan.inserted?.id ?? plan.updated?.id
        for link in plan.unlinks {
            try await connection.query("DELETE FROM incident_link WHERE incident_id = \(incidentID) AND kind = \(link.kind.rawValue) AND ref = \(link.ref)",
                                       logger: logger)
        }
        for task in plan.tasks {
            try await connection.query("""
                INSERT INTO incident_task (id, incident_id, title, owner, due_at, follow_up, created_at, created_by)
                VALUES (\(task.id), \(task.incidentID), \(task.title), \(task.owner), \(task.dueAt), \(task.followUp), \(task.createdAt), \(task.createdBy.description))
                """, logger: logger)
        }
        for task in plan.updatedTasks {
            try await connection.query("""
                UPDATE incident_task SET done_at = \(task.doneAt), done_by = \(task.doneBy?.description), change = \(task.change) WHERE id = \(task.id)
                """, logger: logger)
        }
        for entry in plan.timeline {
            try await connection.query("""
                INSERT INTO incident_timeline (incident_id, at, actor, kind, detail)
                VALUES (\(entry.incidentID), \(entry.at), \(entry.actor.description), \(entry.kind.rawValue), \(entry.detail))
                """, logger: logger)
        }
        for entry in plan.audit { try await appendAudit(connection, logger: logger, entry) }
        try await enqueue(plan.outbox, connection, logger)
        for start in plan.pages { try await startPage(connection, logger, start) }
        if let pager {
            for subject in plan.acknowledgedPages {
                let acknowledger = plan.updated?.acknowledgedBy.flatMap { $0.description.isEmpty ? nil : $0 }
                let resolving = plan.updated.map { !$0.status.isActive } ?? false
                try await stopPages(connection, logger, subject: subject, acknowledgedBy: resolving ? nil : acknowledger, pager: pager, now: now)
            }
        }
    }

    static func appendAudit(_ connection: PostgresConnection, logger: Logger, _ entry: AuditDraft) async throws {
        try await appendAudit(connection, logger: logger, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
    }

    static func startPage(_ connection: PostgresConnection, _ logger: Logger, _ start: PageStart) async throws {
        // One open page per subject: a second start leaves the first running.
        if try await !connection.rows("SELECT id FROM page WHERE subject = \(start.subject) AND acknowledged_at IS NULL AND resolved_at IS NULL",
                                      logger: logger).isEmpty { return }
        let page = PageRecord(id: try await nextID(connection, logger, "page"), start: start)
        try await connection.query("""
            INSERT INTO page (id, subject, policy, summary, severity, started_at, next_step, next_at, paged)
            VALUES (\(page.id), \(page.subject), \(page.policy), \(page.summary), \(page.severity), \(page.startedAt), 0, \(page.nextAt), '[]')
            """, logger: logger)
    }

    static func stopPages(_ connection: PostgresConnection, _ logger: Logger, subject: String, acknowledgedBy actor: ActorRef?, pager: Pager, now: Int64) async throws {
        let open = try await connection.rows("""
            SELECT * FROM page WHERE subject = \(subject) AND acknowledged_at IS NULL AND resolved_at IS NULL ORDER BY id FOR UPDATE
            """, logger: logger).map(page(row:))
        for page in open {
            let (stopped, outbox) = pager.stop(page, acknowledgedBy: actor, now: now)
            try await savePage(connection, logger, stopped)
            try await enqueue(outbox, connection, logger)
            try await appendAudit(connection, logger: logger, at: now, actor: (actor ?? .system("pager")).description,
                                  action: actor == nil ? "page.resolve" : "page.acknowledge", target: subject, detail: #"{"page":\#(page.id)}"#)
        }
    }

    // MARK: Rows

    static func requireIncident(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64, lock: Bool = true) async throws -> IncidentRecord {
        guard let record = try await connection.rows("SELECT * FROM incident WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")", logger: logger)
            .first.map(incident(row:)) else { throw IncidentError(.notFound, "there is no incident \(id)") }
        return record
    }

    static func incident(row: PostgresRow) throws -> IncidentRecord {
        let row = row.cells
        let roles = try decodeJSON([String: String].self, row["roles"])
        var record = IncidentRecord(
            id: try row["id"], title: try row["title"], summary: try row["summary"], severity: try row["severity"],
            status: try row.decode(IncidentStatus.self, "status", table: "incident"),
            roles: Dictionary(uniqueKeysWithValues: roles.compactMap { key, value in IncidentRole(rawValue: key).map { ($0, value) } }),
            participants: try decodeJSON([String].self, row["participants"]), stakeholders: try decodeJSON([String].self, row["stakeholders"]),
            source: try row.decode(IncidentSource.self, "source", table: "incident"), sourceRef: try row["source_ref"],
            createdAt: try row["created_at"], createdBy: try row.actor("created_by", table: "incident"), detectedAt: try row["detected_at"])
        record.acknowledgedAt = try row["acknowledged_at"]
        record.acknowledgedBy = try row.actorIfPresent("acknowledged_by", table: "incident")
        record.identifiedAt = try row["identified_at"]
        record.mitigatedAt = try row["mitigated_at"]
        record.resolvedAt = try row["resolved_at"]
        record.closedAt = try row["closed_at"]
        record.lastUpdateAt = try row["last_update_at"]
        record.updateDueAt = try row["update_due_at"]
        record.review = try row["review"]
        return record
    }

    static func writeIncident(_ connection: PostgresConnection, _ logger: Logger, _ record: IncidentRecord, insert: Bool) async throws {
        let roles = Dictionary(uniqueKeysWithValues: record.roles.map { ($0.key.rawValue, $0.value) })
        var query = DynamicQuery()
        let values = [
            query.bind(record.title), query.bind(record.summary), query.bind(record.severity), query.bind(record.status.rawValue), query.bind(try encodeJSON(roles)),
            query.bind(try encodeJSON(record.participants)), query.bind(try encodeJSON(record.stakeholders)), query.bind(record.source.rawValue),
            query.bind(record.sourceRef), query.bind(record.createdAt), query.bind(record.createdBy.description), query.bind(record.detectedAt),
            query.bind(record.acknowledgedAt), query.bind(record.acknowledgedBy?.description), query.bind(record.identifiedAt), query.bind(record.mitigatedAt),
            query.bind(record.resolvedAt), query.bind(record.closedAt), query.bind(record.lastUpdateAt), query.bind(record.updateDueAt), query.bind(record.review),
        ]
        let id = query.bind(record.id)
        let columns = SQLiteStore.incidentColumns.dropLast()
        if insert {
            query.sql = "INSERT INTO incident (\(columns.joined(separator: ", ")), id) VALUES (\(values.joined(separator: ", ")), \(id))"
        } else {
            query.sql = "UPDATE incident SET \(zip(columns, values).map { "\($0) = \($1)" }.joined(separator: ", ")) WHERE id = \(id)"
        }
        try await connection.query(query.query, logger: logger)
    }

    static func timeline(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws -> [IncidentTimelineEntry] {
        try await connection.rows("SELECT * FROM incident_timeline WHERE incident_id = \(id) ORDER BY id", logger: logger).map(\.cells).map { row in
            IncidentTimelineEntry(id: try row["id"], incidentID: try row["incident_id"], at: try row["at"], actor: try row.actor("actor", table: "incident_timeline"),
                                  kind: try row.decode(IncidentTimelineEntry.Kind.self, "kind", table: "incident_timeline"), detail: try row["detail"])
        }
    }

    static func links(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws -> [IncidentLinkRecord] {
        try await connection.rows("SELECT * FROM incident_link WHERE incident_id = \(id) ORDER BY at, kind, ref", logger: logger).map(\.cells).map { row in
            IncidentLinkRecord(incidentID: try row["incident_id"], link: IncidentLink(try row.decode(IncidentLinkKind.self, "kind", table: "incident_link"), try row["ref"]),
                               at: try row["at"], by: try row.actor("by_actor", table: "incident_link"))
        }
    }

    static func tasks(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws -> [IncidentTask] {
        try await connection.rows("SELECT * FROM incident_task WHERE incident_id = \(id) ORDER BY id", logger: logger).map(\.cells).map { row in
            var task = IncidentTask(id: try row["id"], incidentID: try row["incident_id"], title: try row["title"], owner: try row["owner"], dueAt: try row["due_at"],
                                    followUp: try row["follow_up"], createdAt: try row["created_at"], createdBy: try row.actor("created_by", table: "incident_task"))
            task.doneAt = try row["done_at"]
            task.doneBy = try row.actorIfPresent("done_by", table: "incident_task")
            task.change = try row["change"]
            return task
        }
    }

    static func alert(row: PostgresRow) throws -> AlertRecord {
        let row = row.cells
        var alert = AlertRecord(id: try row["id"], rule: try row["rule"], key: try row["key"], series: try row.decode(AlertSeries.self, "series", table: "alert"),
                                state: try row.decode(AlertState.self, "state", table: "alert"), firstFiredAt: try row["first_fired_at"],
                                lastFiredAt: try row["last_fired_at"], firings: try row.int("firings"), value: try row["value"], baseline: try row["baseline"],
                                score: try row["score"])
        alert.peak = try row["peak"]
        alert.acknowledgedAt = try row["acknowledged_at"]
        alert.acknowledgedBy = try row.actorIfPresent("acknowledged_by", table: "alert")
        alert.snoozedUntil = try row["snoozed_until"]
        alert.resolvedAt = try row["resolved_at"]
        alert.resolvedBy = try row.actorIfPresent("resolved_by", table: "alert")
        alert.incidentID = try row["incident_id"]
        return alert
    }

    static func insertAlert(_ connection: PostgresConnection, _ logger: Logger, _ alert: AlertRecord) async throws {
        try await connection.query("""
            INSERT INTO alert (id, rule, key, series, state, first_fired_at, last_fired_at, firings, value, baseline, score, peak)
            VALUES (\(alert.id), \(alert.rule), \(alert.key), \(alert.series.rawValue), \(alert.state.rawValue), \(alert.firstFiredAt), \(alert.lastFiredAt),
                    \(Int64(alert.firings)), \(alert.value), \(alert.baseline), \(alert.score), \(alert.peak))
            """, logger: logger)
    }

    static func saveAlert(_ connection: PostgresConnection, _ logger: Logger, _ alert: AlertRecord) async throws {
        try await connection.query("""
            UPDATE alert SET state = \(alert.state.rawValue), last_fired_at = \(alert.lastFiredAt), firings = \(Int64(alert.firings)), value = \(alert.value),
                baseline = \(alert.baseline), score = \(alert.score), peak = \(alert.peak), acknowledged_at = \(alert.acknowledgedAt),
                acknowledged_by = \(alert.acknowledgedBy?.description), snoozed_until = \(alert.snoozedUntil), resolved_at = \(alert.resolvedAt),
                resolved_by = \(alert.resolvedBy?.description), incident_id = \(alert.incidentID) WHERE id = \(alert.id)
            """, logger: logger)
    }

    static func page(row: PostgresRow) throws -> PageRecord {
        let row = row.cells
        var page = PageRecord(id: try row["id"], start: PageStart(subject: try row["subject"], policy: try row["policy"], summary: try row["summary"],
                                                                   severity: try row["severity"], at: try row["started_at"]))
        page.nextStep = try row.int("next_step")
        page.nextAt = try row["next_at"]
        page.paged = try decodeJSON([String].self, row["paged"])
        page.acknowledgedAt = try row["acknowledged_at"]
        page.acknowledgedBy = try row.actorIfPresent("acknowledged_by", table: "page")
        page.resolvedAt = try row["resolved_at"]
        return page
    }

    static func savePage(_ connection: PostgresConnection, _ logger: Logger, _ page: PageRecord) async throws {
        try await connection.query("""
            UPDATE page SET next_step = \(Int64(page.nextStep)), next_at = \(page.nextAt), paged = \(try encodeJSON(page.paged)),
                acknowledged_at = \(page.acknowledgedAt), acknowledged_by = \(page.acknowledgedBy?.description), resolved_at = \(page.resolvedAt)
            WHERE id = \(page.id)
            """, logger: logger)
    }
}
