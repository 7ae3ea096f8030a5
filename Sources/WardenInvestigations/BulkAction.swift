public import WardenCore

/// What a bulk job does to each entity it targets.
public enum BulkOperation: Sendable, Equatable {
    /// Set a label (lapsing `expiresAfter` milliseconds after the job starts, if given).
    case label(name: String, expiresAfter: Int64?)
    /// Remove a label.
    case unlabel(name: String)
    /// Open a case about each entity in `queue` (or add to its open case).
    case openCases(queue: String, category: String, severity: String, reason: String?)
    /// Enforce `action` on each entity: a case in `queue` decided as a violation of `category`
    /// with the action, so every enforcement has its decision, statement of reasons and reversal.
    case enforce(action: String, duration: Int64?, category: String, policy: String?, queue: String, severity: String, rationale: String)

    /// The operation's name in the API: label, unlabel, open_cases or enforce.
    public var kind: String {
        switch self {
        case .label: "label"
        case .unlabel: "unlabel"
        case .openCases: "open_cases"
        case .enforce: "enforce"
        }
    }

    /// Whether the job can be undone: labels come off again, actions are reversed one by one.
    /// Opening cases changes nothing for a user and is not undone (reviewers decide the cases).
    public var isReversible: Bool {
        switch self {
        case .label, .enforce: true
        case .unlabel, .openCases: false
        }
    }

    /// What the job does to one entity, as the preview says it.
    public var effect: String {
        switch self {
        case .label(let name, let expiresAfter):
            "label \(name)" + (expiresAfter.map { " for \(DurationText.format($0))" } ?? "")
        case .unlabel(let name): "remove label \(name)"
        case .openCases(let queue, let category, _, _): "open a \(category) case in \(queue)"
        case .enforce(let action, let duration, let category, _, let queue, _, _):
            "\(action)\(duration.map { " for \(DurationText.format($0))" } ?? "") as a \(category) violation, decided on a case in \(queue)"
        }
    }
}

