import Foundation
import Testing
import WardenCore
@testable import WardenIncidents

enum Fixture {
    static let now: Int64 = 1_780_000_000_000
    static let chat = NotificationChannel(name: "safety-chat", kind: .chat)
    static let pagerDuty = NotificationChannel(name: "pd", kind: .pagerduty, routingKey: "R0UT1NG")
    static var settings: IncidentSettings {
        var settings = IncidentSettings.standard
        settings.pageOnOpen = ["SEV0": "safety", "SEV1": "safety"]
        settings.updateChannels = [chat]
        return settings
    }
    static func planner(at offset: Int64 = 0) -> IncidentPlanner { IncidentPlanner(settings: settings, now: now + offset) }
    static func incident(status: IncidentStatus = .investigating, severity: String = "SEV1") -> IncidentRecord {
        var record = IncidentRecord(id: 4, title: "Card testing wave", summary: "", severity: severity, status: status, createdAt: now,
                                    createdBy: "user:ana", detectedAt: now - 120_000)
        record.updateDueAt = now + 3_600_000
        return record
    }
}

/// The incident lifecycle as a table: every status pair, allowed or refused.
@Suite struct IncidentLifecycleTests {
    @Test(arguments: [
        (IncidentStatus.investigating, IncidentStatus.identified, true), (.investigating, .mitigating, true), (.investigating, .monitoring, true),
        (.investigating, .resolved, true), (.investigating, .closed, false), (.investigating, .investigating, false),
        (.monitoring, .mitigating, true), (.monitoring, .resolved, true), (.identified, .investigating, true),
        (.resolved, .closed, true), (.resolved, .investigating, true), (.resolved, .monitoring, false), (.resolved, .resolved, false),
        (.closed, .investigating, false), (.closed, .resolved, false),
    ])
    func moves(from: IncidentStatus, to: IncidentStatus, allowed: Bool) {
        #expect(((try? IncidentLifecycle.next(from, to)) != nil) == allowed)
    }

    @Test func refusalsSayWhatIsAllowed() {
        #expect(throws: IncidentTransitionError(from: .resolved, to: .mitigating)) { try IncidentLifecycle.next(.resolved, .mitigating) }
        #expect(IncidentTransitionError(from: .resolved, to: .mitigating).description
                == "an incident that is resolved cannot become mitigating; from resolved it can move to: investigating, closed")
        #expect(IncidentTransitionError(from: .closed, to: .resolved).description.hasSuffix("a closed incident is final"))
        #expect(IncidentLifecycle.allowed(from: .closed).isEmpty)
    }
}

@Suite struct IncidentPlanningTests {
    @Test func openingRecordsTimelineAuditLinksAndStartsThePageForItsSeverity() throws {
        let draft = IncidentDraft(title: "  Card testing wave ", severity: "SEV1", commander: "lee", stakeholders: ["legal"],
                                  links: [IncidentLink(.case, "12"), IncidentLink(.entity, "ip:192.0.2.1"), IncidentLink(.case, "12")],
                                  source: .case, sourceRef: "case:12", detectedAt: Fixture.now - 60_000)
        let (plan, record) = try Fixture.planner().open(draft, id: 4, actor: "user:ana")
        #expect(record.title == "Card testing wave")
        #expect(record.roles[.commander] == "lee" && record.participants == ["lee"])
        #expect(record.detectedAt == Fixture.now - 60_000)
        #expect(record.updateDueAt == Fixture.now + 3_600_000)
        #expect(plan.inserted == record)
        #expect(plan.links.map(\.link.description) == ["case:12", "entity:ip:192.0.2.1"])
        #expect(plan.timeline.map(\.kind) == [.opened, .link, .link])
        #expect(plan.audit.map(\.action) == ["incident.open"])
        #expect(plan.pages == [PageStart(subject: "incident:4", policy: "safety", summary: "SEV1 incident 4: Card testing wave", severity: "error", at: Fixture.now)])
        // SEV2 does not page on open in these settings.
        #expect(try Fixture.planner().open(IncidentDraft(title: "x", severity: "SEV2"), id: 5, actor: "user:ana").0.pages.isEmpty)
    }

