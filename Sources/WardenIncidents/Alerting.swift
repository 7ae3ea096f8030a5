import Foundation
public import WardenCore

/// The series Warden keeps per minute for alerting, each counted by one key.
public enum AlertSeries: String, Sendable, Codable, CaseIterable {
    /// Events taken in, by type (intake volume).
    case events
    /// Rule and classifier signals, by rule.
    case signalsByRule = "signals_by_rule"
    /// Signals by taxonomy category.
    case signalsByCategory = "signals_by_category"
    /// User reports, by reason.
    case reports
    /// Review cases opened, by queue.
    case cases
    /// SLA warnings raised, by queue.
    case slaWarnings = "sla_warnings"
    /// SLA breaches, by queue.
    case slaBreaches = "sla_breaches"
    /// Rules whose classifier condition flagged an event, by rule (the classifier flag rate).
    case classifierFlags = "classifier_flags"

    /// What the key is.
    public var keyName: String {
        switch self {
        case .events: "event type"
        case .signalsByRule, .classifierFlags: "rule"
        case .signalsByCategory: "category"
        case .reports: "reason"
        case .cases, .slaWarnings, .slaBreaches: "queue"
        }
    }
}

/// An alert rule from the pack (`alerts.yaml`): a condition over one series, per key, evaluated
/// every minute over a sliding window. A threshold, an anomaly test, or both (then both must hold).
public struct AlertRule: Sendable, Equatable {
    /// A seasonal anomaly test: the window's count against the same window one season earlier,
    /// two seasons earlier …, by a robust z-score (median and MAD, floored by Poisson noise).
    public struct Anomaly: Sendable, Equatable {
        /// The season: a day (1,440 minutes) follows the daily rhythm; a week (10,080) the
        /// hour-of-week rhythm.
        public var seasonMinutes: Int64
        /// How many past seasons form the baseline.
        public var seasons: Int
        /// How many robust standard deviations above the baseline count as anomalous.
        public var sensitivity: Double
        /// The least count that may alert (a jump from 0 to 2 is not a campaign).
        public var minCount: Double

        public init(seasonMinutes: Int64 = 1440, seasons: Int = 7, sensitivity: Double = 5, minCount: Double = 10) {
            self.seasonMinutes = seasonMinutes
            self.seasons = seasons
            self.sensitivity = sensitivity
            self.minCount = minCount
        }
    }

    public var name: String
    public var description: String
    public var series: AlertSeries
    /// Key patterns (`fraud.*`, `harassment`); empty: every key.
    public var keys: [String]
    /// The window, in minutes.
    public var windowMinutes: Int64
    /// Fires when the window's count is above this.
    public var above: Double?
    public var anomaly: Anomaly?
    /// An alert resolves itself after this many minutes without firing.
    public var resolveAfterMinutes: Int64
    /// Opens an incident at this severity when it fires.
    public var incidentSeverity: String?
    /// The escalation policy paged when it fires.
    public var page: String?

    public init(name: String, description: String = "", series: AlertSeries, keys: [String] = [], windowMinutes: Int64, above: Double? = nil,
                anomaly: Anomaly? = nil, resolveAfterMinutes: Int64? = nil, incidentSeverity: String? = nil, page: String? = nil) {
        self.name = name
        self.description = description
        self.series = series
        self.keys = keys
        self.windowMinutes = windowMinutes
        self.above = above
        self.anomaly = anomaly
        self.resolveAfterMinutes = resolveAfterMinutes ?? max(windowMinutes, 15)
        self.incidentSeverity = incidentSeverity
        self.page = page
    }

    /// Whether `key` is one the rule watches (`*` matches any run of characters).
    public func watches(_ key: String) -> Bool {
        keys.isEmpty || keys.contains { Self.glob($0, matches: key) }
    }

    static func glob(_ pattern: String, matches text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        var rest = Substring(text)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }

    // MARK: Windows

    /// A window of minutes: counts of minutes `after < m ≤ through`.
    public struct Window: Sendable, Equatable, Hashable {
        public var after: Int64
        public var through: Int64
    }

    /// How many trailing windows stand in for the seasonal baseline while there is too little history.
    public static let trailingWindows = 12

    /// The windows evaluating at the end of minute `minute` reads: the current one, the seasonal
    /// ones (most recent season first) and the trailing ones (most recent first).
    public func windows(at minute: Int64) -> (current: Window, seasonal: [Window], trailing: [Window]) {
        let current = Window(after: minute - windowMinutes, through: minute)
        guard let anomaly else { return (current, [], []) }
        let seasonal = (1...max(1, anomaly.seasons)).map { season in
            Window(after: current.after - Int64(season) * anomaly.seasonMinutes, through: current.through - Int64(season) * anomaly.seasonMinutes)
        }
        let trailing = (1...Self.trailingWindows).map { index in
            Window(after: current.after - Int64(index) * windowMinutes, through: current.through - Int64(index) * windowMinutes)
        }
        return (current, seasonal, trailing)
    }

