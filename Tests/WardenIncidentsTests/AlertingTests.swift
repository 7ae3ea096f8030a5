import Foundation
import Testing
import WardenCore
@testable import WardenIncidents

/// Alert rules evaluated over window counts, without a store.
@Suite struct AlertEvaluationTests {
    static let anomaly = AlertRule(name: "spike", series: .signalsByCategory, keys: ["fraud.*"], windowMinutes: 10,
                                   anomaly: .init(seasonMinutes: 1440, seasons: 7, sensitivity: 5, minCount: 10))

    @Test(arguments: [
        ("fraud.*", "fraud.card_testing", true), ("fraud.*", "fraud", false), ("fraud", "fraud", true), ("*.scam", "fraud.scam", true),
        ("*", "anything", true), ("spam.*.x", "spam.a.b.x", true), ("spam.*.x", "spam.a.b.y", false),
    ])
    func keyPatterns(pattern: String, key: String, matches: Bool) {
        #expect(AlertRule.glob(pattern, matches: key) == matches)
    }

    @Test func thresholdsFireAboveTheirLimitPerKey() {
        let rule = AlertRule(name: "breaches", series: .slaBreaches, windowMinutes: 15, above: 5)
        let findings = rule.evaluate(.init(current: ["appeals": 5, "fraud": 6]))
        #expect(findings.map(\.firing) == [false, true])
        #expect(findings.map(\.basis) == ["threshold", "threshold"])
    }

    /// The seasonal baseline: the same window on each of the last seven days.
    @Test(arguments: [
        // (value now, the same window on past days, fires?, basis)
        (40.0, [8.0, 10, 9, 11, 7, 10, 9], true, "seasonal"),      // a campaign over a quiet baseline
        (14.0, [8.0, 10, 9, 11, 7, 10, 9], false, "seasonal"),     // within noise
        (60.0, [50.0, 62, 55, 58, 49, 61, 57], false, "seasonal"), // the daily peak, as every day
        (9.0, [0.0, 0, 0, 0, 0, 0, 0], false, "seasonal"),         // below min_count
        (12.0, [0.0, 0, 0, 1, 0, 0, 0], true, "seasonal"),         // a burst where there is usually nothing
    ])
    func seasonalAnomaly(value: Double, days: [Double], fires: Bool, basis: String) throws {
        let finding = try #require(Self.anomaly.evaluate(.init(current: ["fraud.scam": value], seasonal: days.map { ["fraud.scam": $0] })).first)
        #expect(finding.firing == fires)
        #expect(finding.basis == basis)
    }

    @Test func withTooLittleHistoryTheTrailingWindowsServeThenNothing() {
        let trailing: [[String: Double]?] = (0..<12).map { _ in ["fraud.scam": 3] }
        let withTrailing = Self.anomaly.evaluate(.init(current: ["fraud.scam": 30], seasonal: [nil, nil, nil, nil, nil, nil, nil], trailing: trailing))
        #expect(withTrailing.first?.basis == "trailing" && withTrailing.first?.firing == true)
        let learning = Self.anomaly.evaluate(.init(current: ["fraud.scam": 30], seasonal: [nil, nil], trailing: [nil, ["fraud.scam": 1]]))
        #expect(learning.first?.basis == "learning" && learning.first?.firing == false)
    }

    @Test func keysOutsideThePatternsAreNotEvaluated() {
        #expect(Self.anomaly.evaluate(.init(current: ["spam.links": 500])).isEmpty)
    }

    @Test func windowsLookBackBySeasonsAndByWindows() {
        let (current, seasonal, trailing) = Self.anomaly.windows(at: 10_000)
        #expect(current == AlertRule.Window(after: 9_990, through: 10_000))
        #expect(seasonal.first == AlertRule.Window(after: 9_990 - 1440, through: 10_000 - 1440))
        #expect(seasonal.count == 7)
        #expect(trailing.first == AlertRule.Window(after: 9_980, through: 9_990))
        #expect(trailing.count == AlertRule.trailingWindows)
    }
}