    @Test(arguments: [
        (IncidentDraft(title: " ", severity: "SEV1"), "an incident needs a title"),
        (IncidentDraft(title: "x", severity: "SEV9"), "severity \"SEV9\" is not defined; use one of SEV0, SEV1, SEV2, SEV3"),
        (IncidentDraft(title: "x", severity: "SEV1", stakeholders: ["press"]),
         "stakeholder group \"press\" is not defined; use one of legal, policy, product, engineering, support"),
        (IncidentDraft(title: "x", severity: "SEV1", links: [IncidentLink(.case, "abc")]), "link case \"abc\" is not a positive id"),
        (IncidentDraft(title: "x", severity: "SEV1", links: [IncidentLink(.entity, "nobody")]), "link entity \"nobody\" is not an entity such as user:123"),
        (IncidentDraft(title: String(repeating: "e\u{301}", count: 101), severity: "SEV1"), "the title is 202 characters; keep it to 200"),
    ])
    func badDraftsAreRefused(draft: IncidentDraft, message: String) {
        #expect(throws: IncidentError(.invalid, message)) { try Fixture.planner().open(draft, id: 1, actor: "user:ana") }
    }

    /// Titles made from a case's subject or an alert's key are cut to fit, counting as JSON Schema does.
    @Test func madeTitlesFitTheLimit() throws {
        let long = IncidentDraft.fitTitle(String(repeating: "e\u{301}", count: 150))
        #expect(long.unicodeScalars.count == 199 && long.hasSuffix("é…"))  // whole characters only: 99 of 2 scalars and the ellipsis
        #expect(try Fixture.planner().open(IncidentDraft(title: long, severity: "SEV2"), id: 5, actor: "user:ana").1.title == long)
        #expect(IncidentDraft.fitTitle("Case 4: spam — user:1") == "Case 4: spam — user:1")
    }

