import Testing
import WardenCore
@testable import WardenReview

/// The review rules, planned without a database: what each operation writes, and what it refuses.
@Suite struct MovePlanningTests {
    @Test func claimTakesTheCaseUnderALease() throws {
        let (plan, record) = try Fixture.planner.claim(Fixture.record(), reviewer: "user:ana")
        #expect(record.state == .inReview)
        #expect(record.assignee == "user:ana")
        #expect(record.leaseExpiresAt == Fixture.now + 300_000)
        #expect(plan.updatedCases == [record])
        #expect(plan.timeline.map(\.kind) == [.transition])
        #expect(plan.timeline.first?.from == .open && plan.timeline.first?.to == .inReview)
        #expect(plan.audit.map(\.action) == ["case.claim"])
        #expect(plan.audit.first?.detail == #"{"from":"open","to":"in_review"}"#)
    }

    @Test func theDeciderOfAnAppealedCaseMayNotClaimTheAppeal() {
        var appeal = Fixture.record(kind: .appeal)
        appeal.excludedReviewer = "user:ana"
        #expect(throws: ReviewError(.forbidden, "user:ana decided the appealed case, so someone else must review the appeal")) {
            try Fixture.planner.claim(appeal, reviewer: "user:ana")
        }
    }

    @Test func aResolvedCaseCannotBeClaimed() {
        #expect(throws: ReviewError(.conflict, "case 7: a case that is resolved cannot claim; from resolved a case can: appeal, close")) {
            try Fixture.planner.claim(Fixture.record(state: .resolved), reviewer: "user:ana")
        }
    }

    /// Each change on a case held by ana: what it writes (timeline kinds, audit actions) and the state after.
    @Test(arguments: [
        (CaseChange.command(.hold, note: "waiting for logs"), [TimelineEntry.Kind.transition], ["case.hold"], CaseState.onHold),
        (.command(.release, note: nil), [.transition], ["case.release"], .open),
        (.escalate(queue: "fraud", reason: "looks like a scam"), [.transition], ["case.escalate"], .escalated),
        (.handoff(to: "user:ben", note: "you know this one"), [.handoff], ["case.handoff"], .inReview),
        (.consult(with: "user:ben", question: "is this a scam?"), [.consult], ["case.consult"], .inReview),
        (.comment("seen before"), [.comment], ["case.comment"], .inReview),
        (.renew, [], [], .inReview),
    ])
    func changesOfAHeldCase(change: CaseChange, timeline: [TimelineEntry.Kind], audit: [String], state: CaseState) throws {
        let (plan, record) = try Fixture.planner.change(Fixture.record(state: .inReview, holder: "user:ana"), change, actor: "user:ana", nextConsultID: 3)
        #expect(plan.timeline.map(\.kind) == timeline)
        #expect(plan.audit.map(\.action) == audit)
        #expect(record.state == state)
        #expect(plan.updatedCases == [record])
    }

    @Test func changesRecordWhatTheyDid() throws {
        let held = Fixture.record(state: .inReview, holder: "user:ana")
        let (escalated, afterEscalation) = try Fixture.planner.change(held, .escalate(queue: "fraud", reason: "scam"), actor: "user:ana")
        #expect(afterEscalation.queue == "fraud")
        #expect(afterEscalation.escalationReason == "scam")
        #expect(afterEscalation.assignee == nil)
        #expect(afterEscalation.firstActionAt == Fixture.now)
        #expect(escalated.timeline.first?.detail == #"{"from_queue":"general","to_queue":"fraud","reason":"scam"}"#)

        let (handedOff, afterHandoff) = try Fixture.planner.change(held, .handoff(to: "user:ben", note: nil), actor: "user:ana")
        #expect(afterHandoff.assignee == "user:ben")
        #expect(handedOff.timeline.first?.detail == #"{"to":"user:ben"}"#)

        let (consulted, afterConsult) = try Fixture.planner.change(held, .consult(with: "user:ben", question: "why?"), actor: "user:ana", nextConsultID: 3)
        #expect(consulted.consults == [ConsultRow(id: 3, caseID: 7, askedBy: "user:ana", reviewer: "user:ben", question: "why?", askedAt: Fixture.now)])
        #expect(consulted.timeline.first?.detail == #"{"consult_id":3,"with":"user:ben","question":"why?"}"#)
        #expect(afterConsult.firstActionAt == Fixture.now)
    }

    @Test(arguments: [
        (CaseChange.command(.hold, note: nil), ActorRef("user:ben"), ReviewError(.conflict, "case 7 is held by user:ana, not user:ben; only its holder can hold it")),
        (.escalate(queue: "nowhere", reason: "x"), ActorRef("user:ana"), ReviewError(.invalid, "queue \"nowhere\" does not exist; use one of general, fraud, appeals")),
        (.handoff(to: "user:ana", note: nil), ActorRef("user:ana"), ReviewError(.invalid, "the case is already yours")),
        (.consult(with: "user:ana", question: "?"), ActorRef("user:ana"), ReviewError(.invalid, "ask someone else for a consult: user:ana holds the case")),
        (.renew, ActorRef("user:ben"), ReviewError(.conflict, "case 7 is held by user:ana, not user:ben; only its holder can renew the lease of it")),
    ])
    func refusedChanges(change: CaseChange, actor: ActorRef, error: ReviewError) {
        #expect(throws: error) { try Fixture.planner.change(Fixture.record(state: .inReview, holder: "user:ana"), change, actor: actor) }
    }

    /// A lead's reassignment, from each state it takes: who holds the case after, the state, and
    /// what is written; a waiting case is claimed for the reviewer, a held one changes hands, and
    /// nil takes a held case back to its queue.
    @Test(arguments: [
        (CaseState.open, nil as ActorRef?, ActorRef?("user:ben"), ActorRef?("user:ben"), CaseState.inReview, [TimelineEntry.Kind.transition]),
        (.escalated, nil, "user:ben", "user:ben", .inReview, [.transition]),
        (.inReview, "user:ana", "user:ben", "user:ben", .inReview, [.handoff]),
        (.onHold, "user:ana", "user:ben", "user:ben", .onHold, [.handoff]),
        (.inReview, "user:ana", nil, nil, .open, [.transition]),
        (.onHold, "user:ana", nil, nil, .open, [.transition]),
    ] as [(CaseState, ActorRef?, ActorRef?, ActorRef?, CaseState, [TimelineEntry.Kind])])
    func leadsReassign(state: CaseState, holder: ActorRef?, to reviewer: ActorRef?, after: ActorRef?, stateAfter: CaseState, timeline: [TimelineEntry.Kind]) throws {
        let (plan, record) = try Fixture.planner.change(Fixture.record(state: state, holder: holder), .reassign(to: reviewer, note: "stale"), actor: "user:lead")
        #expect(record.assignee == after)
        #expect(record.state == stateAfter)
        if stateAfter == .inReview { #expect(record.leaseExpiresAt == Fixture.now + 300_000) }
        if stateAfter == .open { #expect(record.leaseExpiresAt == nil) }
        #expect(plan.timeline.map(\.kind) == timeline)
        #expect(plan.timeline.first?.actor == "user:lead")
        #expect(plan.audit.map(\.action) == ["case.reassign"])
        #expect(plan.audit.first?.actor == "user:lead")
    }

    @Test(arguments: [
        (CaseState.open, nil as ActorRef?, nil as ActorRef?, ReviewError(.conflict, "case 7 is open; only a held case can be taken back to its queue")),
        (.inReview, "user:ben", "user:ben", ReviewError(.conflict, "user:ben already holds case 7")),
        (.resolved, nil, "user:ben", ReviewError(.conflict, "case 7: a case that is resolved cannot claim; from resolved a case can: appeal, close")),
    ] as [(CaseState, ActorRef?, ActorRef?, ReviewError)])
    func refusedReassignments(state: CaseState, holder: ActorRef?, to reviewer: ActorRef?, error: ReviewError) {
        #expect(throws: error) { try Fixture.planner.change(Fixture.record(state: state, holder: holder), .reassign(to: reviewer, note: nil), actor: "user:lead") }
    }

    @Test func onlyTheHolderMovesAWaitingCaseAfterClaimingIt() {
        #expect(throws: ReviewError(.conflict, "case 7 is open, not held by anyone; claim it before you hold it")) {
            try Fixture.planner.change(Fixture.record(), .command(.hold, note: nil), actor: "user:ana")
        }
    }

    @Test func aCommentByAnyoneElseLeavesTheHolderAndClockAlone() throws {
        let held = Fixture.record(state: .inReview, holder: "user:ana")
        let (_, record) = try Fixture.planner.change(held, .comment("fyi"), actor: "user:lead")
        #expect(record.firstActionAt == nil)
        #expect(record.leaseExpiresAt == held.leaseExpiresAt)
    }

    @Test func consultsAreAnsweredOnceByWhomTheyWereAsked() throws {
        let consult = ConsultRecord(id: 3, caseID: 7, askedBy: "user:ana", reviewer: "user:ben", question: "?", askedAt: 1, answer: nil,
                                    answeredAt: nil, queue: "general", state: .inReview, subject: Fixture.u1, category: "spam", assignee: "user:ana")
        let (plan, answered) = try Fixture.planner.answer(consult, answer: "yes", actor: "user:ben")
        #expect(answered.answer == "yes" && answered.answeredAt == Fixture.now)
        #expect(plan.answers == [ConsultAnswer(consultID: 3, answer: "yes", at: Fixture.now)])
        #expect(plan.timeline.map(\.kind) == [.consultAnswer])
        #expect(throws: ReviewError(.forbidden, "consult 3 was asked of user:ben, not user:cy; only they can answer it")) {
            try Fixture.planner.answer(consult, answer: "no", actor: "user:cy")
        }
        #expect(throws: ReviewError(.conflict, "consult 3 is already answered")) { try Fixture.planner.answer(answered, answer: "no", actor: "user:ben") }
    }

    @Test func lapsedLeasesReturnCasesToTheirQueue() throws {
        let plan = try Fixture.planner.expireLease(Fixture.record(state: .inReview, holder: "user:ana"))
        #expect(plan.updatedCases.first?.state == .open)
        #expect(plan.updatedCases.first?.assignee == nil)
        #expect(plan.audit.map(\.action) == ["case.lease_expired"])
        #expect(plan.timeline.first?.detail == #"{"reason":"the lease of user:ana lapsed without activity"}"#)
    }
}

