import Testing
import WardenCore
@testable import WardenQuality

@Suite struct HealthReportTests {
    static let day: Int64 = 86_400_000
    /// Monday 2026-11-02 00:00 UTC.
    static let monday: Int64 = 1_793_577_600_000

    static func fact(_ id: Int64, at: Int64, by decider: String, queue: String = "spam", category: String = "spam", violation: Bool = true,
                     resolvedAfter: Int64? = 3_600_000, due: Int64 = 4 * 3_600_000, appeal: DecisionFact.AppealResult? = nil,
                     escalatedBy: String? = nil) -> DecisionFact {
        DecisionFact(decisionID: id, caseID: id, at: at, decider: decider, queue: queue, category: category, violation: violation,
                     createdAt: at - (resolvedAfter ?? 0), firstActionAt: at - (resolvedAfter ?? 0) / 2, resolvedAt: resolvedAfter.map { at - $0 + $0 },
                     dueAt: at - (resolvedAfter ?? 0) + due, appeal: appeal, escalatedBy: escalatedBy)
    }

    @Test func weeksStartOnMondayUTC() {
        #expect(Timestamp.formatRFC3339(Self.monday) == "2026-11-02T00:00:00Z")
        #expect(Timestamp.startOfWeek(Self.monday + 6 * Self.day + 86_399_999) == Self.monday)
        #expect(Timestamp.startOfWeek(Self.monday - 1) == Self.monday - 7 * Self.day)
        #expect(Timestamp.startOfWeek(0) == -3 * Self.day)  // 1970-01-01 was a Thursday
        #expect(Timestamp.startOfWeek(-1) == -3 * Self.day)
    }

    @Test func ratesPerReviewerTeamQueueAndPolicyWithEscalations() throws {
        var facts: [DecisionFact] = []
        // ana: 10 decisions, 4 appealed, 1 overturned; one late.
        for n in 0..<10 {
            facts.append(Self.fact(Int64(n), at: Self.monday + Int64(n) * 1000, by: "user:ana",
                                   due: n == 0 ? 1_000 : 4 * 3_600_000, appeal: n < 4 ? (n == 0 ? .overturned : .upheld) : nil))
        }
        // ben (vendor team): 4 decisions in hate, 2 appealed, both overturned; one unresolved-by-due.
        for n in 0..<4 {
            facts.append(Self.fact(Int64(100 + n), at: Self.monday + Int64(n) * 1000, by: "user:ben", queue: "hate", category: "hate.slur",
                                   appeal: n < 2 ? .overturned : nil))
        }
        // Escalations: ana escalated two cases a lead decided (one violation), her own escalation decided by herself is not counted.
        facts.append(Self.fact(200, at: Self.monday + 5000, by: "user:lead", escalatedBy: "user:ana"))
        facts.append(Self.fact(201, at: Self.monday + 6000, by: "user:lead", violation: false, escalatedBy: "user:ana"))
        facts.append(Self.fact(202, at: Self.monday + 7000, by: "user:ana", escalatedBy: "user:ana"))
        // Outside the window: ignored.
        facts.append(Self.fact(300, at: Self.monday + 8 * Self.day, by: "user:ana"))

        let report = HealthReport(facts, from: Self.monday, to: Self.monday + 7 * Self.day, teams: ["user:ben": ["vendor-a"], "user:ana": ["in-house"]])
        #expect(report.overall.decisions == 17)
        let ana = try #require(report.byReviewer.first { $0.group == "user:ana" })
        #expect(ana.decisions == 11 && ana.appealed.count == 4 && ana.overturned.count == 1 && ana.overturned.of == 4)
        #expect(ana.slaMet.count == 10 && ana.slaMet.of == 11)
        #expect(ana.firstActionMillis?.p50 == 1_800_000 && ana.resolutionMillis?.p90 == 3_600_000)
        let vendor = try #require(report.byTeam.first { $0.group == "vendor-a" })
        #expect(vendor.overturned.value == 1 && vendor.decisions == 4)
        // Two of two overturned is still a wide interval: not a verdict.
        #expect(try #require(vendor.overturned.interval).lower < 0.35)
        #expect(report.byQueue.map(\.group) == ["spam", "hate"])
        #expect(report.byPolicy.map(\.group) == ["spam", "hate.slur"])
        #expect(report.escalations.count == 1)
        #expect(report.escalations[0].escalator == "user:ana" && report.escalations[0].agreed.count == 1 && report.escalations[0].agreed.of == 2)
        #expect(report.weeks.count == 1 && report.weeks[0].start == Self.monday && report.weeks[0].decisions == 17)
    }

    @Test func aWeeklyChangeIsReportedOnlyWhenItIsBeyondNoise() {
        var facts: [DecisionFact] = []
        var id: Int64 = 0
        // Week 1: 400 appealed, 40 overturned (10 %). Week 2: 400 appealed, 44 overturned (noise).
        // Week 3: 400 appealed, 100 overturned (25 %: beyond noise). SLA met everywhere.
        for (week, overturned) in [(0, 40), (1, 44), (2, 100)] {
            for n in 0..<400 {
                id += 1
                facts.append(Self.fact(id, at: Self.monday + Int64(week) * 7 * Self.day + Int64(n) * 60_000, by: "user:ana",
                                       appeal: n < overturned ? .overturned : .upheld))
            }
        }
        let report = HealthReport(facts, from: Self.monday, to: Self.monday + 21 * Self.day)
        #expect(report.weeks.map(\.decisions) == [400, 400, 400])
        #expect(report.weeks.map(\.changes) == [[], [], ["overturned up"]])
        // An empty window has no weeks and no rates.
        let empty = HealthReport([], from: Self.monday, to: Self.monday + Self.day)
        #expect(empty.weeks.isEmpty && empty.overall.decisions == 0 && empty.overall.overturned.value == nil)
    }