    // MARK: Evaluation

    /// Counts per key in each window (`nil`: the window starts before the series has history).
    public struct Inputs: Sendable {
        public var current: [String: Double]
        public var seasonal: [[String: Double]?]
        public var trailing: [[String: Double]?]

        public init(current: [String: Double], seasonal: [[String: Double]?] = [], trailing: [[String: Double]?] = []) {
            self.current = current
            self.seasonal = seasonal
            self.trailing = trailing
        }
    }

    /// The verdict for one key.
    public struct Finding: Sendable, Equatable {
        public var key: String
        public var value: Double
        /// The baseline's median, when there is an anomaly test with enough history.
        public var baseline: Double?
        /// The robust z-score.
        public var score: Double?
        public var firing: Bool
        /// Which baseline served: `seasonal`, `trailing`, or `learning` (too little history to judge).
        public var basis: String
    }

    /// Evaluates every watched key with a count in the current window.
    public func evaluate(_ inputs: Inputs) -> [Finding] {
        inputs.current.keys.sorted().filter(watches).map { key in
            let value = inputs.current[key] ?? 0
            var firing = above.map { value > $0 } ?? true
            var baseline: Double?
            var score: Double?
            var basis = "threshold"
            if let anomaly {
                let seasonal = inputs.seasonal.compactMap { $0.map { $0[key] ?? 0 } }
                let trailing = inputs.trailing.compactMap { $0.map { $0[key] ?? 0 } }
                let samples = seasonal.count >= 3 ? seasonal : trailing.count >= 3 ? trailing : []
                basis = seasonal.count >= 3 ? "seasonal" : trailing.count >= 3 ? "trailing" : "learning"
                if samples.isEmpty {
                    firing = false
                } else {
                    let (median, scale) = Self.robustScale(samples)
                    let z = (value - median) / scale
                    baseline = median
                    score = (z * 100).rounded() / 100
                    firing = firing && value >= anomaly.minCount && z >= anomaly.sensitivity
                }
            }
            return Finding(key: key, value: value, baseline: baseline, score: score, firing: firing, basis: basis)
        }
    }