    /// The arc of an incident: each status records when it was first reached.
    @Test func statusTimesAreRecordedOnce() throws {
        var record = Fixture.incident()
        for (offset, status) in [(60_000, IncidentStatus.identified), (120_000, .mitigating), (180_000, .monitoring), (240_000, .mitigating),
                                 (300_000, .monitoring), (360_000, .resolved)] as [(Int64, IncidentStatus)] {
            record = try Fixture.planner(at: offset).change(record, .status(status, note: nil), actor: "user:lee").1
        }
        #expect(record.identifiedAt == Fixture.now + 60_000)
        #expect(record.mitigatedAt == Fixture.now + 180_000)
        #expect(record.resolvedAt == Fixture.now + 360_000)
        #expect(record.updateDueAt == nil)
        let (plan, closed) = try Fixture.planner(at: 400_000).change(record, .status(.closed, note: "reviewed"), actor: "user:lee")
        #expect(closed.closedAt == Fixture.now + 400_000)
        #expect(plan.audit.first?.detail == #"{"from":"resolved","to":"closed","note":"reviewed"}"#)
        #expect(throws: IncidentError(.conflict, "incident 4 is closed; nothing more can change on it")) {
            try Fixture.planner().change(closed, .note("late"), actor: "user:lee")
        }
    }

    /// Each change: what it writes and what it refuses.
    @Test(arguments: [
        (IncidentChange.severity("SEV0", reason: "spreading"), [IncidentTimelineEntry.Kind.severity], ["incident.severity"], nil as String?),
        (.severity("SEV1", reason: nil), [], [], "the incident is already SEV1"),
        (.role(.scribe, person: "kim"), [.role], ["incident.role"], nil),
        (.addParticipant("kim"), [.participant], ["incident.participant"], nil),
        (.removeParticipant("kim"), [], [], "kim does not take part"),
        (.addStakeholder("legal"), [.stakeholder], ["incident.stakeholder"], nil),
        (.addStakeholder("press"), [], [], "stakeholder group \"press\" is not defined; use one of legal, policy, product, engineering, support"),
        (.link(IncidentLink(.rule, "card_testing")), [.link], ["incident.link"], nil),
        (.unlink(IncidentLink(.rule, "card_testing")), [], [], "rule:card_testing is not linked to incident 4"),
        (.note("checked the processor logs"), [.note], [], nil),
        (.note("  "), [], [], "a note cannot be empty"),
        (.update("blocking the BIN range"), [.update], ["incident.update"], nil),
        (.acknowledge, [.acknowledged], ["incident.acknowledge"], nil),
        (.addTask(title: "tighten card_testing", owner: "kim", dueAt: nil, followUp: true), [.task], ["incident.task"], nil),
        (.completeTask(9), [], [], "incident 4 has no task 9"),
        (.review("# review"), [], [], "incident 4 is still investigating; resolve it before keeping its review"),
    ])
    func changes(change: IncidentChange, timeline: [IncidentTimelineEntry.Kind], audit: [String], refusal: String?) {
        do {
            let (plan, _) = try Fixture.planner().change(Fixture.incident(), change, actor: "user:lee", nextTaskID: 1)
            #expect(refusal == nil)
            #expect(plan.timeline.map(\.kind) == timeline)
            #expect(plan.audit.map(\.action) == audit)
        } catch {
            #expect(error.message == refusal)
        }
    }

    @Test func raisingTheSeverityPagesWhenTheNewSeverityPagesAndNobodyHasAcknowledged() throws {
        let (plan, record) = try Fixture.planner().change(Fixture.incident(severity: "SEV2"), .severity("SEV1", reason: nil), actor: "user:lee")
        #expect(plan.pages.map(\.policy) == ["safety"])
        var acknowledged = Fixture.incident(severity: "SEV2")
        acknowledged.acknowledgedAt = Fixture.now
        #expect(try Fixture.planner().change(acknowledged, .severity("SEV1", reason: nil), actor: "user:lee").0.pages.isEmpty)
        #expect(record.updateDueAt == Fixture.now + 3_600_000)
    }

    @Test func acknowledgingMakesTheFirstResponderCommanderAndStopsThePages() throws {
        let (plan, record) = try Fixture.planner(at: 90_000).change(Fixture.incident(), .acknowledge, actor: "user:kim")
        #expect(record.acknowledgedAt == Fixture.now + 90_000 && record.acknowledgedBy == "user:kim")
        #expect(record.roles[.commander] == "kim")
        #expect(plan.acknowledgedPages == ["incident:4"])
        #expect(throws: IncidentError(.conflict, "incident 4 was acknowledged by user:kim already")) {
            try Fixture.planner().change(record, .acknowledge, actor: "user:ana")
        }
    }

    @Test func updatesGoToTheUpdateChannelsAndResetTheCadence() throws {
        let (plan, record) = try Fixture.planner(at: 600_000).change(Fixture.incident(), .update("blocked the BIN range"), actor: "user:lee")
        #expect(record.lastUpdateAt == Fixture.now + 600_000)
        #expect(record.updateDueAt == Fixture.now + 600_000 + 3_600_000)
        #expect(plan.outbox.count == 1)
        #expect(plan.outbox[0].destination == "safety-chat")
        #expect(plan.outbox[0].body == #"{"text":"*SEV1 incident 4 (investigating): Card testing wave*\nblocked the BIN range"}"#)
    }

    @Test func anOverdueUpdateRemindsOncePerCadence() throws {
        let record = Fixture.incident()
        #expect(Fixture.planner(at: 3_599_999).remind(record) == nil)
        let (plan, reminded) = try #require(Fixture.planner(at: 3_600_000).remind(record))
        #expect(plan.timeline.map(\.kind) == [.reminder])
        #expect(plan.outbox.map(\.destination) == ["safety-chat"])
        #expect(reminded.updateDueAt == Fixture.now + 7_200_000)
        #expect(Fixture.planner(at: 3_700_000).remind(reminded) == nil)
        #expect(Fixture.planner(at: 9_999_999).remind(Fixture.incident(status: .resolved)) == nil)
    }

    @Test func tasksAreAddedCompletedAndLinkedToTheirChange() throws {
        let (added, _) = try Fixture.planner().change(Fixture.incident(), .addTask(title: "tighten rule", owner: "kim", dueAt: Fixture.now + 86_400_000, followUp: true),
                                                      actor: "user:lee", nextTaskID: 3)
        let task = try #require(added.tasks.first)
        #expect(task.id == 3 && task.followUp && task.owner == "kim")
        let (done, _) = try Fixture.planner(at: 5_000).change(Fixture.incident(), tasks: [task], .completeTask(3), actor: "user:kim")
        #expect(done.updatedTasks.first?.doneAt == Fixture.now + 5_000)
        let (linked, _) = try Fixture.planner().change(Fixture.incident(), tasks: [task], .taskChange(3, change: "rule:card_testing@abc123"), actor: "user:kim")
        #expect(linked.updatedTasks.first?.change == "rule:card_testing@abc123")
        #expect(throws: IncidentError(.conflict, "task 3 is already done")) {
            try Fixture.planner().change(Fixture.incident(), tasks: [done.updatedTasks[0]], .completeTask(3), actor: "user:kim")
        }
    }
}

