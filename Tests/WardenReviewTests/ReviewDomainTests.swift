import Testing
import WardenCore
@testable import WardenReview

@Suite struct CaseLifecycleTests {
    /// The whole table: every (state, command) pair either moves where the design says or is refused.
    @Test func everyTransitionIsAsDesigned() throws {
        let allowed: [CaseState: [CaseCommand: CaseState]] = [
            .open: [.claim: .inReview, .escalate: .escalated],
            .inReview: [.release: .open, .hold: .onHold, .escalate: .escalated, .resolve: .resolved],
            .onHold: [.release: .open, .resume: .inReview, .escalate: .escalated],
            .escalated: [.claim: .inReview, .escalate: .escalated],
            .resolved: [.appeal: .appealed, .close: .closed],
            .appealed: [.close: .closed],
            .closed: [:],
        ]
        let commands: [CaseCommand] = [.claim, .release, .hold, .resume, .escalate, .resolve, .appeal, .close]
        for state in CaseState.allCases {
            for command in commands {
                if let target = allowed[state]?[command] {
                    #expect(try CaseLifecycle.next(state, command) == target, "\(state) \(command)")
                } else {
                    #expect(throws: CaseTransitionError(state: state, command: command)) { try CaseLifecycle.next(state, command) }
                }
            }
        }
    }

    @Test func refusalsSayWhatIsAllowed() {
        let error = CaseTransitionError(state: .resolved, command: .claim)
        #expect(error.description == "a case that is resolved cannot claim; from resolved a case can: appeal, close")
        #expect(CaseTransitionError(state: .closed, command: .release).description.hasSuffix("nothing more can happen to it"))
    }

    @Test func openStatesTakeNewSignals() {
        #expect(CaseState.allCases.filter(\.isOpen) == [.open, .inReview, .onHold, .escalated])
    }
}

@Suite struct CasePriorityTests {
    @Test func formulaAsDocumented() {
        // Four severity levels: low 15, medium 30, high 45, critical 60.
        #expect(CasePriority.score(.init(severityRank: 0, severityLevels: 4, reporterWeight: 0, reach: 0)) == 15)
        #expect(CasePriority.score(.init(severityRank: 3, severityLevels: 4, reporterWeight: 0, reach: 0)) == 60)
        // One fully trusted reporter adds 10; three add 20; the reporter term stops at 25.
        #expect(CasePriority.score(.init(severityRank: 1, severityLevels: 4, reporterWeight: 1, reach: 0)) == 40)
        #expect(CasePriority.score(.init(severityRank: 1, severityLevels: 4, reporterWeight: 3, reach: 0)) == 50)
        #expect(CasePriority.score(.init(severityRank: 1, severityLevels: 4, reporterWeight: 1000, reach: 0)) == 55)
        // Reach: 9 items add 5, and it stops at 15.
        #expect(CasePriority.score(.init(severityRank: 0, severityLevels: 4, reporterWeight: 0, reach: 9)) == 20)
        #expect(CasePriority.score(.init(severityRank: 3, severityLevels: 4, reporterWeight: 1e9, reach: 1_000_000)) == 100)
        #expect(CasePriority.band(score: 60) == .p1)
        #expect(CasePriority.band(score: 59) == .p2)
        #expect(CasePriority.band(score: 20) == .p3)
        #expect(CasePriority.band(score: 19) == .p4)
        #expect(CasePriority.Band(name: "p2") == .p2)
        #expect(CasePriority.Band(name: "p9") == nil)
    }

    @Test func urgencyAddsAgeAndRisk() {
        #expect(CasePriority.urgency(score: 30, waitedMillis: 0, slaUsed: 0.4) == 30)
        #expect(CasePriority.urgency(score: 30, waitedMillis: 3 * 3_600_000, slaUsed: 0.75) == 43)
        #expect(CasePriority.urgency(score: 30, waitedMillis: 100 * 3_600_000, slaUsed: 1.2) == 65)
    }
}

@Suite struct SLATests {
    // Monday 2026-11-23 00:00 UTC.
    let monday: Int64 = 1_795_392_000_000
    let hour: Int64 = 3_600_000

    @Test func clockPausesOnHoldAndStopsWhenResolved() {
        let policy = SLAPolicy(targets: [.p2: SLATargets(firstAction: hour, resolution: 4 * hour)])
        var clock = SLAClock.start(at: monday, state: .open, policy: policy)
        #expect(clock.due(4 * hour, policy: policy) == monday + 4 * hour)
        clock = clock.moved(to: .inReview, at: monday + hour, policy: policy)
        clock = clock.moved(to: .onHold, at: monday + 2 * hour, policy: policy)
        #expect(clock.elapsed(at: monday + 10 * hour, policy: policy) == 2 * hour)
        #expect(clock.due(4 * hour, policy: policy) == nil)
        clock = clock.moved(to: .inReview, at: monday + 10 * hour, policy: policy)
        #expect(clock.due(4 * hour, policy: policy) == monday + 12 * hour)
        clock = clock.moved(to: .resolved, at: monday + 11 * hour, policy: policy)
        #expect(clock.elapsed(at: monday + 100 * hour, policy: policy) == 3 * hour)
    }