extension BulkOperation {
    /// The operation as a JSON object, as the API shows it and the store keeps it.
    public func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("kind", kind)
        switch self {
        case .label(let name, let expiresAfter):
            writer.field("label", name)
            if let expiresAfter { writer.field("expires_in", DurationText.format(expiresAfter)) }
        case .unlabel(let name):
            writer.field("label", name)
        case .openCases(let queue, let category, let severity, let reason):
            writer.field("queue", queue)
            writer.field("category", category)
            writer.field("severity", severity)
            if let reason { writer.field("reason", reason) }
        case .enforce(let action, let duration, let category, let policy, let queue, let severity, let rationale):
            writer.field("action", action)
            if let duration { writer.field("duration", DurationText.format(duration)) }
            writer.field("category", category)
            if let policy { writer.field("policy", policy) }
            writer.field("queue", queue)
            writer.field("severity", severity)
            writer.field("rationale", rationale)
        }
        writer.endObject()
    }

    /// The operation's JSON text.
    public var json: String {
        var writer = JSONWriter(capacity: 128)
        write(into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Reads an operation from its JSON object; throws what is wrong, naming the field.
    public init(json value: JSONValue) throws(BulkOperationError) {
        guard case .object = value else { throw BulkOperationError("operation must be an object with kind: label, unlabel, open_cases or enforce") }
        func text(_ key: String, required: Bool = true) throws(BulkOperationError) -> String? {
            switch value[key] {
            case .string(let text)?: return text
            case nil, .null?: if required { throw BulkOperationError("operation.\(key) is required") } else { return nil }
            default: throw BulkOperationError("operation.\(key) must be a string")
            }
        }
        func duration(_ key: String) throws(BulkOperationError) -> Int64? {
            guard let given = try text(key, required: false) else { return nil }
            guard let millis = DurationText.millis(given), millis > 0 else {
                throw BulkOperationError("operation.\(key) \"\(given)\" is not a duration such as 30m, 24h or 7d")
            }
            return millis
        }
        switch try text("kind") {
        case "label": self = .label(name: try text("label")!, expiresAfter: try duration("expires_in"))
        case "unlabel": self = .unlabel(name: try text("label")!)
        case "open_cases":
            self = .openCases(queue: try text("queue")!, category: try text("category")!, severity: try text("severity", required: false) ?? "medium",
                              reason: try text("reason", required: false))
        case "enforce":
            self = .enforce(action: try text("action")!, duration: try duration("duration"), category: try text("category")!,
                            policy: try text("policy", required: false), queue: try text("queue")!,
                            severity: try text("severity", required: false) ?? "medium", rationale: try text("rationale")!)
        case let other:
            throw BulkOperationError("operation.kind \"\(other ?? "")\" is not label, unlabel, open_cases or enforce")
        }
    }
}

extension BulkOperation {
    /// An operation from its members as text — the API's body and the console's form both give
    /// it so — read and checked in the API document's terms; absent members are nil.
    public static func parse(kind: String, members: [(String, String?)]) throws(BulkOperationError) -> BulkOperation {
        var object: [String: JSONValue] = ["kind": .string(kind)]
        for (key, value) in members { if let value { object[key] = .string(value) } }
        let operation = try BulkOperation(json: .object(object))
        if let problem = BulkPlan.fieldProblems(operation).first { throw BulkOperationError(problem) }
        return operation
    }
}

/// What is wrong with an operation as given.
public struct BulkOperationError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Where a bulk job is in its life.
///
/// ```
/// awaiting_approval ──approve──▶ queued ──start──▶ running ──finish──▶ done ──reverse──▶ reversing ──finish──▶ reversed
///        │                        │                  │                                                       
///        └──cancel──▶ cancelled ◀─┴──────cancel──────┘ (the steps already taken stay; reverse them from done)
/// ```
public enum BulkState: String, Sendable, Codable, CaseIterable {
    case awaitingApproval = "awaiting_approval"
    case queued
    case running
    case done
    case cancelled
    case reversing
    case reversed

    /// Whether the runner has work to do on a job in this state.
    public var isActive: Bool { self == .queued || self == .running || self == .reversing }
}

/// Something that moves a bulk job.
public enum BulkCommand: String, Sendable, CaseIterable {
    case approve, start, finish, cancel, reverse

    /// The state after `self` from `state`; nil when the move makes no sense there.
    public func next(from state: BulkState) -> BulkState? {
        switch (state, self) {
        case (.awaitingApproval, .approve): .queued
        case (.queued, .start): .running
        case (.running, .finish): .done
        case (.reversing, .finish): .reversed
        case (.awaitingApproval, .cancel), (.queued, .cancel), (.running, .cancel): .cancelled
        case (.done, .reverse), (.cancelled, .reverse): .reversing
        default: nil
        }
    }
}

/// How big a bulk job may be, and from what size a lead must approve it.
public struct BulkLimits: Sendable, Equatable {
    /// The most entities one job may target (Osprey's bulk labelling stops at the same number).
    public var cap: Int
    /// Jobs over this many entities wait for a lead's approval (someone other than who asked).
    public var approvalAbove: Int

    public init(cap: Int = 100_000, approvalAbove: Int = 1_000) {
        self.cap = cap
        self.approvalAbove = approvalAbove
    }
}

/// The entities a job targets, from a query's column, a cluster or a list: each once, in order,
/// with the values that are not entities set aside and counted.
public struct BulkTargets: Sendable, Equatable {
    public var entities: [EntityRef]
    /// Values that are not `type:id`, with their position (first few kept).
    public var invalid: [(index: Int, value: String)]
    public var invalidCount: Int
    /// Values that repeat an entity already targeted.
    public var duplicates: Int

    public static func == (a: BulkTargets, b: BulkTargets) -> Bool {
        a.entities == b.entities && a.invalidCount == b.invalidCount && a.duplicates == b.duplicates
            && a.invalid.map(\.index) == b.invalid.map(\.index) && a.invalid.map(\.value) == b.invalid.map(\.value)
    }

    /// Reads `type:id` values of the entity types `isEntityType` accepts.
    public init(values: [String?], isEntityType: (String) -> Bool = { _ in true }, keepInvalid: Int = 20) {
        var seen = Set<EntityRef>()
        entities = []
        invalid = []
        invalidCount = 0
        duplicates = 0
        for (index, value) in values.enumerated() {
            // Ids as intake takes them: at most 256 bytes, no control characters.
            guard let value, let entity = EntityRef(parsing: value), isEntityType(entity.type), entity.id.utf8.count <= 256,
                  entity.id.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                invalidCount += 1
                if invalid.count < keepInvalid { invalid.append((index, value ?? "null")) }
                continue
            }
            if seen.insert(entity).inserted { entities.append(entity) } else { duplicates += 1 }
        }
    }
}

/// A job before it runs: its targets, what it will do to each, and what stands in its way.
/// A dry run answers with this; creating a job stores it unless it has problems.
public struct BulkPlan: Sendable, Equatable {
    public var operation: BulkOperation
    public var targets: BulkTargets
    /// Whether a lead must approve it before it runs.
    public var needsApproval: Bool
    /// Why it cannot run as asked (empty when it can).
    public var problems: [String]

    /// Plans `operation` over `targets` under `limits`; `operationProblems` are what the pack found
    /// wrong with the operation (an unknown queue, an action the queue does not allow…).
    /// An enforcement job asked for by someone who may not reverse actions themselves (no lead)
    /// waits for a lead whatever its size.
    public static func make(_ operation: BulkOperation, targets: BulkTargets, limits: BulkLimits, operationProblems: [String],
                            requesterLeads: Bool = true) -> BulkPlan {
        var problems = operationProblems
        if targets.entities.isEmpty {
            problems.append("the source names no entities" + (targets.invalidCount > 0 ? " (\(targets.invalidCount) values are not type:id)" : ""))
        }
        if targets.entities.count > limits.cap {
            problems.append("the source names \(targets.entities.count) entities; a bulk job takes at most \(limits.cap): narrow the query")
        }
        let enforcing = if case .enforce = operation { true } else { false }
        return BulkPlan(operation: operation, targets: targets,
                        needsApproval: targets.entities.count > limits.approvalAbove || (enforcing && !requesterLeads), problems: problems)
    }

