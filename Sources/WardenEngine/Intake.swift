public import Metrics
import Synchronization
public import WardenCore
public import WardenStore

/// How a submission's body is framed.
public enum IntakeFormat: Sendable {
    /// One JSON event (`application/json`).
    case json
    /// One JSON event per line (`application/x-ndjson`).
    case ndjson
}

/// Why a whole submission was refused before any line was looked at.
public enum IntakeError: Error, Equatable {
    /// The body holds no event at all.
    case emptyBody
}

/// Intake: validates submissions line by line, commits the valid lines durably (group-committed
/// with concurrent submissions) and answers for every line. Invalid lines change nothing.
public final class Intake: Sendable {
    /// What a valid event is: the pack in force's (replaced when a new pack is activated).
    public var schema: EventSchema { currentSchema.withLock { $0 } }
    private let currentSchema: Mutex<EventSchema>
    private let committer: GroupCommitter
    private let clock: any WallClock
    private let counters: [LineStatus: Counter]
    /// The events intake committed most recently, for consumers that keep up.
    public let tail = LogTail()

    /// Creates intake over a store. Metrics go to `metrics` (the global factory by default).
    public init(store: any EventStore, schema: EventSchema, clock: any WallClock = SystemWallClock(),
                metrics: any MetricsFactory = MetricsSystem.factory) {
        currentSchema = Mutex(schema)
        self.clock = clock
        var counters: [LineStatus: Counter] = [:]
        for status in [LineStatus.accepted, .duplicate, .conflict, .rejected] {
            counters[status] = Counter(label: WardenMetric.intakeEvents.rawValue, dimensions: [("status", status.rawValue)], factory: metrics)
        }
        self.counters = counters
        let commitTimer = Metrics.Timer(label: WardenMetric.intakeCommitSeconds.rawValue, dimensions: [], factory: metrics)
        let groupSize = Recorder(label: WardenMetric.intakeGroupSubmissions.rawValue, dimensions: [], aggregate: true, factory: metrics)
        committer = GroupCommitter(store: store, clock: clock, tail: tail) { submissions, _, seconds in
            commitTimer.recordNanoseconds(Int64(seconds * 1e9))
            groupSize.record(submissions)
        }
    }

    /// Validates and commits a body; returns when every valid line is durable.
    public func submit(_ body: [UInt8], format: IntakeFormat) async throws -> IntakeResult {
        let prepared = body.withUnsafeBufferPointer { prepare($0, format: format) }
        return try await commit(prepared)
    }

    /// A user report, stored as an event of the reserved type `report`.
    public func submit(report: ReportSubmission, defaultID: String) async throws -> IntakeResult {
        do {
            let json = try report.eventJSON(defaultID: defaultID, now: clock.nowMillis())
            var result = try await submit(json, format: .json)
            for index in result.results.indices {
                if let field = result.results[index].error?.field {
                    result.results[index].error?.field = ReportSubmission.submissionField(forEventField: field)
                }
            }
            return result
        } catch let error as EventError {
            let result = IntakeResult(results: [LineResult(line: 1, id: report.id, status: .rejected, error: LineError(error, position: nil))])
            count(result)
            return result
        }
    }

    /// Steps of a bulk job, committed like any event: durable when this returns, and a step
    /// already stored (a retry) is a duplicate, not a second step. Every step of one job carries
    /// the job's start time, so a retried step is the same event.
    public func submit(bulk steps: [(id: String, instruction: BulkInstruction)], occurredAt: Int64) async throws -> IntakeResult {
        var body: [UInt8] = []
        body.reserveCapacity(steps.count * 200)
        for step in steps {
            body += step.instruction.eventJSON(id: step.id, occurredAt: occurredAt)
            body.append(0x0A)
        }
        var schema = self.schema
        schema.acceptsBulkInstructions = true
        let prepared = body.withUnsafeBufferPointer { prepare($0, format: .ndjson, schema: schema) }
        return try await commit(prepared)
    }

    /// A body split into lines, validated, with the valid lines copied out for committing.
    public struct Prepared: Sendable {
        fileprivate var results: [LineResult]
        fileprivate var events: [IncomingEvent]
        fileprivate var eventLines: [Int]
    }

    /// Parses and validates a body (no I/O). Cheap to call from many tasks at once.
    /// Puts a new pack's schema in force for the submissions that follow.
    public func replaceSchema(_ schema: EventSchema) {
        currentSchema.withLock { $0 = schema }
    }

    public func prepare(_ body: UnsafeBufferPointer<UInt8>, format: IntakeFormat) -> Prepared {
        prepare(body, format: format, schema: schema)
    }

    private func prepare(_ body: UnsafeBufferPointer<UInt8>, format: IntakeFormat, schema: EventSchema) -> Prepared {
        let now = clock.nowMillis()
        var prepared = Prepared(results: [], events: [], eventLines: [])
        switch format {
        case .json:
            if body.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) {
                check(body, line: 1, schema: schema, now: now, into: &prepared) { error in
                    error.offset.map { TextPosition(offset: $0, in: body) }
                }
            }
        case .ndjson:
            let lines = NDJSON.lines(body)
            prepared.results.reserveCapacity(lines.count)
            prepared.events.reserveCapacity(lines.count)
            prepared.eventLines.reserveCapacity(lines.count)
            for line in lines {
                check(UnsafeBufferPointer(rebasing: body[line.range]), line: line.number, schema: schema, now: now, into: &prepared) { error in
                    error.offset.map { TextPosition(line: line.number, column: $0 + 1) }
                }
            }
        }
        return prepared
    }

    private func check(
        _ bytes: UnsafeBufferPointer<UInt8>, line: Int, schema: EventSchema, now: Int64, into prepared: inout Prepared,
        position: (EventError) -> TextPosition?
    ) {
        do {
            let parsed = try schema.parse(bytes, now: now)
            prepared.eventLines.append(prepared.results.count)
            prepared.events.append(IncomingEvent(parsed: parsed, body: Array(bytes)))
            prepared.results.append(LineResult(line: line, id: parsed.id, status: .accepted))
        } catch {
            prepared.results.append(LineResult(line: line, status: .rejected, error: LineError(error, position: position(error))))
        }
    }

    /// Commits the valid lines of a prepared body and completes the per-line answer.
    public func commit(_ prepared: Prepared) async throws -> IntakeResult {
        guard !prepared.results.isEmpty else { throw IntakeError.emptyBody }
        var results = prepared.results
        if !prepared.events.isEmpty {
            let outcomes = try await committer.append(prepared.events)
            for (index, outcome) in zip(prepared.eventLines, outcomes) {
                switch outcome {
                case .accepted(let seq):
                    results[index].seq = seq
                case .duplicate(let seq):
                    results[index].status = .duplicate
                    results[index].seq = seq
                case .conflict(let seq):
                    results[index].status = .conflict
                    results[index].error = LineError(
                        code: "conflict", field: "id",
                        message: "event \(results[index].id ?? "") is already stored (seq \(seq)) with different content; a new event needs a new id")
                }
            }
        }
        let result = IntakeResult(results: results)
        count(result)
        return result
    }

    private func count(_ result: IntakeResult) {
        counters[.accepted]?.increment(by: result.accepted)
        counters[.duplicate]?.increment(by: result.duplicates)
        counters[.conflict]?.increment(by: result.conflicts)
        counters[.rejected]?.increment(by: result.rejected)
    }
}

extension LineError {
    /// Describes an event error, with the position of a syntax error when known.
    public init(_ error: EventError, position: TextPosition?) {
        self.init(code: error.kind.rawValue, field: error.field, line: position?.line, column: position?.column, message: error.message)
    }
}
