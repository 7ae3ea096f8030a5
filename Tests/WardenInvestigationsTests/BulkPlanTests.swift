import Testing
import WardenCore
@testable import WardenInvestigations

/// The pure half of bulk action: its lifecycle, targets, plan and the steps it writes to the log.
@Suite struct BulkPlanTests {
    /// Every (state, command) pair: the moves that make sense, and nothing else.
    @Test func theLifecycleAllowsExactlyItsMoves() {
        let allowed: [BulkState: [BulkCommand: BulkState]] = [
            .awaitingApproval: [.approve: .queued, .cancel: .cancelled],
            .queued: [.start: .running, .cancel: .cancelled],
            .running: [.finish: .done, .cancel: .cancelled],
            .done: [.reverse: .reversing],
            .cancelled: [.reverse: .reversing],
            .reversing: [.finish: .reversed],
            .reversed: [:],
        ]
        for state in BulkState.allCases {
            for command in BulkCommand.allCases {
                #expect(command.next(from: state) == allowed[state]?[command], "\(state) \(command)")
            }
        }
        #expect(BulkState.allCases.filter(\.isActive) == [.queued, .running, .reversing])
    }

    @Test(arguments: [
        (["user:a", "user:b", "user:a", "nonsense", nil, "robot:x"], ["user:a", "user:b"], 3, 1),
        ([], [], 0, 0),
        (["ip:198.51.100.1"], ["ip:198.51.100.1"], 0, 0),
    ] as [([String?], [String], Int, Int)])
    func targetsAreDistinctRegisteredEntitiesInOrder(values: [String?], entities: [String], invalid: Int, duplicates: Int) {
        let targets = BulkTargets(values: values, isEntityType: { ["user", "ip"].contains($0) })
        #expect(targets.entities.map(\.description) == entities)
        #expect(targets.invalidCount == invalid && targets.duplicates == duplicates)
        #expect(targets.invalid.map(\.value) == values.enumerated().filter { index, value in
            value.flatMap { EntityRef(parsing: $0) }.map { !["user", "ip"].contains($0.type) } ?? true
        }.map { $0.element ?? "null" })
    }

    @Test func idsIntakeWouldRefuseAreNotTargets() {
        let targets = BulkTargets(values: ["user:a\r\nuser:b", "user:" + String(repeating: "x", count: 257), "user:ok"])
        #expect(targets.entities.map(\.description) == ["user:ok"] && targets.invalidCount == 2)
    }

    @Test func thePlanCapsJobsAndAsksForALeadAboveTheSizeOrForEnforcementByOthers() {
        let limits = BulkLimits(cap: 3, approvalAbove: 1)
        let two = BulkTargets(values: ["user:a", "user:b"])
        let one = BulkTargets(values: ["user:a"])
        let label = BulkOperation.label(name: "farm", expiresAfter: nil)
        let enforce = BulkOperation.enforce(action: "ban", duration: nil, category: "spam", policy: nil, queue: "spam", severity: "high", rationale: "ring")
        #expect(BulkPlan.make(label, targets: one, limits: limits, operationProblems: []).needsApproval == false)
        #expect(BulkPlan.make(label, targets: two, limits: limits, operationProblems: []).needsApproval == true)
        #expect(BulkPlan.make(enforce, targets: one, limits: limits, operationProblems: [], requesterLeads: true).needsApproval == false)
        #expect(BulkPlan.make(enforce, targets: one, limits: limits, operationProblems: [], requesterLeads: false).needsApproval == true)
        let four = BulkTargets(values: ["user:a", "user:b", "user:c", "user:d"])
        #expect(BulkPlan.make(label, targets: four, limits: limits, operationProblems: []).problems
            == ["the source names 4 entities; a bulk job takes at most 3: narrow the query"])
        #expect(BulkPlan.make(label, targets: BulkTargets(values: ["x"]), limits: limits, operationProblems: ["p"]).problems
            == ["p", "the source names no entities (1 values are not type:id)"])
    }

    @Test(arguments: [
        (#"{"kind":"label","label":"farm","expires_in":"7d"}"#, BulkOperation.label(name: "farm", expiresAfter: 7 * 86_400_000), nil),
        (#"{"kind":"unlabel","label":"farm"}"#, .unlabel(name: "farm"), nil),
        (#"{"kind":"open_cases","queue":"spam","category":"spam"}"#, .openCases(queue: "spam", category: "spam", severity: "medium", reason: nil), nil),
        (#"{"kind":"enforce","action":"suspend","duration":"24h","category":"spam","queue":"spam","rationale":"ring","policy":"P1"}"#,
         .enforce(action: "suspend", duration: 86_400_000, category: "spam", policy: "P1", queue: "spam", severity: "medium", rationale: "ring"), nil),
        (#"{"kind":"label"}"#, nil, "operation.label is required"),
        (#"{"kind":"label","label":"x","expires_in":"soon"}"#, nil, #"operation.expires_in "soon" is not a duration such as 30m, 24h or 7d"#),
        (#"{"kind":"delete"}"#, nil, #"operation.kind "delete" is not label, unlabel, open_cases or enforce"#),
        (#"{"kind":"enforce","action":"ban","category":"spam","queue":"spam"}"#, nil, "operation.rationale is required"),
        (#"{"kind":"label","label":7}"#, nil, "operation.label must be a string"),
    ] as [(String, BulkOperation?, String?)])
    func operationsReadFromJSONAndBackOrSayWhatIsWrong(json: String, expected: BulkOperation?, error: String?) throws {
        let value = try #require(JSONValue.parse(Array(json.utf8)))
        switch Result(catching: { () throws(BulkOperationError) in try BulkOperation(json: value) }) {
        case .success(let operation):
            #expect(operation == expected && error == nil)
            // The stored spelling reads back as the same operation.
            #expect(try BulkOperation(json: try #require(JSONValue.parse(Array(operation.json.utf8)))) == operation)
        case .failure(let thrown):
            #expect(expected == nil && thrown.description == error)
        }
    }

    @Test(arguments: [
        (BulkOperation.label(name: "a b", expiresAfter: nil), ["operation.label must be 1 to 100 characters without spaces"]),
        (.label(name: "ok\u{FEFF}", expiresAfter: nil), ["operation.label must be 1 to 100 characters without spaces"]),
        (.label(name: String(repeating: "é", count: 100), expiresAfter: nil), []),
        (.label(name: "x", expiresAfter: 0), ["operation.expires_in must be positive"]),
        (.enforce(action: "ban", duration: nil, category: "spam", policy: nil, queue: "spam", severity: "high", rationale: " \n"),
         ["operation.rationale is required: say why, in words"]),
        (.openCases(queue: "spam", category: "spam", severity: "low", reason: String(repeating: "r", count: 1_001)),
         ["operation.reason is longer than 1000 characters"]),
    ] as [(BulkOperation, [String])])
    func fieldsAreCheckedInTheDocumentsTerms(operation: BulkOperation, problems: [String]) {
        #expect(BulkPlan.fieldProblems(operation) == problems)
    }

    @Test(arguments: [
        BulkInstruction.Operation.label(name: "farm", expiresAt: 1_795_428_000_000),
        .label(name: "farm", expiresAt: nil),
        .unlabel(name: "farm"),
        .openCase(queue: "spam", category: "spam.links", severity: "high", reason: "ring \"quoted\""),
        .openCase(queue: "spam", category: "spam", severity: "low", reason: nil),
    ])
    func stepsAreEventsThatReadBackAsTheSameInstruction(operation: BulkInstruction.Operation) throws {
        let instruction = BulkInstruction(job: 42, entity: EntityRef(type: "user", id: "u:1"), operation: operation)
        let bytes = instruction.eventJSON(id: "bulk-42-0", occurredAt: 1_795_428_000_000)
        var schema = EventSchema(reportReasons: [])
        #expect(throws: EventError.self) { try bytes.withUnsafeBufferPointer { try schema.parse($0, now: 1_795_428_000_000) } }
        schema.acceptsBulkInstructions = true
        let parsed = try bytes.withUnsafeBufferPointer { try schema.parse($0, now: 1_795_428_000_000) }
        #expect(parsed.type == ReservedEventType.bulk && parsed.id == "bulk-42-0")
        let read = bytes.withUnsafeBufferPointer { BulkInstruction(event: parsed, bytes: $0) }
        #expect(read == instruction)
    }
}
