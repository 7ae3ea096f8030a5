import Testing
import WardenCore
@testable import WardenReview

/// Golden items mixed into live queues, planned without a database.
@Suite struct GoldenMixPlanningTests {
    static func mixState(source: CaseRecord = Fixture.record(id: 3, state: .resolved, signals: 2, reports: 1)) -> GoldenMixState {
        GoldenMixState(golden: GoldenKey(id: 5, answer: "spam"), source: source, sourceEntries: [
            TimelineEntry(id: 1, at: Fixture.now - Fixture.hour, actor: .system("cases"), kind: .created, fromState: nil, toState: .open, detail: "{}"),
            TimelineEntry(id: 2, at: Fixture.now - Fixture.hour, actor: .system("cases"), kind: .signal, fromState: nil, toState: nil, detail: #"{"signal_id":9}"#),
            TimelineEntry(id: 3, at: Fixture.now - Fixture.hour, actor: "user:ana", kind: .decision, fromState: nil, toState: nil, detail: #"{"decision_id":4}"#),
            TimelineEntry(id: 4, at: Fixture.now - Fixture.hour, actor: .system("cases"), kind: .report, fromState: nil, toState: nil, detail: #"{"report_seq":8}"#),
        ], nextCaseID: 40)
    }

    /// The copy: a new case about the source's subject with what it gathered, claimed by the reviewer;
    /// its timeline carries the source's signal and report entries and nothing of its decision; only
    /// the audit log names the golden item.
    @Test func aMixedItemIsANewClaimedCaseLikeTheSource() throws {
        let (plan, record) = try Fixture.planner.mixGolden(Self.mixState(), queue: "general", reviewer: "user:bo")
        #expect(record.id == 40 && record.subject == Fixture.u1 && record.kind == .review && record.queue == "general")
        #expect(record.state == .inReview && record.assignee == "user:bo" && record.signals == 2 && record.reports == 1)
        #expect(record.category == "spam" && record.createdAt == Fixture.now && record.dueAt != ReviewPolicy.noDeadline)
        #expect(plan.insertedCases == [record] && plan.updatedCases.isEmpty)
        #expect(plan.timeline.map(\.kind) == [.created, .signal, .report, .transition])
        #expect(plan.timeline.allSatisfy { !$0.detail.contains("golden") && !$0.detail.contains("decision") })
        #expect(plan.audit.map(\.action) == ["golden.mix", "case.claim"])
        #expect(plan.goldenCases == [GoldenCaseRow(caseID: 40, goldenID: 5, reviewer: "user:bo", queue: "general", at: Fixture.now)])
        #expect(plan.outbox.isEmpty)
        // An item confirmed from an appeal has no content of its own to copy.
        #expect(throws: ReviewError.self) { try Fixture.planner.mixGolden(Self.mixState(source: Fixture.record(kind: .appeal)), queue: "general", reviewer: "user:bo") }
    }

    /// Deciding a copy records the decision and resolves the case, enforces and sends nothing, and
    /// scores the answer (`none` or the category) against the key.
    @Test(arguments: [(true, "spam", "spam", true), (false, "spam", "none", false), (true, "spam.bulk", "spam.bulk", false)])
    func aDecisionOnACopyIsScoredAndEnforcesNothing(violation: Bool, category: String, answer: String, correct: Bool) throws {
        let draft = DecisionDraft(category: category, violation: violation, actions: [RequestedAction(name: "suspend", duration: 24 * Fixture.hour)],
                                  policy: "spam-policy")
        var draftWithMessage = draft
        draftWithMessage.messages = [OutgoingMessage(kind: .userNotice, macro: "m", text: "you were suspended")]
        let state = DecisionState(record: Fixture.record(state: .inReview, holder: "user:bo"), reporters: [ReporterRecord.new("user:r1", trust: 0.5)],
                                  nextDecisionID: 11, nextActionID: 21, golden: GoldenKey(id: 5, answer: "spam"))
        let (plan, decision) = try Fixture.planner.decide(state, draftWithMessage, actor: "user:bo", context: Fixture.context)
        #expect(plan.decisions.map(\.id) == [11] && plan.updatedCases.first?.state == .resolved)
        #expect(plan.actions.isEmpty && plan.strikes.isEmpty && plan.statements.isEmpty && plan.reporters.isEmpty && plan.outbox.isEmpty)
        #expect(decision.actions.isEmpty && !decision.hasStatement)
        #expect(plan.goldenChecks == [GoldenCheckRow(caseID: 7, decisionID: 11, decidedBy: "user:bo", answer: answer, expected: "spam", correct: correct, at: Fixture.now)])
        #expect(plan.audit.map(\.action) == ["decision.create", "golden.check"])
        // The same decision on a live case enforces.
        let (live, _) = try Fixture.planner.decide(DecisionState(record: state.record, reporters: state.reporters, nextDecisionID: 11, nextActionID: 21),
                                                   draftWithMessage, actor: "user:bo", context: Fixture.context)
        #expect(!live.actions.isEmpty && live.goldenChecks.isEmpty && !live.outbox.isEmpty)
    }
}
