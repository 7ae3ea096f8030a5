import Foundation
import GRDB
import WardenCore
public import WardenReview

/// A value stored in a review table that no current type knows: stored data is never read as a
/// default in its place.
public struct StoredValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public var table: String
    public var column: String
    public var value: String

    public var description: String { "\(table).\(column) holds \"\(value)\", which this version of Warden does not know" }
}

extension Row {
    /// The value of an enumeration column, or an error naming the table, column and value.
    func decode<T: RawRepresentable>(_ type: T.Type, _ column: String, at index: Int? = nil, table: String) throws -> T
    where T.RawValue: DatabaseValueConvertible & CustomStringConvertible {
        let raw: T.RawValue = index.map { self[$0] } ?? self[column]
        guard let value = T(rawValue: raw) else { throw StoredValueError(table: table, column: column, value: raw.description) }
        return value
    }

    /// An actor column (`kind:name`).
    func actor(_ column: String, at index: Int? = nil, table: String) throws -> ActorRef {
        try ActorRef(stored: index.map { self[$0] } ?? self[column], table: table, column: column)
    }

    /// An optional actor column.
    func actorIfPresent(_ column: String, at index: Int? = nil, table: String) throws -> ActorRef? {
        let text: String?
        if let index { text = self[index] } else { text = self[column] }
        return try text.map { try ActorRef(stored: $0, table: table, column: column) }
    }

    /// An entity reference column (`type:id`).
    func entity(_ column: String, at index: Int? = nil, table: String) throws -> EntityRef {
        let text: String = index.map { self[$0] } ?? self[column]
        guard let ref = EntityRef(parsing: text) else { throw StoredValueError(table: table, column: column, value: text) }
        return ref
    }

    /// The value of an optional enumeration column.
    func decodeIfPresent<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String) throws -> T?
    where T.RawValue: DatabaseValueConvertible & CustomStringConvertible {
        guard let raw: T.RawValue = self[column] else { return nil }
        guard let value = T(rawValue: raw) else { throw StoredValueError(table: table, column: column, value: raw.description) }
        return value
    }
}

extension ActorRef {
    /// An actor as stored (`kind:name`), or an error naming the table and column.
    init(stored text: String, table: String, column: String) throws {
        guard let actor = ActorRef(parsing: text) else { throw StoredValueError(table: table, column: column, value: text) }
        self = actor
    }
}

/// A stored value read from a row by its table's columns (GRDB stays inside the store: the domain
/// types conform here, internally). Decoding throws ``StoredValueError`` for a value no type knows.
protocol RowDecodable {
    init(row: Row) throws
}

extension Database {
    /// The first row of a cached statement, decoded.
    func fetchOne<T: RowDecodable>(_ type: T.Type, sql: String, arguments: StatementArguments = []) throws -> T? {
        try cachedRow(sql: sql, arguments: arguments).map(T.init(row:))
    }

    /// Every row of a cached statement, decoded.
    func fetchAll<T: RowDecodable>(_ type: T.Type, sql: String, arguments: StatementArguments = []) throws -> [T] {
        try cachedRows(sql: sql, arguments: arguments).map(T.init(row:))
    }
}

/// The columns of `review_case`, in the order they are selected: the one definition that the
/// select list, the written values and the decoding follow. Cases are read and written on every
/// claim, decision, merge and SLA tick, so they are read by position (reading a row by column name
/// costs a case-insensitive search per column); the position is the enumeration's.
enum CaseColumn: Int, CaseIterable {
    case id, kind, subject, source, queue, state, category, severity, score, band, signals, reports, reporterWeight, assignee, leaseExpiresAt
    case createdAt, updatedAt, contentAt, firstActionAt, resolvedAt, clockAccumulated, clockSince, dueAt, slaNextAt, slaRaised, appealOf
    case excludedReviewer, escalationReason

    /// The SQL name (`reporterWeight` → `reporter_weight`).
    var name: String { Self.names[rawValue] }

    static let names: [String] = allCases.map { column in
        String("\(column)".flatMap { $0.isUppercase ? ["_", Character($0.lowercased())] : [$0] })
    }

