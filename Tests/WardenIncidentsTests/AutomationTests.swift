import Testing
import WardenCore
@testable import WardenIncidents

@Suite struct AutomationTests {
    @Test(arguments: [
        ("case.create", AutomationTrigger.caseCreated as AutomationTrigger?), ("decision.create", .caseDecided),
        ("sla.first_action.warning", .slaWarning), ("sla.resolution.breached", .slaBreached), ("alert.fire", .alertFired),
        ("incident.open", .incidentOpened), ("incident.severity", .incidentSeverityChanged),
        ("case.claim", nil), ("sla.something", nil), ("alert.resolve", nil),
    ])
    func triggersFromTheAuditLog(action: String, trigger: AutomationTrigger?) {
        #expect(AutomationTrigger(auditAction: action) == trigger)
    }

    static let item = AutomationItem(kind: .case, id: 12, fields: ["case": "12", "queue": "scams", "category": "fraud.card_testing", "severity": "high"])

    @Test(arguments: [
        ([:], true),
        (["category": ["fraud.*"]], true),
        (["category": ["spam.*", "fraud.card_testing"]], true),
        (["category": ["fraud.*"], "queue": ["urgent"]], false),
        (["violation": ["true"]], false),   // a field the item does not have never matches
    ] as [([String: [String]], Bool)])
    func conditions(conditions: [String: [String]], matches: Bool) {
        let automation = Automation(name: "a", trigger: .caseCreated, conditions: conditions, actions: [.tag("x")])
        #expect(automation.matches(Self.item) == matches)
    }

    @Test func templatesNameTheItemsFields() {
        #expect(Automation.render("case {case} ({category}) in {queue}; {unknown} {", Self.item) == "case 12 (fraud.card_testing) in scams; {unknown} {")
    }

    @Test func automationsNeverTriggerOnWhatAutomationsDid() {
        let automation = Automation(name: "tagger", trigger: .caseCreated, actions: [.tag("x")])
        #expect(automation.actor.description == "system:automation:tagger")
        #expect(!Automation.mayTrigger(actor: automation.actor.description))
        #expect(Automation.mayTrigger(actor: "system:cases") && Automation.mayTrigger(actor: "user:ana"))
    }

    @Test func actionsApplyToTheirKindsOfItem() {
        #expect(AutomationAction.move(queue: "q", reason: "r").appliesTo == [.case])
        #expect(AutomationAction.openIncident(severity: "SEV1", title: nil).appliesTo == [.case, .alert])
        #expect(AutomationAction.webhook(channel: "c", text: "t").appliesTo == [.case, .alert, .incident])
    }
}