/// Grouping, deduplication and the alert lifecycle.
@Suite struct AlertLifecycleTests {
    static let rule = AlertRule(name: "spike", series: .reports, windowMinutes: 10, above: 3, resolveAfterMinutes: 30)
    static let now: Int64 = 1_780_000_000_000
    static func finding(_ key: String, _ value: Double, firing: Bool = true) -> AlertRule.Finding {
        .init(key: key, value: value, baseline: nil, score: nil, firing: firing, basis: "threshold")
    }

    @Test func aFiringKeyOpensOneAlertAndLaterFiringsUpdateIt() {
        let first = AlertPlanner.round(rule: Self.rule, findings: [Self.finding("spam", 5), Self.finding("harassment", 2, firing: false)],
                                       open: [], now: Self.now, nextID: 7)
        #expect(first.opened.map(\.id) == [7])
        #expect(first.opened.first?.key == "spam")
        #expect(first.audit.map(\.action) == ["alert.fire"])
        let second = AlertPlanner.round(rule: Self.rule, findings: [Self.finding("spam", 9)], open: first.opened, now: Self.now + 60_000, nextID: 8)
        #expect(second.opened.isEmpty)
        #expect(second.updated.first?.firings == 2 && second.updated.first?.peak == 9 && second.updated.first?.lastFiredAt == Self.now + 60_000)
        #expect(second.audit.isEmpty)
    }

    @Test func aQuietAlertResolvesItselfAfterResolveAfter() {
        let alert = AlertRecord(id: 7, rule: "spike", key: "spam", series: .reports, firstFiredAt: Self.now, lastFiredAt: Self.now, value: 5, baseline: nil, score: nil)
        #expect(AlertPlanner.round(rule: Self.rule, findings: [], open: [alert], now: Self.now + 29 * 60_000, nextID: 8).updated.isEmpty)
        let round = AlertPlanner.round(rule: Self.rule, findings: [], open: [alert], now: Self.now + 30 * 60_000, nextID: 8)
        #expect(round.updated.first?.state == .resolved)
        #expect(round.updated.first?.resolvedBy == .system("alerts"))
        #expect(round.audit.map(\.action) == ["alert.resolve"])
    }

    @Test func snoozedAlertsComeBackWhenTheSnoozeEnds() throws {
        let alert = AlertRecord(id: 7, rule: "spike", key: "spam", series: .reports, firstFiredAt: Self.now, lastFiredAt: Self.now, value: 5, baseline: nil, score: nil)
        let (snoozed, audit) = try AlertPlanner.apply(.snooze(until: Self.now + 600_000), to: alert, actor: "user:kim", now: Self.now)
        #expect(snoozed.state == .snoozed && audit.action == "alert.snooze")
        let during = AlertPlanner.round(rule: Self.rule, findings: [Self.finding("spam", 6)], open: [snoozed], now: Self.now + 300_000, nextID: 8)
        #expect(during.updated.first?.state == .snoozed)
        let after = AlertPlanner.round(rule: Self.rule, findings: [Self.finding("spam", 6)], open: [snoozed], now: Self.now + 600_000, nextID: 8)
        #expect(after.updated.first?.state == .firing)
    }

    @Test(arguments: [
        (AlertState.firing, AlertCommand.acknowledge, AlertState.acknowledged as AlertState?, nil as String?),
        (.acknowledged, .acknowledge, nil, "alert 7 is already acknowledged"),
        (.firing, .resolve, .resolved, nil),
        (.resolved, .acknowledge, nil, "alert 7 is resolved"),
        (.firing, .snooze(until: now - 1), nil, "snooze until a time in the future"),
        (.firing, .snooze(until: now + 8 * 86_400_000), nil, "snooze for at most 7 days"),
    ])
    func commands(state: AlertState, command: AlertCommand, after: AlertState?, refusal: String?) {
        var alert = AlertRecord(id: 7, rule: "spike", key: "spam", series: .reports, firstFiredAt: Self.now, lastFiredAt: Self.now, value: 5, baseline: nil, score: nil)
        alert.state = state
        do {
            let (changed, _) = try AlertPlanner.apply(command, to: alert, actor: "user:kim", now: Self.now)
            #expect(changed.state == after)
        } catch {
            #expect(error.message == refusal)
        }
    }
}