@Suite struct MergePlanningTests {
    static func signal(_ ref: Int64, subject: String = "user:u1", category: String = "spam", severity: String = "medium", queue: String? = nil) -> CaseInput {
        CaseInput(kind: .signal, ref: ref, subject: EntityRef(parsing: subject)!, category: category, severity: severity, rule: "r1",
                  requestedQueue: queue, at: Fixture.now - 5000)
    }

    static func report(_ ref: Int64, by reporter: String) -> CaseInput {
        CaseInput(kind: .report, ref: ref, subject: EntityRef(parsing: "user:u1")!, category: "spam", severity: "medium", reporter: reporter,
                  at: Fixture.now - 1000)
    }

    @Test func aFirstSignalOpensARoutedCase() {
        let (plan, record) = Fixture.planner.merge(Self.signal(1, category: "fraud.scam"), MergeState(alreadyMerged: false, openCase: nil, nextCaseID: 40))
        #expect(record?.id == 40)
        #expect(record?.queue == "fraud")
        #expect(record?.signals == 1)
        #expect(plan.insertedCases.map(\.id) == [40])
        #expect(plan.items == [CaseItem(kind: .signal, ref: 1, caseID: 40, reporter: nil, weight: 0, duplicate: false, at: Fixture.now - 5000)])
        #expect(plan.timeline.map(\.kind) == [.created, .signal])
        #expect(plan.audit.map(\.action) == ["case.create"])
    }

