/// Why one event (one NDJSON line, or one JSON body) was refused at intake.
///
/// Errors carry where the problem is: a field path for a wrong value (`entities.ip`), or a byte
/// offset for broken JSON, which ``TextPosition`` turns into a line and column.
public struct EventError: Error, Sendable, Equatable {
    /// The class of problem, used as the `code` in API answers.
    public enum Kind: String, Sendable, Codable {
        /// The text is not valid JSON.
        case syntax
        /// Valid JSON, but a field is missing, of the wrong type or has an unacceptable value.
        case invalid
        /// The event is larger than the configured limit.
        case tooLarge = "too_large"
    }

    /// The class of problem.
    public var kind: Kind
    /// The field path, such as `occurred_at` or `entities.ip`, when one field is at fault.
    public var field: String?
    /// The byte offset into the event's text where JSON parsing failed.
    public var offset: Int?
    /// What is wrong and what to do, in words.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, field: String? = nil, offset: Int? = nil, message: String) {
        self.kind = kind
        self.field = field
        self.offset = offset
        self.message = message
    }

    static func invalid(_ field: String, _ message: String) -> EventError {
        EventError(kind: .invalid, field: field, message: message)
    }
}

/// A 1-based line and column in a text, computed from a byte offset.
public struct TextPosition: Sendable, Equatable, Codable {
    /// 1-based line number.
    public var line: Int
    /// 1-based column, counted in bytes.
    public var column: Int

    /// Creates a position.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position of `offset` within `bytes`, counting `\n` as the line separator.
    public init(offset: Int, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        self.init(line: line, column: offset - lineStart + 1)
    }
}