    /// Every column but the key, for inserts and change detection.
    static let values = allCases.filter { $0 != .id }

    static let selectList = names.joined(separator: ", ")

    /// The value `record` holds for this column.
    func value(of record: CaseRecord) -> DatabaseValue {
        switch self {
        case .id: record.id.databaseValue
        case .kind: record.kind.rawValue.databaseValue
        case .subject: record.subject.description.databaseValue
        case .source: record.source.rawValue.databaseValue
        case .queue: record.queue.databaseValue
        case .state: record.state.rawValue.databaseValue
        case .category: record.category.databaseValue
        case .severity: record.severity.databaseValue
        case .score: record.score.databaseValue
        case .band: record.band.rawValue.databaseValue
        case .signals: record.signals.databaseValue
        case .reports: record.reports.databaseValue
        case .reporterWeight: record.reporterWeight.databaseValue
        case .assignee: record.assignee?.description.databaseValue ?? .null
        case .leaseExpiresAt: record.leaseExpiresAt.databaseValue
        case .createdAt: record.createdAt.databaseValue
        case .updatedAt: record.updatedAt.databaseValue
        case .contentAt: record.contentAt.databaseValue
        case .firstActionAt: record.firstActionAt.databaseValue
        case .resolvedAt: record.resolvedAt.databaseValue
        case .clockAccumulated: record.clock.accumulated.databaseValue
        case .clockSince: record.clock.since.databaseValue
        case .dueAt: record.dueAt.databaseValue
        case .slaNextAt: record.slaNextAt.databaseValue
        case .slaRaised: record.slaRaised.databaseValue
        case .appealOf: record.appealOf.databaseValue
        case .excludedReviewer: record.excludedReviewer?.description.databaseValue ?? .null
        case .escalationReason: record.escalationReason.databaseValue
        }
    }
}

extension CaseRecord: RowDecodable {
    /// Decodes a row selected with ``CaseColumn/selectList``.
    init(row: Row) throws {
        func at<T: DatabaseValueConvertible>(_ column: CaseColumn) -> T { row[column.rawValue] }
        func optional<T: DatabaseValueConvertible>(_ column: CaseColumn) -> T? { row[column.rawValue] }
        func actor(_ column: CaseColumn) throws -> ActorRef? {
            try row.actorIfPresent(column.name, at: column.rawValue, table: "review_case")
        }
        func enumerated<T: RawRepresentable>(_ type: T.Type, _ column: CaseColumn) throws -> T
        where T.RawValue: DatabaseValueConvertible & CustomStringConvertible {
            try row.decode(type, column.name, at: column.rawValue, table: "review_case")
        }
        self.init(id: at(.id), kind: try enumerated(CaseKind.self, .kind), subject: try row.entity(CaseColumn.subject.name, at: CaseColumn.subject.rawValue, table: "review_case"), source: try enumerated(CaseSource.self, .source),
                  queue: at(.queue), state: try enumerated(CaseState.self, .state), category: at(.category), severity: at(.severity),
                  score: at(.score), band: try enumerated(CasePriority.Band.self, .band), signals: at(.signals), reports: at(.reports),
                  reporterWeight: at(.reporterWeight), assignee: try actor(.assignee), leaseExpiresAt: optional(.leaseExpiresAt),
                  createdAt: at(.createdAt), updatedAt: at(.updatedAt), contentAt: at(.contentAt), firstActionAt: optional(.firstActionAt),
                  resolvedAt: optional(.resolvedAt), clock: SLAClock(accumulated: at(.clockAccumulated), since: optional(.clockSince)),
                  dueAt: at(.dueAt), slaNextAt: optional(.slaNextAt), slaRaised: at(.slaRaised), appealOf: optional(.appealOf),
                  excludedReviewer: try actor(.excludedReviewer), escalationReason: optional(.escalationReason))
    }
}

extension TimelineEntry: RowDecodable {
    enum Columns: String { case id, at, actor, kind, fromState = "from_state", toState = "to_state", detail }