    @Test func aRequestedQueueWinsOverRouting() {
        let (_, record) = Fixture.planner.merge(Self.signal(1, category: "fraud", queue: "general"), MergeState(alreadyMerged: false, openCase: nil, nextCaseID: 1))
        #expect(record?.queue == "general")
    }

    @Test func mergingTwiceWritesNothing() {
        let (plan, record) = Fixture.planner.merge(Self.signal(1), MergeState(alreadyMerged: true, openCase: nil, nextCaseID: 1))
        #expect(plan.isEmpty)
        #expect(record == nil)
    }

    @Test func aMoreSevereInputTakesOverTheCategory() {
        let open = Fixture.record()
        let (plan, record) = Fixture.planner.merge(Self.signal(2, category: "fraud", severity: "high"), MergeState(alreadyMerged: false, openCase: open, nextCaseID: 99))
        #expect(record?.id == 7)
        #expect(record?.severity == "high" && record?.category == "fraud")
        #expect(record?.signals == 2)
        #expect(record?.queue == "general")
        #expect(plan.insertedCases.isEmpty && plan.updatedCases.count == 1)
        let (_, lower) = Fixture.planner.merge(Self.signal(3, category: "fraud", severity: "low"), MergeState(alreadyMerged: false, openCase: open, nextCaseID: 99))
        #expect(lower?.category == "spam")
    }