@Suite struct NoticeTests {
    /// PagerDuty Events API v2: routing key, action, a dedup key per subject, and the payload's
    /// required summary, source and severity (one of critical, error, warning, info).
    @Test func pagerDutyEventsV2Shape() throws {
        let notice = Notice(topic: "page", subject: "incident:4", summary: "SEV1 incident 4: Card testing wave", text: "Step 1", severity: "error",
                            person: "kim", key: "1-0-kim", details: [("page", "1")])
        let message = notice.delivery(to: Fixture.pagerDuty, at: Fixture.now)
        let body = try #require(JSONValue.parse(Array(message.body.utf8)))
        #expect(body["routing_key"] == .string("R0UT1NG"))
        #expect(body["event_action"] == .string("trigger"))
        #expect(body["dedup_key"] == .string("warden:incident:4"))
        #expect(body["payload"]?["summary"] == .string("SEV1 incident 4: Card testing wave"))
        #expect(body["payload"]?["source"] == .string("warden"))
        #expect(body["payload"]?["severity"] == .string("error"))
        #expect(body["payload"]?["custom_details"]?["person"] == .string("kim"))
        #expect(message.idempotencyKey == "page:incident:4:1-0-kim:pd")
        #expect(message.orderingKey == "pd:incident:4")
        let acknowledge = Notice(topic: "page.acknowledge", subject: "incident:4", summary: "s", text: "", severity: "error", action: .acknowledge, key: "1-ack")
        let ackBody = try #require(JSONValue.parse(Array(acknowledge.delivery(to: Fixture.pagerDuty, at: Fixture.now).body.utf8)))
        #expect(ackBody["event_action"] == .string("acknowledge") && ackBody["payload"] == nil && ackBody["dedup_key"] == .string("warden:incident:4"))
    }

    @Test func webhookEnvelope() throws {
        let notice = Notice(topic: "page", subject: "alert:9", summary: "s", text: "t", severity: "warning", person: "kim", key: "k")
        let body = try #require(JSONValue.parse(Array(notice.delivery(to: NotificationChannel(name: "ops", kind: .webhook), at: Fixture.now).body.utf8)))
        #expect(body["topic"] == .string("page"))
        #expect(body["id"] == .string("page:alert:9:k:ops"))
        #expect(body["data"]?["person"] == .string("kim"))
    }
}