    @Test func businessHoursCountOnlyWorkingTime() {
        // Mon–Fri 09:00–17:00 at UTC+1.
        let hours = BusinessHours(days: [1, 2, 3, 4, 5], startMinute: 9 * 60, endMinute: 17 * 60, utcOffsetMinutes: 60)
        // Monday 08:00 UTC is 09:00 local: a full day is 8 working hours.
        #expect(hours.workingMillis(from: monday, to: monday + 24 * hour) == 8 * hour)
        // Friday 15:00 local plus 4 working hours lands on Monday 11:00 local (10:00 UTC).
        let fridayThreeLocal = monday + 4 * 24 * hour + 14 * hour
        #expect(hours.advance(from: fridayThreeLocal, by: 4 * hour) == monday + 7 * 24 * hour + 10 * hour)
        #expect(hours.workingMillis(from: fridayThreeLocal, to: monday + 7 * 24 * hour + 10 * hour) == 4 * hour)
        // A case opened on Saturday starts its clock on Monday morning.
        let policy = SLAPolicy(targets: [.p3: SLATargets(firstAction: nil, resolution: 2 * hour)], businessHours: hours)
        let saturday = monday + 5 * 24 * hour + 12 * hour
        let clock = SLAClock.start(at: saturday, state: .open, policy: policy)
        #expect(clock.due(2 * hour, policy: policy) == monday + 7 * 24 * hour + 10 * hour)
    }

    @Test func eventsComeInOrderAndOnce() {
        let policy = SLAPolicy(targets: [.p1: SLATargets(firstAction: hour, resolution: 4 * hour)], warnFraction: 0.5)
        let clock = SLAClock.start(at: monday, state: .open, policy: policy)
        var raised = 0
        var seen: [(SLAEvent, Int64)] = []
        while let next = clock.nextEvent(targets: policy.targets[.p1], firstActionDone: false, raised: raised, policy: policy) {
            seen.append((next.event, next.at))
            raised |= next.event.flag
        }
        #expect(seen.map(\.0) == [.firstActionWarning, .firstActionBreached, .resolutionWarning, .resolutionBreached])
        #expect(seen.map(\.1) == [monday + hour / 2, monday + hour, monday + 2 * hour, monday + 4 * hour])
        // Once the first action is done only resolution events remain.
        #expect(clock.nextEvent(targets: policy.targets[.p1], firstActionDone: true, raised: 0, policy: policy)?.event == .resolutionWarning)
        #expect(clock.nextEvent(targets: nil, firstActionDone: false, raised: 0, policy: policy) == nil)
    }
}

@Suite struct StatementOfReasonsTests {
    @Test func fieldsFollowTheTransparencyDatabase() throws {
        let suspend = ActionDefinition(name: "suspend", restriction: .account("DECISION_ACCOUNT_SUSPENDED"), needsDuration: true, reversal: "unsuspend")
        let remove = ActionDefinition(name: "remove_content", restriction: .visibility("DECISION_VISIBILITY_CONTENT_REMOVED"), reversal: "restore_content")
        let statement = StatementOfReasons(
            decisionID: 42, category: "fraud.scam", dsaCategory: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            actions: [.init(definition: remove, duration: nil), .init(definition: suspend, duration: 86_400_000)],
            illegal: false, ground: "Terms of service §4 (scams)", explanation: "Prize scam sent to 40 users", contentType: "CONTENT_TYPE_TEXT",
            automatedDetection: true, automatedDecision: false, source: .report, contentDate: 1_795_392_000_000, applicationDate: 1_795_400_000_000,
            facts: "Reported twice; rule scam_prize_text fired.", territorialScope: ["DE", "FR"])
        let json = try #require(JSONValue.parse(statement.json()))
        #expect(json["puid"] == .string("warden-decision-42"))
        #expect(json["decision_visibility"] == .array([.string("DECISION_VISIBILITY_CONTENT_REMOVED")]))
        #expect(json["decision_account"] == .string("DECISION_ACCOUNT_SUSPENDED"))
        #expect(json["end_date_account_restriction"] == .string("2026-11-24"))
        #expect(json["decision_ground"] == .string("DECISION_GROUND_INCOMPATIBLE_CONTENT"))
        #expect(json["incompatible_content_ground"] == .string("Terms of service §4 (scams)"))
        #expect(json["category"] == .string("STATEMENT_CATEGORY_SCAMS_AND_FRAUD"))
        #expect(json["automated_detection"] == .string("Yes"))
        #expect(json["automated_decision"] == .string("AUTOMATED_DECISION_NOT_AUTOMATED"))
        #expect(json["source_type"] == .string("SOURCE_ARTICLE_16"))
        #expect(json["content_date"] == .string("2026-11-23"))
        #expect(json["application_date"] == .string("2026-11-23"))
        #expect(json["territorial_scope"] == .array([.string("DE"), .string("FR")]))
        #expect(json["category_specification"] == nil)
        #expect(TransparencyDatabase.problems(json) == [])
        #expect(StatementOfReasons.isRestrictive([.init(definition: ActionDefinition(name: "warn"), duration: nil)]) == false)
    }
}