    /// A report weighs its reporter's trust, once per case; a muted reporter's weighs nothing.
    @Test(arguments: [
        (ReporterRecord?.none, false, 0.5, false, 1),
        (ReporterRecord(id: "user:r", trust: 0.9, muted: false, reports: 4, upheld: 4, rejected: 0), false, 0.9, false, 5),
        (ReporterRecord(id: "user:r", trust: 0.9, muted: true, reports: 4, upheld: 4, rejected: 0), false, 0.0, false, 5),
        (ReporterRecord(id: "user:r", trust: 0.9, muted: false, reports: 4, upheld: 4, rejected: 0), true, 0.0, true, 5),
    ])
    func reportsWeighTheirReportersTrust(reporter: ReporterRecord?, alreadyOnCase: Bool, weight: Double, duplicate: Bool, reports: Int) {
        let open = Fixture.record(signals: 0, reports: 1)
        let (plan, record) = Fixture.planner.merge(Self.report(9, by: "user:r"),
                                                   MergeState(alreadyMerged: false, openCase: open, nextCaseID: 8, reporter: reporter, reporterOnCase: alreadyOnCase))
        #expect(plan.items.first?.weight == weight)
        #expect(plan.items.first?.duplicate == duplicate)
        #expect(record?.reports == (duplicate ? 1 : 2))
        #expect(record?.reporterWeight == weight)
        #expect(plan.reporters.map(\.reports) == [reports])
        #expect(plan.reporters.first?.muted == (reporter?.muted ?? false))
    }
}

@Suite struct DecisionPlanningTests {
    static func state(_ record: CaseRecord = Fixture.record(state: .inReview, holder: "user:ana"), reporters: [ReporterRecord] = [],
                      appealed: AppealedDecision? = nil) -> DecisionState {
        DecisionState(record: record, reporters: reporters, nextDecisionID: 11, nextActionID: 21, appealed: appealed)
    }

