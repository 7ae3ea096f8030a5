/// A place in a rule file.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file, relative to the pack.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column (in characters).
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A problem found in a rule file, in words an analyst understands.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where.
    public var location: SourceLocation
    /// What is wrong and, where possible, what to do.
    public var message: String

    /// Creates a diagnostic.
    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Every problem found while checking rule files.
public struct RuleErrors: Error, Sendable, CustomStringConvertible {
    /// All diagnostics, in file and line order.
    public var diagnostics: [Diagnostic]

    /// Wraps diagnostics.
    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.sorted { ($0.location.file, $0.location.line, $0.location.column) < ($1.location.file, $1.location.line, $1.location.column) }
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