/// Schedules, overrides and escalation.
@Suite struct OnCallTests {
    static let monday: Int64 = 1_780_304_400_000 // a hand-over instant
    static let day: Int64 = 86_400_000
    static let primary = OnCallSchedule(name: "primary", participants: ["ana", "ben", "kim"], turnMillis: 7 * day, handoverAt: monday)
    static let secondary = OnCallSchedule(name: "secondary", participants: ["lee", "max"], turnMillis: 7 * day, handoverAt: monday)

    /// (offset in days and milliseconds, who is on call)
    @Test(arguments: [
        (Int64(0), Int64(0), "ana"), (7, -1, "ana"), (7, 0, "ben"), (14, 0, "kim"), (21, 0, "ana"), (0, -1, "kim"), (-7, 0, "kim"), (-7, -1, "ben"),
    ] as [(Int64, Int64, String)])
    func rotation(days: Int64, millis: Int64, person: String) {
        #expect(Self.primary.rotationOnCall(at: Self.monday + days * Self.day + millis) == person)
    }

    @Test func overridesWinAndTheLatestOverrideWins() {
        let overrides = [
            OnCallOverride(id: 1, schedule: "primary", person: "zoe", startsAt: Self.monday + Self.day, endsAt: Self.monday + 2 * Self.day, createdBy: "user:lee"),
            OnCallOverride(id: 2, schedule: "primary", person: "max", startsAt: Self.monday + Self.day + 3_600_000, endsAt: Self.monday + Self.day + 7_200_000,
                           createdBy: "user:lee"),
        ]
        #expect(Self.primary.onCall(at: Self.monday + Self.day - 1, overrides: overrides) == "ana")
        #expect(Self.primary.onCall(at: Self.monday + Self.day, overrides: overrides) == "zoe")
        #expect(Self.primary.onCall(at: Self.monday + Self.day + 3_600_000, overrides: overrides) == "max")
        #expect(Self.primary.onCall(at: Self.monday + 2 * Self.day, overrides: overrides) == "ana")
        #expect(Self.primary.nextHandover(after: Self.monday + 1) == Self.monday + 7 * Self.day)
    }

    static var pager: Pager {
        let policy = EscalationPolicy(name: "safety", steps: [
            .init(after: 0, targets: [.schedule("primary")]),
            .init(after: 10 * 60_000, targets: [.schedule("secondary")]),
            .init(after: 20 * 60_000, targets: [.person("lead")]),
        ], channels: ["pd", "chat"])
        return Pager(policies: ["safety": policy], schedules: ["primary": primary, "secondary": secondary],
                     channels: ["pd": NotificationChannel(name: "pd", kind: .pagerduty, routingKey: "k"), "chat": NotificationChannel(name: "chat", kind: .chat)],
                     overrides: [])
    }

    @Test func unacknowledgedPagesEscalateStepByStep() {
        let start = PageStart(subject: "incident:4", policy: "safety", summary: "SEV1 incident 4", severity: "error", at: Self.monday + 60_000)
        var page = PageRecord(id: 1, start: start)
        var (advanced, sent, outbox) = Self.pager.advance(page, now: start.at)
        #expect(sent.map(\.person) == ["ana"])
        #expect(outbox.map(\.destination) == ["pd", "chat"])
        #expect(advanced.nextAt == start.at + 10 * 60_000)
        page = advanced
        (advanced, sent, _) = Self.pager.advance(page, now: start.at + 9 * 60_000)
        #expect(sent.isEmpty)
        // A late round fires every step that fell due, in order.
        (advanced, sent, outbox) = Self.pager.advance(page, now: start.at + 25 * 60_000)
        #expect(sent.map(\.person) == ["lee", "lead"])
        #expect(sent.map(\.step) == [1, 2])
        #expect(advanced.nextAt == nil && advanced.paged == ["ana", "lee", "lead"])
        #expect(Set(outbox.map(\.idempotencyKey)).count == outbox.count)
    }