    @Test func aDecisionResolvesTheCaseAndDeliversItsActions() throws {
        let draft = DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "suspend", duration: 24 * Fixture.hour)],
                                  policy: "spam-policy", rationale: "bulk messages")
        let (plan, decision) = try Fixture.planner.decide(Self.state(), draft, actor: "user:ana", context: Fixture.context)
        #expect(decision.id == 11)
        #expect(decision.actions.map(\.id) == [21])
        #expect(decision.hasStatement)
        #expect(plan.decisions.map(\.id) == [11])
        #expect(plan.actions.map(\.action) == ["suspend"])
        #expect(plan.updatedCases.first?.state == .resolved)
        #expect(plan.updatedCases.first?.resolvedAt == Fixture.now)
        #expect(plan.outbox.map(\.topic) == ["action.applied"])
        #expect(plan.outbox.first?.idempotencyKey == "action:21")
        #expect(plan.outbox.first?.orderingKey == "user:u1")
        #expect(plan.timeline.map(\.kind) == [.action, .decision, .transition])
        #expect(plan.audit.map(\.action) == ["decision.create"])
        let data = JSONValue.parse(Array(plan.outbox[0].body.utf8))?["data"]
        #expect(data?["ends_at"] == .string(Timestamp.formatRFC3339(Fixture.now + 24 * Fixture.hour)))
        #expect(data?["reversible"] == .bool(true))
    }

    /// A violation under a category with a ladder gives a strike that expires with the ladder's expiry;
    /// no violation, or a category without a ladder, gives none.
    @Test(arguments: [("spam", true, 1), ("spam.bulk", true, 1), ("spam", false, 0), ("fraud", true, 0)])
    func strikes(category: String, violation: Bool, strikes: Int) throws {
        let draft = DecisionDraft(category: category, violation: violation, actions: [RequestedAction(name: violation ? "warn" : "no_action", duration: nil)])
        let (plan, _) = try Fixture.planner.decide(Self.state(), draft, actor: "user:ana", context: Fixture.context)
        #expect(plan.strikes.count == strikes)
        if let strike = plan.strikes.first {
            #expect(strike == Strike(subject: Fixture.u1, policy: "spam", decisionID: 11, at: Fixture.now, expiresAt: Fixture.now + 90 * 24 * Fixture.hour))
        }
    }

    @Test func appealsGiveNoStrikes() throws {
        let draft = DecisionDraft(category: "spam", violation: true, actions: [], appealOutcome: .upheld)
        let appeal = Fixture.record(kind: .appeal, state: .inReview, holder: "user:ben")
        let (plan, _) = try Fixture.planner.decide(Self.state(appeal), draft, actor: "user:ben", context: Fixture.context)
        #expect(plan.strikes.isEmpty)
    }

    /// Every DSA field rule: which decisions get a statement, and what it says.
    @Test(arguments: [
        // actions, illegal, legal ground, policy, restrictive?, expected fields
        (["warn"], false, String?.none, String?.none, false, [String: JSONValue]()),
        (["remove_content"], false, nil, "spam-policy", true,
         ["decision_visibility": .array([.string("DECISION_VISIBILITY_CONTENT_REMOVED")]), "decision_ground": .string("DECISION_GROUND_INCOMPATIBLE_CONTENT"),
          "incompatible_content_ground": .string("spam-policy"), "incompatible_content_illegal": .string("No"),
          "category": .string("STATEMENT_CATEGORY_SCAMS_AND_FRAUD"),
          "category_specification": .array([.string("KEYWORD_INAUTHENTIC_ACCOUNTS"), .string("KEYWORD_OTHER")])]),
        (["remove_content"], false, nil, nil, true, ["incompatible_content_ground": .string("spam")]),
        (["ban"], true, "Section 263 StGB", nil, true,
         ["decision_account": .string("DECISION_ACCOUNT_TERMINATED"), "decision_ground": .string("DECISION_GROUND_ILLEGAL_CONTENT"),
          "illegal_content_legal_ground": .string("Section 263 StGB"), "illegal_content_explanation": .string("bulk messages")]),
        (["suspend"], false, nil, nil, true,
         ["decision_account": .string("DECISION_ACCOUNT_SUSPENDED"), "end_date_account_restriction": .string("2027-01-16"),
          "automated_detection": .string("Yes"), "automated_decision": .string("AUTOMATED_DECISION_NOT_AUTOMATED"),
          "source_type": .string("SOURCE_VOLUNTARY"), "territorial_scope": .array([.string("DE"), .string("FR")]),
          "content_type": .array([.string("CONTENT_TYPE_OTHER")]), "puid": .string("warden-decision-11"),
          "application_date": .string("2027-01-15"), "content_date": .string("2027-01-15")]),
    ])
    func statementsOfReasons(actions: [String], illegal: Bool, ground: String?, policy: String?, restrictive: Bool, fields: [String: JSONValue]) throws {
        let requested = actions.map { RequestedAction(name: $0, duration: $0 == "suspend" ? 24 * Fixture.hour : nil) }
        let draft = DecisionDraft(category: "spam", violation: true, actions: requested, policy: policy, rationale: "bulk messages",
                                  illegal: illegal, legalGround: ground)
        let (plan, decision) = try Fixture.planner.decide(Self.state(), draft, actor: "user:ana", context: Fixture.context)
        #expect(decision.hasStatement == restrictive)
        #expect(plan.statements.count == (restrictive ? 1 : 0))
        guard let body = plan.statements.first?.body, let statement = JSONValue.parse(Array(body.utf8)) else { return }
        for (name, value) in fields { #expect(statement[name] == value, "\(name)") }
        #expect(TransparencyDatabase.problems(statement) == [], "the Transparency Database would refuse \(body)")
    }

    /// The statement keeps within the database's limits whatever the decision says: long texts are
    /// clipped, an end date past 2038-01-01 is left out, a category without a mapping gets the
    /// database's "other violation of terms and conditions", and one without keywords sends none.
    @Test func statementsStayWithinTheDatabasesLimits() throws {
        let long = String(repeating: "é", count: 6000)
        let draft = DecisionDraft(category: "fraud", violation: true, actions: [RequestedAction(name: "suspend", duration: 20 * 365 * 24 * Fixture.hour)],
                                  policy: String(repeating: "p", count: 900), rationale: long, illegal: false)
        let (plan, _) = try Fixture.planner.decide(Self.state(), draft, actor: "user:ana", context: Fixture.context)
        let statement = try #require(JSONValue.parse(Array(plan.statements[0].body.utf8)))
        #expect(TransparencyDatabase.problems(statement) == [])
        #expect(statement["category"] == .string("STATEMENT_CATEGORY_OTHER_VIOLATION_TC"))
        #expect(statement["category_specification"] == nil)
        #expect(statement["end_date_account_restriction"] == nil)
        guard case .string(let explanation)? = statement["incompatible_content_explanation"], case .string(let facts)? = statement["decision_facts"],
              case .string(let ground)? = statement["incompatible_content_ground"] else { Issue.record("texts missing"); return }
        #expect(explanation.unicodeScalars.count == 2000 && explanation.hasSuffix("…"))
        #expect(facts.unicodeScalars.count == 5000)
        #expect(ground.unicodeScalars.count == 500)
    }

    /// A restriction for illegal content without the law it breaks would make a statement the
    /// database refuses: the decision is refused instead, and nothing is planned.
    @Test func anIllegalRestrictionNeedsItsLegalGround() {
        for ground in [String?.none, "  "] {
            let draft = DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "ban", duration: nil)], illegal: true, legalGround: ground)
            #expect(throws: ReviewError(.invalid, "a restriction for illegal content needs legal_ground: the law it breaks goes into the statement of reasons")) {
                try Fixture.planner.decide(Self.state(), draft, actor: "user:ana", context: Fixture.context)
            }
        }
    }

    @Test func reportedContentIsAnArticle16NoticeAndContentTypesFollowTheSubject() throws {
        let record = Fixture.record(subject: "content:c9", state: .inReview, holder: "user:ana", signals: 0, reports: 2)
        let draft = DecisionDraft(category: "spam.bulk", violation: true, actions: [RequestedAction(name: "remove_content", duration: nil)])
        let (plan, _) = try Fixture.planner.decide(Self.state(record), draft, actor: "user:ana", context: Fixture.context)
        let statement = try #require(JSONValue.parse(Array(plan.statements[0].body.utf8)))
        #expect(statement["source_type"] == .string("SOURCE_ARTICLE_16"))
        #expect(statement["automated_detection"] == .string("No"))
        #expect(statement["content_type"] == .array([.string("CONTENT_TYPE_TEXT")]))
        #expect(statement["incompatible_content_explanation"] == .string("Decided under policy spam.bulk."))
    }

    /// Reporters whose report was upheld gain trust; the others lose it (Beta prior worth two reports at 0.5).
    @Test(arguments: [
        (0, 0, true, 1, 0, 2.0 / 3.0), (0, 0, false, 0, 1, 1.0 / 3.0), (8, 0, true, 9, 0, 10.0 / 11.0), (1, 7, false, 1, 8, 2.0 / 11.0),
    ])
    func reporterTrust(upheld: Int, rejected: Int, violation: Bool, upheldAfter: Int, rejectedAfter: Int, trust: Double) throws {
        let reporter = ReporterRecord(id: "user:r", trust: 0.5, muted: false, reports: upheld + rejected + 1, upheld: upheld, rejected: rejected)
        let draft = DecisionDraft(category: "spam", violation: violation, actions: [RequestedAction(name: violation ? "warn" : "no_action", duration: nil)])
        let (plan, _) = try Fixture.planner.decide(Self.state(reporters: [reporter]), draft, actor: "user:ana", context: Fixture.context)
        let after = try #require(plan.reporters.first)
        #expect(after.upheld == upheldAfter && after.rejected == rejectedAfter)
        #expect(abs(after.trust - trust) < 1e-12)
    }

    @Test func messagesGoToTheSubjectTheReportersAndTheTimeline() throws {
        var draft = DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "warn", duration: nil)], macro: "m")
        draft.messages = [OutgoingMessage(kind: .userNotice, macro: "m", text: "you were warned"),
                          OutgoingMessage(kind: .reporterReply, macro: "m", text: "thanks"),
                          OutgoingMessage(kind: .internalNote, macro: "m", text: "note")]
        let reporters = [ReporterRecord.new("user:r1", trust: 0.5), .new("user:r2", trust: 0.5)]
        let (plan, _) = try Fixture.planner.decide(Self.state(reporters: reporters), draft, actor: "user:ana", context: Fixture.context)
        #expect(plan.outbox.map(\.idempotencyKey) == ["action:21", "decision:11:notice", "decision:11:reply:user:r1", "decision:11:reply:user:r2"])
        #expect(plan.outbox.map(\.orderingKey) == ["user:u1", "user:u1", "user:r1", "user:r2"])
        #expect(plan.timeline.map(\.kind) == [.action, .decision, .transition, .note])
    }

    @Test func onlyTheHolderDecidesAndNotWhileOnHold() {
        let draft = DecisionDraft(category: "spam", violation: false, actions: [])
        #expect(throws: ReviewError(.conflict, "case 7 is held by user:ana, not user:ben; only its holder can decide it")) {
            try Fixture.planner.decide(Self.state(), draft, actor: "user:ben", context: Fixture.context)
        }
        #expect(throws: ReviewError(.conflict, "case 7 is on hold; resume it before deciding")) {
            try Fixture.planner.decide(Self.state(Fixture.record(state: .onHold, holder: "user:ana")), draft, actor: "user:ana", context: Fixture.context)
        }
        #expect(throws: ReviewError(.invalid, "\"zap\" is not an action of the pack's catalogue")) {
            try Fixture.planner.decide(Self.state(), DecisionDraft(category: "spam", violation: true, actions: [RequestedAction(name: "zap", duration: nil)]),
                                       actor: "user:ana", context: Fixture.context)
        }
    }
}

