import Testing
import WardenCore
@testable import WardenReview

@Suite struct QueueAccessTests {
    static let restricted = QueueDefinition(name: "child_safety", teams: ["csam"], roles: ["reviewer", "lead"])

    /// Who may work a queue that names its teams and roles.
    @Test(arguments: [
        (Role.admin, [String](), [String]?.none, true),
        (.lead, [], nil, true),
        (.reviewer, ["csam"], nil, true),
        (.reviewer, ["spam"], nil, false),
        (.analyst, ["csam"], nil, false),
        (.vendorReviewer, ["csam"], ["spam"], false),
    ])
    func workingARestrictedQueue(role: Role, teams: [String], assigned: [String]?, allowed: Bool) {
        let person = QueueAccess.Person(name: "ana", role: role, teams: teams, assignedQueues: assigned)
        #expect((QueueAccess.refusal(person, queue: "child_safety", definition: Self.restricted) == nil) == allowed)
    }

    @Test func refusalsSayWhy() {
        let person = QueueAccess.Person(name: "ana", role: .reviewer, teams: ["spam"], assignedQueues: nil)
        #expect(QueueAccess.refusal(person, queue: "child_safety", definition: Self.restricted)
            == ReviewError(.forbidden, "queue child_safety belongs to team csam; ana is not in it"))
        #expect(QueueAccess.sees("spam", assigned: nil))
        #expect(!QueueAccess.sees("spam", assigned: ["fraud"]))
    }
}
