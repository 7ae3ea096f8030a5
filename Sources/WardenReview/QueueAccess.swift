public import WardenCore

/// Who may work a queue (claim, move and decide its cases): a person must hold one of the queue's
/// roles and share one of its teams when it names them. Admins may work any queue, leads any
/// team's; a vendor reviewer only the queues assigned to them. API tokens are integrations and are
/// not limited by team (the caller passes no person for them).
public enum QueueAccess {
    /// A person, as queue access sees them.
    public struct Person: Sendable, Equatable {
        public var name: String
        public var role: Role
        public var teams: [String]
        /// The queues assigned to them, for roles limited to assigned queues.
        public var assignedQueues: [String]?

        /// Creates a person.
        public init(name: String, role: Role, teams: [String], assignedQueues: [String]?) {
            self.name = name
            self.role = role
            self.teams = teams
            self.assignedQueues = assignedQueues
        }
    }

    /// Whether the queue is visible to someone limited to `assigned` queues (nil: not limited).
    public static func sees(_ queue: String, assigned: [String]?) -> Bool {
        assigned?.contains(queue) ?? true
    }

    /// Why `person` may not work `queue`, or nil when they may.
    public static func refusal(_ person: Person, queue: String, definition: QueueDefinition?) -> ReviewError? {
        if !sees(queue, assigned: person.assignedQueues) {
            return ReviewError(.forbidden, "queue \(queue) is not one of the queues assigned to \(person.name)")
        }
        guard person.role != .admin, let definition else { return nil }
        if !definition.roles.isEmpty, !definition.roles.contains(person.role.rawValue) {
            return ReviewError(.forbidden, "queue \(queue) is worked by \(definition.roles.joined(separator: ", ")); \(person.name) is \(person.role.rawValue)")
        }
        if !definition.teams.isEmpty, person.role != .lead, Set(definition.teams).isDisjoint(with: person.teams) {
            return ReviewError(.forbidden, "queue \(queue) belongs to team \(definition.teams.joined(separator: ", ")); \(person.name) is not in it")
        }
        return nil
    }
}