@Suite struct LadderTests {
    /// The step for a violation follows the subject's live strikes, and stays on the last step.
    @Test(arguments: [(0, "warn"), (1, "suspend"), (2, "ban"), (7, "ban"), (-1, "warn")])
    func ladderSteps(strikes: Int, action: String) {
        #expect(Fixture.context.catalogue.ladder(for: "spam.bulk")?.step(afterStrikes: strikes).action == action)
    }
}

@Suite struct AppealPlanningTests {
    static let resolved = Fixture.record(state: .resolved)

    @Test func anAppealWaitsInTheAppealsQueueAwayFromTheDecider() throws {
        let (plan, appeal) = try Fixture.planner.openAppeal(AppealState(record: Self.resolved, decider: "user:ana", nextCaseID: 50),
                                                            appellant: Fixture.u1, statement: "I did nothing", actor: "token:app")
        #expect(appeal.id == 50 && appeal.kind == .appeal && appeal.queue == "appeals" && appeal.source == .appeal)
        #expect(appeal.appealOf == 7 && appeal.excludedReviewer == "user:ana")
        #expect(plan.updatedCases.map(\.state) == [.appealed])
        #expect(plan.insertedCases.map(\.id) == [50])
        #expect(plan.audit.map(\.action) == ["appeal.create", "case.create"])
    }

