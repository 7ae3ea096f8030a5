import Foundation
public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization
public import WardenCore
public import WardenRules
public import WardenStore

/// Detection as a consumer of the event log: reads events after its cursor, runs the pack's rules
/// with persistent state, and commits signals, labels and per-hour hit counts together with the
/// cursor, so effects are exactly-once however often it crashes and restarts. Shadow rules are
/// counted, never acted on.
///
/// State (counters, labels, first-seen times) lives in memory and is rebuilt on start by replaying
/// the log up to the cursor without effects, which yields exactly the state a full replay would.
public final class DetectionPipeline: Service, Sendable {
    private let events: any EventStore
    private let tail: LogTail?
    private let detections: any DetectionStore
    /// The detector and the last event it has processed, changed together.
    private struct State {
        var detector: Detector
        var seq: Int64 = 0
        /// A commit failed after the detector moved past it: rebuild from the store before going on.
        var needsRestore = false
    }

    private let state: Mutex<State>
    /// The classifiers rules call, given to every detector this pipeline makes (replaced when the
    /// pack is reloaded or a model retrained).
    private let classifiers: Mutex<(scorers: [String: any TextScorer], served: Set<String>)>

    private func detector(_ detector: Detector) -> Detector {
        var detector = detector
        (detector.scorers, detector.servedClassifiers) = classifiers.withLock { $0 }
        detector.lookups = lookups
        return detector
    }
    /// Hash banks and derived tables, read live by rules.
    private let lookups: (any RuleLookups)?
    private let clock: any WallClock
    private let logger: Logger
    private let batchSize: Int
    private let snapshotInterval: Duration
    private let processedCounter: Counter

    /// A pipeline running `rules` over `events`, writing to `detections`.
    public init(rules: RuleSet, events: any EventStore, tail: LogTail? = nil, detections: any DetectionStore, clock: any WallClock = SystemWallClock(),
                batchSize: Int = 5000, snapshotInterval: Duration = .seconds(300), scorers: [String: any TextScorer] = [:], served: Set<String> = [], lookups: (any RuleLookups)? = nil,
                logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        classifiers = Mutex((scorers, served))
        self.lookups = lookups
        self.snapshotInterval = snapshotInterval
        self.events = events
        self.tail = tail
        self.detections = detections
        var detector = Detector(rules: rules)
        detector.scorers = scorers
        detector.servedClassifiers = served
        detector.lookups = lookups
        state = Mutex(State(detector: detector))
        self.clock = clock
        self.batchSize = batchSize
        self.logger = logger
        processedCounter = Counter(label: WardenMetric.detectionEvents.rawValue, dimensions: [], factory: metrics)
    }

    /// The rules in force.
    public var rules: RuleSet { state.withLock { $0.detector.rules } }

    /// Rules the safety valve has demoted to shadow, with why.
    public var demotions: [String: String] { state.withLock { $0.detector.demoted } }

    public func run() async throws {
        do {
            try await restore()
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await self.snapshotLoop() }
                    while !Task.isCancelled {
                        do {
                            let seen = self.tail?.generation ?? 0
                            if try await self.processNext() == 0 { try await LogTail.idle(self.tail, seen: seen, poll: .milliseconds(5)) }
                        } catch is CancellationError {
                            break
                        } catch {
                            self.logger.error("detection failed; retrying", metadata: ["error": "\(error)"])
                            try? await Task.sleep(for: .seconds(1))
                        }
                    }
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
    }

