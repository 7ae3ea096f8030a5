import Foundation
import Logging
import Testing
import WardenCore
import WardenEngine
import WardenIncidents
import WardenReview
import WardenStore
@testable import WardenHTTP

/// Automations run on what the audit log records, once, never on what automations did, within their hourly limit.
@Suite struct AutomationRunnerTests {
    static func pack(_ automations: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Harness.packDirectory, toPath: directory.path)
        try automations.write(to: directory.appendingPathComponent("automations.yaml"), atomically: true, encoding: .utf8)
        return directory.path
    }

    static func fraudCase(_ harness: Harness, _ ref: Int64) async throws -> Int64 {
        try #require(try await harness.store.mergeIntoCases([
            CaseInput(kind: .signal, ref: ref, subject: EntityRef(type: "user", id: "carder\(ref)"), category: "fraud.card_testing", severity: "high",
                      rule: "card_testing_cards", requestedQueue: "scams", at: 1),
        ], signalsThrough: ref, reportsThrough: 0, policy: harness.components.review.policy, now: 1_795_428_000_000).first)
    }

    @Test func theExamplePacksAutomationsRunOnceOnNewEntriesOnly() async throws {
        let harness = try await Harness.make()
        let runner = AutomationRunner(incidents: harness.components.incidents, logger: Logger(label: "test"))
        let before = try await Self.fraudCase(harness, 1)
        // The first pass starts at the end of the log: history is not acted on.
        #expect(try await runner.step() == 0)
        let after = try await Self.fraudCase(harness, 2)
        #expect(try await runner.step() == 1)
        // What the automation did (a comment, its run) is read next, and triggers nothing.
        #expect(try await runner.step() == 2)
        #expect(try await runner.step() == 0)
        let timeline = try await harness.store.timeline(caseID: after)
        #expect(timeline.filter { $0.kind == .comment && $0.detail.contains("tag: fraud-watch") && $0.actor.description == "system:automation:fraud_cases_watch" }.count == 1)
        #expect(!(try await harness.store.timeline(caseID: before)).contains { $0.kind == .comment })
        let runs = try await harness.components.incidents.store.automationRuns(automation: nil, limit: 10)
        #expect(runs.map(\.outcome) == ["done"] && runs.first?.target == "case:\(after)")
        let audited = try await harness.store.auditEntries(before: nil, actor: nil, action: "automation.run", target: nil, limit: 10)
        #expect(audited.count == 1 && audited[0].detail.contains(#""result":"tagged fraud-watch""#))

        // An SEV1 incident opened by a person is announced; one opened by an automation is not (loop protection).
        _ = try await harness.components.incidents.open(IncidentDraft(title: "Carding", severity: "SEV1"), actor: "user:lee")
        _ = try await harness.components.incidents.store.openIncident(IncidentDraft(title: "By a robot", severity: "SEV1"), actor: .system("automation:other"),
                                                                     settings: harness.components.incidents.pack.settings, now: 1_795_428_000_000)
        _ = try await runner.step()
        let chat = try await harness.store.outbox(state: .pending, limit: 50).filter { $0.destination == "safety-chat" && $0.topic == "automation" }
        #expect(chat.count == 1)
        #expect(chat.first?.body == #"{"text":"*SEV1 incident 1 opened: Carding*"}"#)
    }

    @Test func theHourlyLimitSkipsAndRefusalsAreRecorded() async throws {
        let harness = try await Harness.make(packDirectory: try Self.pack("""
            automations:
              - name: tag_then_move
                on: case.created
                when: {category: "fraud.*"}
                do:
                  - tag: watch
                  - move: {queue: nowhere_yet_exists_check, reason: "x"}
                max_runs_per_hour: 1
            """.replacingOccurrences(of: "nowhere_yet_exists_check", with: "urgent")))
        let runner = AutomationRunner(incidents: harness.components.incidents, logger: Logger(label: "test"))
        _ = try await runner.step()
        let first = try await Self.fraudCase(harness, 1)
        _ = try await Self.fraudCase(harness, 2)
        _ = try await runner.step()
        let runs = try await harness.components.incidents.store.automationRuns(automation: "tag_then_move", limit: 10).sorted { $0.id < $1.id }
        #expect(runs.map(\.outcome) == ["done", "skipped"])
        #expect(runs.last?.detail.contains("max_runs_per_hour is 1") == true)
        #expect(try await harness.store.caseRecord(id: first)?.queue == "urgent")
    }

    @Test func aMoveTheLifecycleRefusesMakesTheRunPartial() async throws {
        let harness = try await Harness.make(packDirectory: try Self.pack("""
            automations:
              - name: on_decision
                on: case.decided
                do:
                  - tag: decided
                  - move: {queue: urgent, reason: "decided {category}"}
            """))
        let runner = AutomationRunner(incidents: harness.components.incidents, logger: Logger(label: "test"))
        _ = try await runner.step()
        let id = try await Self.fraudCase(harness, 1)
        _ = try await harness.components.review.claim(caseID: id, reviewer: "user:ana")
        _ = try await harness.components.review.decide(caseID: id, DecisionDraft(category: "fraud.card_testing", violation: false, actions: [RequestedAction(name: "no_action", duration: nil)],
                                                                                    policy: "fraud policy 2.1"),
                                                      actor: "user:ana")
        _ = try await runner.step()
        let run = try #require(try await harness.components.incidents.store.automationRuns(automation: "on_decision", limit: 1).first)
        #expect(run.outcome == "partial")
        #expect(run.detail.contains(#""action":"move","result":"refused: "#))
    }

    @Test func dryRunsAndBrokenFiles() async throws {
        let harness = try await Harness.make()
        _ = try await AutomationRunner(incidents: harness.components.incidents, logger: Logger(label: "test")).step()
        _ = try await Self.fraudCase(harness, 1)
        _ = try await Self.fraudCase(harness, 2)
        try await harness.test { client in
            let dry = try await client.post("/v1/automations/fraud_cases_watch/dry-run", token: harness.admin, body: #"{"days":1}"#)
            #expect(dry.status == .ok)
            let hits = try #require(dry.json["hits"] as? [[String: Any]])
            #expect(hits.count == 2 && (hits.first?["actions"] as? [String]) == ["tag fraud-watch"])
            #expect(try await harness.components.incidents.store.automationRuns(automation: nil, limit: 10).isEmpty)
            let list = try await client.get("/v1/automations", token: harness.admin)
            #expect((list.json["automations"] as? [[String: Any]])?.count == 4)
            #expect(try await client.post("/v1/automations/nope/dry-run", token: harness.admin, body: "").status == .notFound)
        }
        #expect {
            try PolicyPack.load(from: try Self.pack("""
                automations:
                  - name: a
                    on: case.exploded
                    do: [{tag: x}]
                  - name: b
                    on: alert.fired
                    when: {queue: x}
                    do:
                      - move: {queue: nowhere, reason: r}
                      - {tag: x, macro: y}
                      - webhook: {channel: pigeon, text: hi}
                """))
        } throws: { error in
            let text = "\(error)"
            return text.contains("automations.yaml automations[0].on: \"case.exploded\" is not a trigger")
                && text.contains("automations.yaml automations[1].when.queue: a alert.fired item has no field \"queue\"")
                && text.contains("automations.yaml automations[1].do[0].move.queue: queue \"nowhere\" is not defined in queues.yaml")
                && text.contains("automations.yaml automations[1].do[0]: move does not apply to alert.fired, which is about an alert")
                && text.contains("automations.yaml automations[1].do[1]: a step does one thing")
                && text.contains("automations.yaml automations[1].do[2].webhook.channel: channel \"pigeon\" is not defined in oncall.yaml")
        }
    }
}