    /// Checks the operation's own fields (names and sizes); the pack's checks come on top.
    public static func fieldProblems(_ operation: BulkOperation) -> [String] {
        var problems: [String] = []
        // Lengths in code points and spaces as JSON Schema's `\s` has them, so the API's document
        // and these checks agree both ways.
        func name(_ value: String, _ field: String) {
            if value.isEmpty || value.unicodeScalars.count > 100 || value.unicodeScalars.contains(where: { Self.isSchemaSpace($0) || $0 == "\0" }) {
                problems.append("\(field) must be 1 to 100 characters without spaces")
            }
        }
        func text(_ value: String?, _ field: String, max: Int) {
            if let value, value.unicodeScalars.count > max { problems.append("\(field) is longer than \(max) characters") }
        }
        switch operation {
        case .label(let label, let expiresAfter):
            name(label, "operation.label")
            if let expiresAfter, expiresAfter <= 0 { problems.append("operation.expires_in must be positive") }
        case .unlabel(let label):
            name(label, "operation.label")
        case .openCases(let queue, let category, let severity, let reason):
            name(queue, "operation.queue")
            name(category, "operation.category")
            name(severity, "operation.severity")
            text(reason, "operation.reason", max: 1_000)
        case .enforce(let action, _, let category, let policy, let queue, let severity, let rationale):
            name(action, "operation.action")
            name(category, "operation.category")
            name(queue, "operation.queue")
            name(severity, "operation.severity")
            text(policy, "operation.policy", max: 200)
            if rationale.unicodeScalars.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
                problems.append("operation.rationale is required: say why, in words")
            }
            text(rationale, "operation.rationale", max: 4_000)
        }
        return problems
    }

    /// What JSON Schema's (ECMAScript's) `\s` matches.
    static func isSchemaSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }
}

/// A bulk job as stored: what it does, to how many, who asked and approved, and how far it got.
public struct BulkJob: Sendable, Equatable {
    public var id: Int64
    public var operation: BulkOperation
    /// Where the targets came from, as the requester gave it (`query repeat-offenders`, `cluster of user:17`…).
    public var source: String
    public var note: String?
    public var state: BulkState
    public var requestedBy: ActorRef
    public var approvedBy: ActorRef?
    public var createdAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?
    /// Entities targeted, steps done (applied), failed, and undone by a reversal.
    public var total: Int
    public var done: Int
    public var failed: Int
    public var reversed: Int
    /// The next item the runner takes (items before it are finished).
    public var cursor: Int
    public var reversedBy: ActorRef?
    public var reversalReason: String?

    public init(id: Int64 = 0, operation: BulkOperation, source: String, note: String?, state: BulkState, requestedBy: ActorRef,
                approvedBy: ActorRef? = nil, createdAt: Int64, startedAt: Int64? = nil, finishedAt: Int64? = nil, total: Int, done: Int = 0,
                failed: Int = 0, reversed: Int = 0, cursor: Int = 0, reversedBy: ActorRef? = nil, reversalReason: String? = nil) {
        self.id = id
        self.operation = operation
        self.source = source
        self.note = note
        self.state = state
        self.requestedBy = requestedBy
        self.approvedBy = approvedBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.total = total
        self.done = done
        self.failed = failed
        self.reversed = reversed
        self.cursor = cursor
        self.reversedBy = reversedBy
        self.reversalReason = reversalReason
    }

    /// The id of step `index`'s event (and of its reversal), the job's idempotency keys.
    public func stepID(_ index: Int, reversal: Bool = false) -> String { "bulk-\(id)-\(reversal ? "undo-" : "")\(index)" }
}

/// One entity of a job and what happened to it.
public struct BulkItem: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Not reached yet.
        case pending
        /// The step is in the log (labels, cases) or the decision is made (enforcement).
        case done
        /// It could not be done; `detail` says why.
        case failed
        /// Undone by the job's reversal.
        case reversed
    }

    public var index: Int
    public var entity: EntityRef
    public var state: State
    /// The case the step opened or decided.
    public var caseID: Int64?
    /// The decision and the actions it took (enforcement).
    public var decisionID: Int64?
    public var actionIDs: [Int64]
    public var detail: String?

    public init(index: Int, entity: EntityRef, state: State = .pending, caseID: Int64? = nil, decisionID: Int64? = nil,
                actionIDs: [Int64] = [], detail: String? = nil) {
        self.index = index
        self.entity = entity
        self.state = state
        self.caseID = caseID
        self.decisionID = decisionID
        self.actionIDs = actionIDs
        self.detail = detail
    }
}