    private func snapshotLoop() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: snapshotInterval)
            do {
                try await saveSnapshot()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("detection snapshot failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Rebuilds in-memory state: from the latest snapshot if there is one, then by replaying the
    /// log from there up to the committed cursor without effects. Either way the state equals what
    /// an uninterrupted run would have.
    public func restore() async throws {
        let cursor = try await detections.detectionCursor()
        var after: Int64 = 0
        // Until the replay below completes, the state is not to be processed from.
        state.withLock { $0 = State(detector: self.detector(Detector(rules: $0.detector.rules)), seq: 0, needsRestore: true) }
        if let (seq, data) = try await detections.detectionSnapshot(), seq <= cursor {
            do {
                let snapshot = try DetectorSnapshot.decode(data)
                state.withLock { $0 = State(detector: self.detector(Detector(rules: $0.detector.rules, snapshot: snapshot)), seq: seq, needsRestore: true) }
                after = seq
            } catch {
                logger.warning("detection snapshot unreadable; replaying the whole log", metadata: ["error": "\(error)"])
            }
        }
        let start = after
        while after < cursor {
            let page = try await events.events(after: after, limit: 5000, type: nil).filter { $0.seq <= cursor }
            guard let last = page.last else { break }
            let parsed = page.compactMap { stored in Self.parse(stored.body).map { ($0, stored.body) } }
            state.withLock { state in
                for (event, body) in parsed { _ = state.detector.process(event, body: body) }
                state.seq = last.seq
            }
            after = last.seq
        }
        state.withLock { $0.needsRestore = false }
        logger.info("detection state restored", metadata: ["snapshot": "\(start)", "replayed": "\(after - start)", "cursor": "\(cursor)"])
    }

    /// The detector's state now, as canonical bytes (for tests and snapshots).
    public func stateSnapshot() throws -> [UInt8] {
        try saveableState().data
    }

    /// The state and the event it is as of. Copying the detector under the lock is cheap (its
    /// storage is shared until changed); encoding happens outside it, so detection never waits.
    private func saveableState() throws -> (seq: Int64, data: [UInt8]) {
        let (copy, seq) = state.withLock { ($0.detector, $0.seq) }
        return (seq, try copy.snapshot().encoded())
    }

    /// Saves a snapshot of the state as of the last processed event.
    public func saveSnapshot() async throws {
        let (seq, data) = try saveableState()
        guard seq > 0 else { return }
        try await detections.saveDetectionSnapshot(seq: seq, takenAt: clock.nowMillis(), data: data)
    }

    /// Processes the next batch of events after the cursor; returns how many. One caller at a time
    /// (the service's loop, or a test).
    @discardableResult
    public func processNext() async throws -> Int {
        // The cursor in memory equals the committed one: it is restored from the store on start,
        // and after a failed commit both are restored again before anything else is processed.
        if state.withLock({ $0.needsRestore }) { try await restore() }
        let cursor = state.withLock { $0.seq }
        let page: [LogTail.Entry]
        if let recent = tail?.events(after: cursor, limit: batchSize) {
            page = recent
        } else {
            page = try await events.events(after: cursor, limit: batchSize, type: nil).compactMap { stored in
                Self.parse(stored.body).map { LogTail.Entry(seq: stored.seq, parsed: $0, body: stored.body) }
            }
        }
        guard let last = page.last else { return 0 }
        var fired: [(hit: RuleHit, event: ParsedEvent, seq: Int64)] = []
        var waiting: [(hit: RuleHit, event: ParsedEvent, seq: Int64)] = []
        var bulkCases: [(instruction: BulkInstruction, event: ParsedEvent, seq: Int64)] = []
        var batch = state.withLock { state -> DetectionBatch in
            var batch = DetectionBatch(throughSeq: last.seq)
            var hourly: [String: RuleHitCount] = [:]
            for stored in page {
                let parsed = stored.parsed
                let evaluation = state.detector.process(parsed, body: stored.body)
                if let instruction = evaluation.instruction {
                    switch instruction.operation {
                    case .label(let name, let expiresAt):
                        if expiresAt.map({ $0 > parsed.occurredAt }) ?? true {
                            batch.labels.append(.set(entity: instruction.entity, name: name, source: BulkInstruction.ruleName(job: instruction.job),
                                                     createdAt: parsed.occurredAt, expiresAt: expiresAt))
                        }
                    case .unlabel(let name):
                        batch.labels.append(.remove(entity: instruction.entity, name: name))
                    case .openCase:
                        bulkCases.append((instruction, parsed, stored.seq))
                    }
                }
                for hit in evaluation.pending { waiting.append((hit, parsed, stored.seq)) }
                for hit in evaluation.hits {
                    let hour = parsed.occurredAt / 3_600_000
                    hourly["\(hit.rule)|\(hit.version)|\(hit.mode.rawValue)|\(hour)", default: RuleHitCount(
                        rule: hit.rule, version: hit.version, mode: hit.mode.rawValue, hour: hour, hits: 0)].hits += 1
                    guard hit.mode == .active else { continue }
                    fired.append((hit, parsed, stored.seq))
                    for effect in hit.effects {
                        switch effect {
                        case .label(let entity, let name, let expiresAt):
                            batch.labels.append(.set(entity: entity, name: name, source: "rule:\(hit.rule)@\(hit.version)",
                                                     createdAt: parsed.occurredAt, expiresAt: expiresAt))
                        case .unlabel(let entity, let name):
                            batch.labels.append(.remove(entity: entity, name: name))
                        default: break
                        }
                    }
                }
            }
            batch.hits = Array(hourly.values)
            state.seq = last.seq
            return batch
        }
        // Signals are stamped when the batch has been evaluated, just before they are stored.
        let now = clock.nowMillis()
        batch.signals = fired.map { Self.signal(for: $0.hit, event: $0.event, seq: $0.seq, now: now) }
            + bulkCases.compactMap { Self.signal(for: $0.instruction, event: $0.event, seq: $0.seq, now: now) }
        batch.jobs = waiting.map { waiting in
            ClassificationJob(signal: Self.signal(for: waiting.hit, event: waiting.event, seq: waiting.seq, now: now), mode: waiting.hit.mode.rawValue,
                              condition: waiting.hit.condition.map(Self.encode) ?? "", createdAt: now)
        }
        do {
            try await detections.commitDetection(batch)
        } catch {
            // The state has moved past what is stored: the next call rebuilds it first.
            state.withLock { $0.needsRestore = true }
            throw error
        }
        processedCounter.increment(by: page.count)
        return page.count
    }

    /// Puts new rules in force, keeping the state that still applies (see
    /// ``Detector/init(rules:carryingStateFrom:)``). Events after the cursor are evaluated with them.
    public func replaceRules(_ rules: RuleSet) {
        state.withLock { $0.detector = Detector(rules: rules, carryingStateFrom: $0.detector) }
    }

    /// Puts new classifiers in force for the next events (state is unchanged): built-in models
    /// rules call inline, and the served classifiers whose questions wait for the classification stage.
    public func replaceClassifiers(scorers: [String: any TextScorer], served: Set<String>) {
        classifiers.withLock { $0 = (scorers, served) }
        state.withLock {
            $0.detector.scorers = scorers
            $0.detector.servedClassifiers = served
        }
    }

    /// Counts a rule's hit that fired later (the classification stage) toward its budget; the
    /// demotion, if the safety valve demotes it (see ``Detector/countLateHit(rule:version:at:)``).
    public func countLateHit(rule: String, version: String, at time: Int64) -> (reason: String, severity: String)? {
        state.withLock { $0.detector.countLateHit(rule: rule, version: version, at: time) }
    }

    /// Evaluates an event against the current state without changing it.
    public func peek(_ event: ParsedEvent, body: [UInt8]) -> Evaluation {
        state.withLock { $0.detector.peek(event, body: body) }
    }

    /// Events in the log were validated at intake; parse them without the schema's clock check.
    private static func parse(_ body: [UInt8]) -> ParsedEvent? {
        try? body.withUnsafeBufferPointer { buffer throws(EventError) in
            try Self.lenientSchema.parse(buffer, now: .max / 4)
        }
    }

    /// Stored events passed the pack's checks when they arrived; replay must not re-judge them
    /// against today's pack (an entity type removed since then, say), so it registers any type.
    private static let lenientSchema: EventSchema = {
        var schema = EventSchema(entityTypes: EntityTypes(), reportReasons: [])
        schema.rereadsStoredEvents = true
        return schema
    }()

    static func encode(_ condition: PendingCondition) -> String {
        (try? JSONEncoder().encode(condition)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func signal(for hit: RuleHit, event: ParsedEvent, seq: Int64, now: Int64) -> StoredSignal {
        var category = hit.category
        var severity = hit.severity
        var subject = event.actor
        var reason: String?
        var queue: String?
        var verdict: String?
        for effect in hit.effects {
            switch effect {
            case .signal(let signalCategory, let signalSeverity, let signalSubject, let signalReason):
                category = signalCategory
                severity = signalSeverity
                subject = signalSubject ?? subject
                reason = signalReason
            case .route(let name): queue = queue ?? name
            case .verdict(let value): verdict = value.rawValue
            default: break
            }
        }
        return StoredSignal(eventSeq: seq, rule: hit.rule, ruleVersion: hit.version, category: category, severity: severity, subject: subject,
                            reason: reason, explanation: hit.explanation, queue: queue, verdict: verdict,
                            effects: EffectJSON.encode(hit.effects), occurredAt: event.occurredAt, createdAt: now)
    }
}

extension DetectionPipeline {
    /// The signal a bulk job's case step raises: rule `bulk:<job>`, routed to the job's queue.
    static func signal(for instruction: BulkInstruction, event: ParsedEvent, seq: Int64, now: Int64) -> StoredSignal? {
        guard case .openCase(let queue, let category, let severity, let reason) = instruction.operation else { return nil }
        let explanation = "opened by bulk job \(instruction.job)"
        return StoredSignal(eventSeq: seq, rule: BulkInstruction.ruleName(job: instruction.job), ruleVersion: "1", category: category,
                            severity: severity, subject: instruction.entity, reason: reason, explanation: explanation, queue: queue,
                            verdict: nil, effects: "[]", occurredAt: event.occurredAt, createdAt: now)
    }
}

/// Effects as JSON, for storage and API answers.
public enum EffectJSON {
    /// A JSON array of the effects.
    public static func encode(_ effects: [Effect]) -> String {
        var writer = JSONWriter(capacity: 128)
        write(effects, into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Writes the effects as a JSON array.
    public static func write(_ effects: [Effect], into writer: inout JSONWriter) {
        writer.beginArray()
        for effect in effects {
            writer.beginObject()
            switch effect {
            case .signal(let category, let severity, let subject, let reason):
                writer.field("type", "signal")
                writer.field("category", category)
                writer.field("severity", severity)
                if let subject { writer.field("subject", subject.description) }
                if let reason { writer.field("reason", reason) }
            case .label(let entity, let name, let expiresAt):
                writer.field("type", "label")
                writer.field("entity", entity.description)
                writer.field("label", name)
                if let expiresAt { writer.field("expires_at", Timestamp.formatRFC3339(expiresAt)) }
            case .unlabel(let entity, let name):
                writer.field("type", "unlabel")
                writer.field("entity", entity.description)
                writer.field("label", name)
            case .route(let queue):
                writer.field("type", "route")
                writer.field("queue", queue)
            case .action(let name, let subject, let duration):
                writer.field("type", "action")
                writer.field("action", name)
                if let subject { writer.field("subject", subject.description) }
                if let duration { writer.field("duration_seconds", duration / 1000) }
            case .verdict(let verdict):
                writer.field("type", "verdict")
                writer.field("verdict", verdict.rawValue)
            }
            writer.endObject()
        }
        writer.endArray()
    }
}