    /// The backlog per queue: every band and state summed, waiting is open or escalated, the oldest
    /// age is the oldest case's, warnings and breaches add up; queues of the pack with nothing show 0.
    @Test func theBacklogPerQueue() {
        let report = HealthReport([], from: 0, to: 1).withBacklog([
            .init(queue: "spam", state: "open", count: 5, oldestCreatedAt: 1_000, warnings: 1, breaches: 0),
            .init(queue: "spam", state: "in_review", count: 2, oldestCreatedAt: 500, warnings: 0, breaches: 1),
            .init(queue: "spam", state: "escalated", count: 1, oldestCreatedAt: 4_000, warnings: 0, breaches: 0),
            .init(queue: "hate", state: "on_hold", count: 3, oldestCreatedAt: nil, warnings: 0, breaches: 0),
        ], queues: ["spam", "hate", "appeals"], now: 10_000)
        #expect(report.backlog.map(\.queue) == ["appeals", "hate", "spam"])
        #expect(report.backlog[0] == .init(queue: "appeals", undecided: 0, waiting: 0, oldestAgeMillis: nil, warnings: 0, breaches: 0))
        #expect(report.backlog[1] == .init(queue: "hate", undecided: 3, waiting: 0, oldestAgeMillis: nil, warnings: 0, breaches: 0))
        #expect(report.backlog[2] == .init(queue: "spam", undecided: 8, waiting: 6, oldestAgeMillis: 9_500, warnings: 1, breaches: 1))
    }

    /// The report's one-walk percentiles and counts against the plain definition (every group's
    /// values sorted, nearest rank), over random decisions with ties, missing times and several
    /// teams per person; and the same report from the decisions in three parts.
    @Test func everyGroupMatchesThePlainDefinition() throws {
        var random = SplitMix64(seed: 17)
        let deciders = (0..<12).map { "user:r\($0)" }
        let teams: [String: [String]] = ["user:r0": ["a"], "user:r1": ["a", "b"], "user:r2": ["b"], "user:r3": ["c", "a"]]
        var facts: [DecisionFact] = []
        for n in 0..<3_000 {
            let at = Self.monday + Int64(random.next() % UInt64(20 * Self.day))
            let created = at - Int64(random.next() % 40) * 60_000
            let first: Int64? = random.chance(0.1) ? nil : created + Int64(random.next() % 30) * 60_000
            let resolved: Int64? = random.chance(0.05) ? nil : at
            facts.append(DecisionFact(decisionID: Int64(n), caseID: Int64(n), at: at, decider: deciders[Int(random.next() % 12)],
                                      queue: ["spam", "hate", "scam"][Int(random.next() % 3)], category: ["spam", "hate.slur"][Int(random.next() % 2)],
                                      violation: random.chance(0.6), createdAt: created, firstActionAt: first, resolvedAt: resolved,
                                      dueAt: created + 20 * 60_000, appeal: random.chance(0.1) ? (random.chance(0.3) ? .overturned : .upheld) : nil,
                                      escalatedBy: nil))
        }
        let from = Self.monday + 2 * Self.day, to = Self.monday + 18 * Self.day
        let report = HealthReport(facts, from: from, to: to, teams: teams)
        let inWindow = facts.filter { $0.at >= from && $0.at < to }

        func expected(_ group: String, _ members: [DecisionFact]) -> HealthReport.Row {
            func percentiles(_ values: [Int64]) -> HealthReport.Percentiles? {
                values.isEmpty ? nil : .init(p50: Distributions.nearestRank(sorted: values.sorted(), 0.5), p90: Distributions.nearestRank(sorted: values.sorted(), 0.9))
            }
            let resolved = members.filter { $0.resolvedAt != nil }
            return HealthReport.Row(group: group, decisions: members.count, violations: Rate(members.filter(\.violation).count, of: members.count),
                                    overturned: Rate(members.filter { $0.appeal == .overturned }.count, of: members.filter { $0.appeal != nil }.count),
                                    appealed: Rate(members.filter { $0.appeal != nil }.count, of: members.count),
                                    slaMet: Rate(resolved.filter { $0.resolvedAt! <= $0.dueAt }.count, of: resolved.count),
                                    firstActionMillis: percentiles(members.compactMap { f in f.firstActionAt.map { $0 - f.createdAt } }),
                                    resolutionMillis: percentiles(resolved.map { $0.resolvedAt! - $0.createdAt }))
        }
        #expect(report.overall == expected("all", inWindow))
        #expect(report.byReviewer.count == 12)
        for row in report.byReviewer { #expect(row == expected(row.group, inWindow.filter { $0.decider == row.group })) }
        #expect(report.byTeam.map(\.group).sorted() == ["a", "b", "c"])
        for row in report.byTeam { #expect(row == expected(row.group, inWindow.filter { teams[$0.decider]?.contains(row.group) == true })) }
        for row in report.byQueue { #expect(row == expected(row.group, inWindow.filter { $0.queue == row.group })) }
        for row in report.byPolicy { #expect(row == expected(row.group, inWindow.filter { $0.category == row.group })) }
        #expect(report.weeks.map(\.decisions).reduce(0, +) == inWindow.count)

        let parts = HealthReport(parts: [Array(facts[..<1000]), Array(facts[1000..<1001]), Array(facts[1001...])], from: from, to: to, teams: teams)
        #expect(parts == report)
    }
}
