import Foundation

/// RFC 4180 CSV, written for people who open it in a spreadsheet.
public enum CSV {
    /// One field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@`
    /// (not a number) is prefixed with `'` so a spreadsheet does not run it as a formula.
    public static func field(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }
}

extension CSV {
    /// A CSV text that does not parse, with where.
    public struct ParseError: Error, Equatable, Sendable {
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { "line \(line): \(message)" }
    }

    /// The records of an RFC 4180 text (LF or CRLF line ends; a quoted field may hold commas, quotes
    /// as `""` and line breaks), each with the line it starts on. Blank lines are skipped.
    public static func records(_ text: String) throws(ParseError) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var start = 1
        var quoted = false
        var wasQuoted = false
        var characters = text.makeIterator()
        var pending: Character? = characters.next()
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) { records.append((start, fields)) }
            fields = []
            field = ""
            wasQuoted = false
        }
        while let character = pending {
            pending = characters.next()
            if quoted {
                if character == "\"" {
                    if pending == "\"" {
                        field.append("\"")
                        pending = characters.next()
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case ",":
                fields.append(field)
                field = ""
                wasQuoted = false
            case "\n", "\r\n":
                endRecord()
                line += 1
                start = line
            case "\"":
                guard field.isEmpty, !wasQuoted else { throw ParseError(line: line, message: "a quote inside an unquoted field (quote the whole field and double the quote)") }
                quoted = true
                wasQuoted = true
            default:
                if wasQuoted { throw ParseError(line: line, message: "text after a closing quote (a quoted field ends at its comma)") }
                field.append(character)
            }
        }
        if quoted { throw ParseError(line: start, message: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}
