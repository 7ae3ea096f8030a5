/// What intake did with one line of a submission.
public enum LineStatus: String, Sendable, Codable, Equatable {
    /// Stored now.
    case accepted
    /// An event with this id and the same content was already stored; nothing changed.
    case duplicate
    /// An event with this id but different content is already stored; this line was not stored.
    case conflict
    /// The line is invalid and was not stored.
    case rejected
}

/// The answer for one line.
public struct LineResult: Sendable, Codable, Equatable {
    /// 1-based line number in the request body.
    public var line: Int
    /// The event id, when one could be read.
    public var id: String?
    /// What happened.
    public var status: LineStatus
    /// The event's position in the log (accepted and duplicate lines).
    public var seq: Int64?
    /// Why the line was not stored (conflict and rejected lines).
    public var error: LineError?

    /// Creates a result.
    public init(line: Int, id: String? = nil, status: LineStatus, seq: Int64? = nil, error: LineError? = nil) {
        self.line = line
        self.id = id
        self.status = status
        self.seq = seq
        self.error = error
    }
}

/// A line's error as reported to the client.
public struct LineError: Sendable, Codable, Equatable {
    /// `syntax`, `invalid`, `too_large` or `conflict`.
    public var code: String
    /// The field path at fault, such as `entities.ip`.
    public var field: String?
    /// 1-based line of a JSON syntax error within the body.
    public var line: Int?
    /// 1-based column (in bytes) of a JSON syntax error.
    public var column: Int?
    /// What is wrong and what to do.
    public var message: String

    /// Creates an error description.
    public init(code: String, field: String? = nil, line: Int? = nil, column: Int? = nil, message: String) {
        self.code = code
        self.field = field
        self.line = line
        self.column = column
        self.message = message
    }
}

/// The answer for a whole submission: counts plus one result per non-blank line, in order.
public struct IntakeResult: Sendable, Codable, Equatable {
    /// Lines stored now.
    public var accepted: Int
    /// Lines that repeated an already stored event.
    public var duplicates: Int
    /// Lines whose id is taken by different content.
    public var conflicts: Int
    /// Invalid lines.
    public var rejected: Int
    /// One entry per line.
    public var results: [LineResult]

    /// Tallies `results`.
    public init(results: [LineResult]) {
        self.results = results
        accepted = results.count(where: { $0.status == .accepted })
        duplicates = results.count(where: { $0.status == .duplicate })
        conflicts = results.count(where: { $0.status == .conflict })
        rejected = results.count(where: { $0.status == .rejected })
    }

    /// Whether every line is now in the log (accepted or duplicate).
    public var isComplete: Bool { conflicts == 0 && rejected == 0 }
}