@Suite struct RoutingTests {
    @Test func firstMatchWinsAndRequestedQueuesComeFirst() {
        let config = ReviewConfiguration(
            queues: [QueueDefinition(name: "general"), QueueDefinition(name: "scams"), QueueDefinition(name: "urgent"), QueueDefinition(name: "appeals")],
            routing: [RoutingRule(severities: ["critical"], queue: "urgent"), RoutingRule(categories: ["fraud"], queue: "scams")],
            defaultQueue: "general", appealsQueue: "appeals", signalMinimumSeverity: "high")
        #expect(config.route(source: .report, category: "fraud.scam", severity: "critical", rule: nil, requested: nil) == "urgent")
        #expect(config.route(source: .report, category: "fraud.scam", severity: "low", rule: nil, requested: nil) == "scams")
        #expect(config.route(source: .report, category: "fraudulent", severity: "low", rule: nil, requested: nil) == "general")
        #expect(config.route(source: .signal, category: "spam", severity: "low", rule: "r", requested: "scams") == "scams")
        #expect(config.route(source: .signal, category: "spam", severity: "low", rule: "r", requested: "nope") == "general")
        #expect(config.route(source: .appeal, category: "spam", severity: "low", rule: nil, requested: nil) == "appeals")
        let levels = ["low", "medium", "high", "critical"]
        #expect(config.signalOpensCase(severity: "medium", requestedQueue: nil, severities: levels) == false)
        #expect(config.signalOpensCase(severity: "critical", requestedQueue: nil, severities: levels))
        #expect(config.signalOpensCase(severity: "low", requestedQueue: "scams", severities: levels))
    }

    @Test func laddersPickTheLongestPolicy() {
        let catalogue = EnforcementCatalogue(actions: [], ladders: [
            EnforcementLadder(category: "spam", steps: [LadderStep(action: "warn"), LadderStep(action: "ban")], strikeExpiry: 1),
            EnforcementLadder(category: "spam.links", steps: [LadderStep(action: "remove_content")], strikeExpiry: 1),
        ], territorialScope: [], contentTypes: [:])
        #expect(catalogue.ladder(for: "spam.links")?.category == "spam.links")
        #expect(catalogue.ladder(for: "spam.fake_accounts")?.category == "spam")
        #expect(catalogue.ladder(for: "fraud") == nil)
        #expect(catalogue.ladder(for: "spam")?.step(afterStrikes: 0).action == "warn")
        #expect(catalogue.ladder(for: "spam")?.step(afterStrikes: 7).action == "ban")
    }
}

@Suite struct DecisionTreeTests {
    let tree = DecisionTree(
        name: "t", start: "a",
        questions: [
            .init(id: "a", text: "A?", answers: [.init(label: "Yes", next: "b"), .init(label: "No", outcome: "none")]),
            .init(id: "b", text: "B?", answers: [.init(label: "Yes", outcome: "bad"), .init(label: "No", outcome: "none")]),
        ],
        outcomes: [.init(id: "bad", category: "spam", violation: true, actions: ["warn"]), .init(id: "none", category: "spam", violation: false, actions: [])])

    @Test func walksToQuestionsAndOutcomesAndRecordsThePath() throws {
        let start = try tree.walk([])
        #expect(start.position.questionTextForTest == "A?")
        let middle = try tree.walk(["Yes"])
        #expect(middle.path == ["A? → Yes"])
        #expect(middle.position.questionTextForTest == "B?")
        let end = try tree.walk(["Yes", "Yes"])
        #expect(end.path == ["A? → Yes", "B? → Yes"])
        #expect(end.position == .outcome(tree.outcomes["bad"]!))
        #expect(throws: DecisionTree.WalkError.self) { try tree.walk(["Maybe"]) }
        #expect(throws: DecisionTree.WalkError.self) { try tree.walk(["No", "Yes"]) }
        #expect(tree.problems().isEmpty)
    }