    init(row: Row) throws {
        self.init(id: row[Columns.id.rawValue], at: row[Columns.at.rawValue], actor: try row.actor(Columns.actor.rawValue, table: "case_timeline"),
                  kind: try row.decode(Kind.self, Columns.kind.rawValue, table: "case_timeline"),
                  fromState: try row.decodeIfPresent(CaseState.self, Columns.fromState.rawValue, table: "case_timeline"),
                  toState: try row.decodeIfPresent(CaseState.self, Columns.toState.rawValue, table: "case_timeline"),
                  detail: row[Columns.detail.rawValue])
    }
}

extension ActionRecord: RowDecodable {
    enum Columns: String {
        case id, decisionID = "decision_id", caseID = "case_id", subject, action, duration, createdAt = "created_at", reverses
        case reversedAt = "reversed_at", reversedBy = "reversed_by", reversalReason = "reversal_reason"
    }

    init(row: Row) throws {
        self.init(id: row[Columns.id.rawValue], decisionID: row[Columns.decisionID.rawValue], caseID: row[Columns.caseID.rawValue],
                  subject: try row.entity(Columns.subject.rawValue, table: "enforcement_action"), action: row[Columns.action.rawValue], duration: row[Columns.duration.rawValue],
                  createdAt: row[Columns.createdAt.rawValue], reverses: row[Columns.reverses.rawValue], reversedAt: row[Columns.reversedAt.rawValue],
                  reversedBy: try row.actorIfPresent(Columns.reversedBy.rawValue, table: "enforcement_action"), reversalReason: row[Columns.reversalReason.rawValue])
    }
}

extension ReporterRecord: RowDecodable {
    enum Columns: String { case id, trust, muted, reports, upheld, rejected }

    init(row: Row) {
        self.init(id: row[Columns.id.rawValue], trust: row[Columns.trust.rawValue], muted: row[Columns.muted.rawValue],
                  reports: row[Columns.reports.rawValue], upheld: row[Columns.upheld.rawValue], rejected: row[Columns.rejected.rawValue])
    }
}

extension ConsultRecord: RowDecodable {
    enum Columns: String {
        case id, caseID = "case_id", askedBy = "asked_by", reviewer, question, askedAt = "asked_at", answer, answeredAt = "answered_at"
        case queue, state, subject, category, assignee
    }

    /// Decodes a consult joined with its case (``SQLiteStore/consultSelect``).
    init(row: Row) throws {
        self.init(id: row[Columns.id.rawValue], caseID: row[Columns.caseID.rawValue], askedBy: try row.actor(Columns.askedBy.rawValue, table: "case_consult"),
                  reviewer: try row.actor(Columns.reviewer.rawValue, table: "case_consult"), question: row[Columns.question.rawValue], askedAt: row[Columns.askedAt.rawValue],
                  answer: row[Columns.answer.rawValue], answeredAt: row[Columns.answeredAt.rawValue], queue: row[Columns.queue.rawValue],
                  state: try row.decode(CaseState.self, Columns.state.rawValue, table: "review_case"),
                  subject: try row.entity(Columns.subject.rawValue, table: "review_case"),
                  category: row[Columns.category.rawValue],
                  assignee: try row.actorIfPresent(Columns.assignee.rawValue, table: "review_case"))
    }
}

extension OutboxItem: RowDecodable {
    enum Columns: String {
        case id, topic, idempotencyKey = "idempotency_key", body, state, attempts, nextAttemptAt = "next_attempt_at", lastError = "last_error"
        case createdAt = "created_at", deliveredAt = "delivered_at", destination
    }

    init(row: Row) throws {
        self.init(id: row[Columns.id.rawValue], topic: row[Columns.topic.rawValue], idempotencyKey: row[Columns.idempotencyKey.rawValue],
                  body: row[Columns.body.rawValue], state: try row.decode(State.self, Columns.state.rawValue, table: "outbox"),
                  attempts: row[Columns.attempts.rawValue], nextAttemptAt: row[Columns.nextAttemptAt.rawValue], lastError: row[Columns.lastError.rawValue],
                  createdAt: row[Columns.createdAt.rawValue], deliveredAt: row[Columns.deliveredAt.rawValue],
                  destination: row[Columns.destination.rawValue] ?? "")
    }
}