    @Test(arguments: [
        (Fixture.record(kind: .appeal, state: .resolved), ActorRef?("user:ana"), ReviewError(.invalid, "case 7 is itself an appeal; appeals cannot be appealed")),
        (Fixture.record(state: .resolved), nil, ReviewError(.conflict, "case 7 has no decision to appeal")),
        (Fixture.record(state: .appealed), ActorRef?("user:ana"), ReviewError(.conflict, "case 7: a case that is appealed cannot appeal; from appealed a case can: close")),
    ])
    func refusedAppeals(record: CaseRecord, decider: ActorRef?, error: ReviewError) {
        #expect(throws: error) {
            try Fixture.planner.openAppeal(AppealState(record: record, decider: decider, nextCaseID: 50), appellant: Fixture.u1, statement: nil, actor: "token:app")
        }
    }

    static func appealedDecision() -> AppealedDecision {
        let suspend = ActionRecord(id: 3, decisionID: 2, caseID: 7, subject: Fixture.u1, action: "suspend", duration: Fixture.hour, createdAt: 1,
                                   reverses: nil, reversedAt: nil, reversedBy: nil, reversalReason: nil)
        let warn = ActionRecord(id: 4, decisionID: 2, caseID: 7, subject: Fixture.u1, action: "warn", duration: nil, createdAt: 1,
                                reverses: nil, reversedAt: nil, reversedBy: nil, reversalReason: nil)
        return AppealedDecision(record: Fixture.record(state: .appealed), decisionID: 2, category: "spam", liveActions: [suspend, warn])
    }

    /// Upheld: the appealed case closes, nothing is reversed. Overturned: its reversible actions are
    /// reversed (warn has no reversal), its strikes lifted. Either way the subject hears the outcome.
    @Test(arguments: [(DecisionDraft.AppealOutcome.upheld, [Int64](), [Int64]()), (.overturned, [3], [2])])
    func appealOutcomes(outcome: DecisionDraft.AppealOutcome, reversed: [Int64], lifted: [Int64]) throws {
        let appeal = Fixture.record(id: 50, kind: .appeal, state: .inReview, holder: "user:ben")
        let draft = DecisionDraft(category: "spam", violation: outcome == .upheld, actions: [], rationale: "reviewed again", appealOutcome: outcome)
        let state = DecisionState(record: appeal, reporters: [], nextDecisionID: 11, nextActionID: 21, appealed: Self.appealedDecision())
        let (plan, decision) = try Fixture.planner.decide(state, draft, actor: "user:ben", context: Fixture.context)
        #expect(decision.appealOutcome == outcome)
        #expect(plan.reversals.map(\.actionID) == reversed)
        #expect(plan.liftedStrikes.map(\.decisionID) == lifted)
        #expect(plan.updatedCases.map(\.id) == [50, 7])
        #expect(plan.updatedCases.map(\.state) == [.resolved, .closed])
        let topics = plan.outbox.map(\.topic)
        #expect(topics == (outcome == .overturned ? ["action.reversed", "user.notice"] : ["user.notice"]))
        if outcome == .overturned {
            #expect(plan.actions.map(\.action) == ["unsuspend"])
            #expect(plan.actions.first?.reverses == 3 && plan.actions.first?.id == 21)
            #expect(plan.outbox.first?.idempotencyKey == "reversal:3")
        }
        let notice = JSONValue.parse(Array(plan.outbox.last!.body.utf8))?["data"]
        #expect(notice?["outcome"] == .string(outcome.rawValue))
        #expect(notice?["message"] == .string("reviewed again"))
        #expect(plan.outbox.last?.idempotencyKey == "appeal:50:notice")
    }

    @Test(arguments: [
        (Int64?.some(1), Int64?.none, "suspend", ReviewError(.conflict, "action 3 is itself a reversal; it cannot be reversed")),
        (nil, Int64?.some(0), "suspend", ReviewError(.conflict, "action 3 was already reversed by user:lead at 1970-01-01T00:00:00Z")),
        (nil, nil, "warn", ReviewError(.invalid, "warn cannot be reversed: the catalogue names no reversal for it")),
    ])
    func refusedReversals(reverses: Int64?, reversedAt: Int64?, action: String, error: ReviewError) {
        let record = ActionRecord(id: 3, decisionID: 2, caseID: 7, subject: Fixture.u1, action: action, duration: nil, createdAt: 1, reverses: reverses,
                                  reversedAt: reversedAt, reversedBy: reversedAt.map { _ in "user:lead" }, reversalReason: nil)
        #expect(throws: error) {
            try Fixture.planner.reverse(ReversalState(action: record, record: Fixture.record(state: .resolved), category: "spam", nextActionID: 9),
                                        reason: "mistake", actor: "user:lead", context: Fixture.context)
        }
    }

    @Test func aReversalDeliversTheCompensatingActionAndLiftsStrikes() throws {
        let action = Self.appealedDecision().liveActions[0]
        let (plan, reversed) = try Fixture.planner.reverse(ReversalState(action: action, record: Fixture.record(state: .resolved), category: "spam", nextActionID: 9),
                                                           reason: "mistake", actor: "user:lead", context: Fixture.context)
        #expect(reversed.reversedAt == Fixture.now && reversed.reversedBy == "user:lead" && reversed.reversalReason == "mistake")
        #expect(plan.reversals == [ActionReversal(actionID: 3, at: Fixture.now, by: "user:lead", reason: "mistake")])
        #expect(plan.actions.map(\.action) == ["unsuspend"])
        #expect(plan.liftedStrikes == [LiftedStrikes(decisionID: 2, at: Fixture.now)])
        #expect(plan.audit.map(\.action) == ["action.reverse"])
        #expect(plan.timeline.map(\.kind) == [.reversal])
    }
}