    @Test func structuralProblemsAreFound() {
        var broken = tree
        broken.questions["b"]?.answers.append(.init(label: "Loop", next: "a"))
        broken.questions["c"] = .init(id: "c", text: "C?", answers: [.init(label: "x", next: "nowhere")])
        broken.outcomes["unused"] = .init(id: "unused", category: "spam", violation: false, actions: [])
        let messages = broken.problems().map(\.message)
        #expect(messages.contains { $0.contains("cannot loop") })
        #expect(messages.contains { $0.contains("no answer leads to this question") })
        #expect(messages.contains { $0.contains("\"nowhere\" is not one of the questions") })
        #expect(messages.contains { $0.contains("no answer ends at this outcome") })
    }
}

extension DecisionTree.Position {
    var questionTextForTest: String? {
        if case .question(let question) = self { return question.text }
        return nil
    }
}

@Suite struct ExposurePolicyTests {
    static let policy = ExposurePolicy(sensitiveCategories: ["child_safety", "harassment.threats"], dailyCap: 3, breakEvery: 2)

    /// Each row: the categories claimed today, then the sensitive count, whether over the cap, whether a break is due.
    @Test(arguments: [
        ([], 0, false, false),
        (["spam", "fraud.scam"], 0, false, false),
        (["child_safety"], 1, false, false),
        (["child_safety.grooming", "harassment.threats"], 2, false, true),
        (["harassment", "harassment.threats", "spam"], 1, false, false),
        (["child_safety", "child_safety", "harassment.threats"], 3, true, false),
        (["child_safety", "child_safety", "child_safety", "child_safety"], 4, true, true),
    ] as [([String], Int, Bool, Bool)])
    func standing(claimed: [String], sensitive: Int, overCap: Bool, breakDue: Bool) {
        let standing = Self.policy.standing(claimedToday: Dictionary(claimed.map { ($0, 1) }, uniquingKeysWith: +))
        #expect(standing.sensitive == sensitive)
        #expect(standing.overCap == overCap)
        #expect(standing.breakDue == breakDue)
        #expect(standing.cap == 3)
    }

    @Test func daysAreUTC() {
        #expect(ExposurePolicy.startOfDay(1_795_428_000_000 + 3_600_000) == 1_795_392_000_000)
        #expect(ExposurePolicy.none.standing(claimedToday: ["child_safety": 1]).overCap == false)
    }
}

@Suite struct ReviewStatisticsTests {
    @Test(arguments: [([Int64](), 0.5, nil as Int64?), ([5], 0.9, 5), ([1, 2, 3, 4], 0.5, 2), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9),
                      ([10, 1, 5], 0.5, 5)] as [([Int64], Double, Int64?)])
    func percentiles(values: [Int64], p: Double, expected: Int64?) {
        #expect(ReviewStatistics.percentile(values, p) == expected)
    }

    /// Resolution within the queue's target counts towards attainment; the first action's time is
    /// measured from opening.
    @Test func timingsAgainstTargets() {
        var fast = Fixture.record(id: 1)
        fast.band = .p1
        fast.firstActionAt = fast.createdAt + 600_000
        fast.resolvedAt = fast.createdAt + Fixture.hour
        fast.state = .resolved
        fast.clock = SLAClock(accumulated: Fixture.hour, since: nil)
        var slow = fast
        slow.id = 2
        slow.firstActionAt = nil
        slow.resolvedAt = slow.createdAt + 5 * Fixture.hour
        slow.clock = SLAClock(accumulated: 5 * Fixture.hour, since: nil)
        let timings = ReviewStatistics.timings([fast, slow], policy: Fixture.policy)
        #expect(timings.count == 1)
        #expect(timings.first?.resolved == 2)
        #expect(timings.first?.attainment == 0.5)
        #expect(timings.first?.firstActionP50 == 600_000)
        #expect(timings.first?.resolutionP90 == 5 * Fixture.hour)
        #expect(timings.first?.resolutionTarget == 4 * Fixture.hour)
    }

    @Test func weeksStartOnMonday() {
        // 2026-11-30 is a Monday.
        let monday: Int64 = 1_795_996_800_000
        #expect(ReviewStatistics.startOfWeek(monday + 3 * 86_400_000 + 5_000) == monday)
        #expect(ReviewStatistics.startOfWeek(monday) == monday)
        #expect(ReviewStatistics.days(from: monday, to: monday + 2 * 86_400_000 + 1).count == 3)
    }
}