    /// The median of `samples` and a robust scale: 1.4826 × MAD, never below the Poisson noise of
    /// the median (√median, at least 1), so sparse series do not alert on a handful of events.
    static func robustScale(_ samples: [Double]) -> (median: Double, scale: Double) {
        let median = Self.median(samples)
        let mad = Self.median(samples.map { abs($0 - median) })
        return (median, max(1.4826 * mad, sqrt(max(median, 1))))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Where an alert is.
public enum AlertState: String, Sendable, Codable, CaseIterable {
    /// Firing and nobody has taken it.
    case firing
    /// Someone is on it: pages stop escalating.
    case acknowledged
    /// Quiet until a time; it comes back if still firing then.
    case snoozed
    /// Over (by a person, or by itself after its rule stopped firing).
    case resolved

    public var isOpen: Bool { self != .resolved }
}

/// An alert as stored: one per rule and key while open (later firings update it).
public struct AlertRecord: Sendable, Equatable {
    public var id: Int64
    public var rule: String
    public var key: String
    public var series: AlertSeries
    public var state: AlertState
    public var firstFiredAt: Int64
    public var lastFiredAt: Int64
    /// Minutes it has fired in.
    public var firings: Int
    /// The latest firing's count, baseline and score.
    public var value: Double
    public var baseline: Double?
    public var score: Double?
    /// The highest count seen.
    public var peak: Double
    public var acknowledgedAt: Int64?
    public var acknowledgedBy: ActorRef?
    public var snoozedUntil: Int64?
    public var resolvedAt: Int64?
    public var resolvedBy: ActorRef?
    public var incidentID: Int64?

    public init(id: Int64, rule: String, key: String, series: AlertSeries, state: AlertState = .firing, firstFiredAt: Int64, lastFiredAt: Int64,
                firings: Int = 1, value: Double, baseline: Double?, score: Double?) {
        self.id = id
        self.rule = rule
        self.key = key
        self.series = series
        self.state = state
        self.firstFiredAt = firstFiredAt
        self.lastFiredAt = lastFiredAt
        self.firings = firings
        self.value = value
        self.baseline = baseline
        self.score = score
        self.peak = value
    }

    public var target: String { "alert:\(id)" }

    /// One line saying what fired.
    public var summary: String {
        let base = baseline.map { " (baseline \(Self.number($0)))" } ?? ""
        return "\(rule): \(series.rawValue) \(key) = \(Self.number(value))\(base)"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(format: "%.1f", value)
    }
}

/// What a person does to an alert.
public enum AlertCommand: Sendable, Equatable {
    case acknowledge
    case snooze(until: Int64)
    case resolve
}

/// The outcome of one evaluation round for a rule: alerts opened, changed and resolved.
public struct AlertRound: Sendable, Equatable {
    /// New alerts (ids assigned by the caller's `nextID`).
    public var opened: [AlertRecord] = []
    public var updated: [AlertRecord] = []
    public var audit: [AuditDraft] = []
    public init() {}
}

/// The alert rules as pure planning: deduplication per rule and key, the alert lifecycle, and the
/// commands people give.
public enum AlertPlanner {
    /// Merges `findings` of `rule` at `now` into its `open` alerts: a firing key with an open alert
    /// updates it (a snoozed alert whose snooze has run out fires again); a firing key without one
    /// opens one; an open alert whose key has not fired for the rule's `resolve_after` resolves.
    public static func round(rule: AlertRule, findings: [AlertRule.Finding], open: [AlertRecord], now: Int64, nextID: Int64) -> AlertRound {
        var round = AlertRound()
        var id = nextID
        let openByKey = Dictionary(open.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var fired = Set<String>()
        for finding in findings where finding.firing {
            fired.insert(finding.key)
            if var alert = openByKey[finding.key] {
                alert.lastFiredAt = now
                alert.firings += 1
                alert.value = finding.value
                alert.baseline = finding.baseline
                alert.score = finding.score
                alert.peak = max(alert.peak, finding.value)
                if alert.state == .snoozed, let until = alert.snoozedUntil, until <= now {
                    alert.state = .firing
                    alert.snoozedUntil = nil
                }
                round.updated.append(alert)
            } else {
                let alert = AlertRecord(id: id, rule: rule.name, key: finding.key, series: rule.series, firstFiredAt: now, lastFiredAt: now,
                                        value: finding.value, baseline: finding.baseline, score: finding.score)
                id += 1
                round.opened.append(alert)
                round.audit.append(AuditDraft(at: now, actor: .system("alerts"), action: "alert.fire", target: alert.target, detail: jsonObject {
                    $0.field("rule", rule.name)
                    $0.field("key", finding.key)
                    $0.key("value"); $0.number(finding.value)
                    if let baseline = finding.baseline { $0.key("baseline"); $0.number(baseline) }
                    if let score = finding.score { $0.key("score"); $0.number(score) }
                }))
            }
        }
        for alert in open where !fired.contains(alert.key) {
            var alert = alert
            if alert.lastFiredAt + rule.resolveAfterMinutes * 60_000 <= now {
                alert.state = .resolved
                alert.resolvedAt = now
                alert.resolvedBy = .system("alerts")
                round.updated.append(alert)
                round.audit.append(AuditDraft(at: now, actor: .system("alerts"), action: "alert.resolve", target: alert.target,
                                              detail: jsonObject { $0.field("reason", "quiet for \(rule.resolveAfterMinutes) minutes") }))
            } else if alert.state == .snoozed, let until = alert.snoozedUntil, until <= now {
                alert.state = .firing
                alert.snoozedUntil = nil
                round.updated.append(alert)
            }
        }
        return round
    }

    /// A person's command on an alert, or why it does not apply.
    public static func apply(_ command: AlertCommand, to alert: AlertRecord, actor: ActorRef, now: Int64) throws(IncidentError) -> (AlertRecord, AuditDraft) {
        var alert = alert
        guard alert.state != .resolved else { throw IncidentError(.conflict, "alert \(alert.id) is resolved") }
        let action: String
        var detail = "{}"
        switch command {
        case .acknowledge:
            guard alert.state != .acknowledged else { throw IncidentError(.conflict, "alert \(alert.id) is already acknowledged") }
            alert.state = .acknowledged
            alert.acknowledgedAt = now
            alert.acknowledgedBy = actor
            alert.snoozedUntil = nil
            action = "acknowledge"
        case .snooze(let until):
            guard until > now else { throw IncidentError(.invalid, "snooze until a time in the future") }
            guard until - now <= 7 * 86_400_000 else { throw IncidentError(.invalid, "snooze for at most 7 days") }
            alert.state = .snoozed
            alert.snoozedUntil = until
            action = "snooze"
            detail = jsonObject { $0.field("until", Timestamp.formatRFC3339(until)) }
        case .resolve:
            alert.state = .resolved
            alert.resolvedAt = now
            alert.resolvedBy = actor
            action = "resolve"
        }
        return (alert, AuditDraft(at: now, actor: actor, action: "alert.\(action)", target: alert.target, detail: detail))
    }
}