@Suite struct SLAPlanningTests {
    @Test func dueEventsAreRaisedOnceEach() throws {
        // A minute past the band's first-action target: its warning and breach are due, the
        // resolution warning (at 80 % of a target at least four times as long) is not.
        var record = Fixture.record()
        Fixture.planner.reprioritise(&record)
        let firstAction = try #require(Fixture.sla.targets[record.band]?.firstAction)
        record.clock = SLAClock(accumulated: 0, since: Fixture.now - firstAction - 60_000)
        Fixture.planner.reprioritise(&record)
        let (plan, raised) = Fixture.planner.raiseSLAEvents(record)
        #expect(raised.map(\.event) == [.firstActionWarning, .firstActionBreached])
        #expect(plan.outbox.map(\.topic) == ["sla.warning", "sla.breached"])
        #expect(plan.caseSignals.map(\.severity) == ["medium", "high"])
        #expect(plan.audit.map(\.action) == ["sla.first_action.warning", "sla.first_action.breached"])
        let after = try #require(plan.updatedCases.first)
        #expect(after.slaRaised == SLAEvent.firstActionWarning.flag | SLAEvent.firstActionBreached.flag)
        let (again, none) = Fixture.planner.raiseSLAEvents(after)
        #expect(none.isEmpty && again.outbox.isEmpty)
    }
}
