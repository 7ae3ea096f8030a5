/// An alert rule replayed over stored per-minute series: what it would have fired, minute by
/// minute, with the same evaluation and the same deduplication as the live evaluator.
public struct AlertBacktest: Sendable, Equatable {
    /// Every alert it would have opened (resolved ones carry when they resolved).
    public var alerts: [AlertRecord]
    /// Minutes evaluated.
    public var minutes: Int
    /// The first and last minute evaluated.
    public var from: Int64
    public var through: Int64

    /// Replays `rule` over `buckets` for the minutes `from < m ≤ through`. `buckets` hold every count
    /// of the series in `after < m ≤ through` (a minute without one counted zero); `firstMinute` is where
    /// counting started. Windows reaching before either have no data (as in the live evaluator).
    public static func run(rule: AlertRule, buckets: [SeriesCount], after: Int64, firstMinute: Int64?, from: Int64, through: Int64) -> AlertBacktest {
        // Prefix sums per key over the minutes covered, so each window is two lookups.
        let start = after
        let width = Int(max(0, through - start)) + 1
        var prefix: [String: [Double]] = [:]
        for bucket in buckets where bucket.minute > start && bucket.minute <= through {
            prefix[bucket.key, default: [Double](repeating: 0, count: width)][Int(bucket.minute - start)] += Double(bucket.count)
        }
        for key in prefix.keys {
            var running = 0.0
            prefix[key] = prefix[key]!.map { running += $0; return running }
        }
        func total(_ key: String, _ minute: Int64) -> Double {
            guard let sums = prefix[key] else { return 0 }
            let index = Int(min(max(minute, start), through) - start)
            return sums[index]
        }
        func sums(_ window: AlertRule.Window) -> [String: Double]? {
            guard let firstMinute, window.after + 1 >= firstMinute, window.after >= start else { return nil }
            var result: [String: Double] = [:]
            for key in prefix.keys {
                let value = total(key, window.through) - total(key, window.after)
                if value != 0 { result[key] = value }
            }
            return result
        }
        var open: [AlertRecord] = []
        var all: [AlertRecord] = []
        var nextID: Int64 = 1
        var minute = from + 1
        while minute <= through {
            let (current, seasonal, trailing) = rule.windows(at: minute)
            let currentSums = firstMinute.map { _ in sums(current) ?? [:] } ?? [:]
            let findings = rule.evaluate(.init(current: currentSums, seasonal: seasonal.map(sums), trailing: trailing.map(sums)))
            if !findings.isEmpty || !open.isEmpty {
                let now = (minute + 1) * 60_000
                let round = AlertPlanner.round(rule: rule, findings: findings, open: open, now: now, nextID: nextID)
                nextID += Int64(round.opened.count)
                for alert in round.updated {
                    if let index = all.firstIndex(where: { $0.id == alert.id }) { all[index] = alert }
                }
                all += round.opened
                open = all.filter { $0.state.isOpen }
            }
            minute += 1
        }
        return AlertBacktest(alerts: all, minutes: Int(max(0, through - from)), from: from + 1, through: through)
    }
}

/// One minute's count of one key (the backtest's input).
public struct SeriesCount: Sendable, Equatable {
    public var minute: Int64
    public var key: String
    public var count: Int64

    public init(minute: Int64, key: String, count: Int64) {
        self.minute = minute
        self.key = key
        self.count = count
    }
}

/// How the response went over a period: MTTA and MTTR by severity, alert volume and precision,
/// pages per person per week.
public struct IncidentMeasures: Sendable, Equatable {
    public struct Severity: Sendable, Equatable {
        public var severity: String
        public var incidents: Int
        /// Mean time to acknowledge / resolve (ms) over those acknowledged / resolved.
        public var mtta: Int64?
        public var mttr: Int64?
    }
    public struct Rule: Sendable, Equatable {
        public var rule: String
        public var alerts: Int
        /// Alerts that led to an incident.
        public var withIncident: Int
        public var precision: Double? { alerts == 0 ? nil : Double(withIncident) / Double(alerts) }
    }
    public struct Person: Sendable, Equatable {
        public var person: String
        public var pages: Int
        public var perWeek: Double
    }
    public var severities: [Severity]
    public var rules: [Rule]
    public var people: [Person]
    public var alerts: Int
    public var alertsWithIncident: Int
    public var days: Double

    public init(incidents: [IncidentRecord], alerts: [AlertRecord], pages: [PageRecord], since: Int64, now: Int64) {
        days = Double(max(1, now - since)) / 86_400_000
        var bySeverity: [String: [IncidentRecord]] = [:]
        for incident in incidents { bySeverity[incident.severity, default: []].append(incident) }
        func mean(_ values: [Int64]) -> Int64? { values.isEmpty ? nil : values.reduce(0, +) / Int64(values.count) }
        severities = bySeverity.keys.sorted().map { severity in
            let list = bySeverity[severity]!
            return Severity(severity: severity, incidents: list.count, mtta: mean(list.compactMap { incident in incident.acknowledgedAt.map { $0 - incident.createdAt } }),
                            mttr: mean(list.compactMap { incident in incident.resolvedAt.map { $0 - incident.createdAt } }))
        }
        var byRule: [String: Rule] = [:]
        for alert in alerts {
            byRule[alert.rule, default: Rule(rule: alert.rule, alerts: 0, withIncident: 0)].alerts += 1
            if alert.incidentID != nil { byRule[alert.rule]!.withIncident += 1 }
        }
        rules = byRule.values.sorted { $0.rule < $1.rule }
        self.alerts = alerts.count
        alertsWithIncident = alerts.filter { $0.incidentID != nil }.count
        var counts: [String: Int] = [:]
        for page in pages { for person in page.paged { counts[person, default: 0] += 1 } }
        let weeks = max(days / 7, 1.0 / 7)
        people = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { Person(person: $0.key, pages: $0.value, perWeek: (Double($0.value) / weeks * 10).rounded() / 10) }
    }
}
