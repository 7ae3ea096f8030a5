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