    @Test func acknowledgingStopsThePageAndTellsPagerDuty() throws {
        let start = PageStart(subject: "incident:4", policy: "safety", summary: "s", severity: "error", at: Self.monday)
        let (page, _, _) = Self.pager.advance(PageRecord(id: 1, start: start), now: Self.monday)
        let (stopped, outbox) = Self.pager.stop(page, acknowledgedBy: "user:ana", now: Self.monday + 120_000)
        #expect(stopped.acknowledgedAt == Self.monday + 120_000 && !stopped.isOpen && stopped.nextAt == nil)
        #expect(Self.pager.advance(stopped, now: Self.monday + 3_600_000).sent.isEmpty)
        let pagerDuty = try #require(outbox.first { $0.destination == "pd" })
        #expect(pagerDuty.body.contains(#""event_action":"acknowledge""#))
    }
}

/// Backtests replay the live evaluation minute by minute.
@Suite struct AlertBacktestTests {
    static let rule = AlertRule(name: "spike", series: .signalsByCategory, windowMinutes: 10,
                                anomaly: .init(seasonMinutes: 1440, seasons: 7, sensitivity: 5, minCount: 10), resolveAfterMinutes: 30)

    /// A series with no count for days has a baseline of zeros, not "no history": the first burst alerts.
    @Test func aFirstBurstAfterQuietDaysAlerts() {
        let burst = 10 * 1440 + 600
        let buckets = (0..<8).map { SeriesCount(minute: Int64(burst + $0), key: "spam.fake_accounts", count: 6) }
        let result = AlertBacktest.run(rule: Self.rule, buckets: buckets, after: -1, firstMinute: 0, from: Int64(burst - 60), through: Int64(burst + 120))
        #expect(result.alerts.count == 1)
        let alert = result.alerts[0]
        #expect(alert.key == "spam.fake_accounts")
        #expect(alert.firstFiredAt == Int64(burst + 2) * 60_000)  // 6 + 6 = 12 ≥ min_count in the second minute
        #expect(alert.peak == 48)
        // The window holds two of the burst's minutes until the end of minute burst+15; quiet 30 minutes after that.
        #expect(alert.state == .resolved && alert.resolvedAt == Int64(burst + 16 + 30) * 60_000)
    }

    @Test func beforeCountingStartedTheRuleIsLearning() {
        let buckets = (0..<8).map { SeriesCount(minute: Int64(600 + $0), key: "spam.fake_accounts", count: 6) }
        // Counting started just before the burst: no seasons and too few trailing windows yet.
        let result = AlertBacktest.run(rule: Self.rule, buckets: buckets, after: -1, firstMinute: 590, from: 580, through: 700)
        #expect(result.alerts.isEmpty)
    }

    @Test func thresholdsNeedNoHistoryAndAlertsResolveAndReopen() {
        let rule = AlertRule(name: "many", series: .reports, windowMinutes: 5, above: 9, resolveAfterMinutes: 15)
        let buckets = [SeriesCount(minute: 100, key: "spam", count: 10), SeriesCount(minute: 200, key: "spam", count: 12)]
        let result = AlertBacktest.run(rule: rule, buckets: buckets, after: 50, firstMinute: 60, from: 90, through: 260)
        let expected: [Int64] = [6_060_000, 12_060_000]  // the ends of minutes 100 and 200
        #expect(result.alerts.map(\.firstFiredAt) == expected)
        #expect(result.alerts.map(\.id) == [1, 2])
    }
}
