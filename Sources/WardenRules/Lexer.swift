import Foundation

/// A token of the rule language.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        case string(String)
        case number(Double)
        /// A duration such as `10m`, in milliseconds.
        case duration(Int64)
        case symbol(String)
        case end
    }

    var kind: Kind
    var location: SourceLocation

    var describe: String {
        switch kind {
        case .identifier(let name): "'\(name)'"
        case .string(let text): "the text \"\(text.prefix(30))\""
        case .number(let value): "the number \(value)"
        case .duration: "a duration"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the file"
        }
    }
}

/// Splits rule source into tokens. Never fails: a character it does not understand becomes a
/// diagnostic and is skipped, so the parser can still report everything else.
struct Lexer {
    static let maxSourceBytes = 1 << 20
    static let durationUnits: [String: Int64] = ["ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000]

    static func tokenize(_ source: String, file: String) -> ([Token], [Diagnostic]) {
        var tokens: [Token] = []
        var diagnostics: [Diagnostic] = []
        let scalars = Array(source.unicodeScalars.prefix(maxSourceBytes))
        if source.utf8.count > maxSourceBytes {
            diagnostics.append(Diagnostic(SourceLocation(file: file, line: 1, column: 1), "the file is larger than 1 MiB; split it into several rule files"))
        }
        var index = 0
        var line = 1
        var lineStart = 0
        func location(_ at: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: at - lineStart + 1) }

        while index < scalars.count {
            let character = scalars[index]
            let start = index
            switch character {
            case "\n":
                index += 1
                line += 1
                lineStart = index
            case " ", "\t", "\r":
                index += 1
            case "#":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "\"":
                index += 1
                var text = String.UnicodeScalarView()
                var closed = false
                while index < scalars.count, scalars[index] != "\n" {
                    if scalars[index] == "\"" {
                        closed = true
                        index += 1
                        break
                    }
                    if scalars[index] == "\\", index + 1 < scalars.count {
                        index += 1
                        switch scalars[index] {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        default: text.append(scalars[index])
                        }
                    } else {
                        text.append(scalars[index])
                    }
                    index += 1
                }
                if !closed { diagnostics.append(Diagnostic(location(start), "this text has no closing quote \"")) }
                tokens.append(Token(kind: .string(String(text)), location: location(start)))
            case "0"..."9":
                while index < scalars.count, ("0"..."9").contains(scalars[index]) || scalars[index] == "." || scalars[index] == "_" { index += 1 }
                let digits = String(String.UnicodeScalarView(scalars[start..<index])).replacingOccurrences(of: "_", with: "")
                var unitEnd = index
                while unitEnd < scalars.count, ("a"..."z").contains(scalars[unitEnd]) { unitEnd += 1 }
                let unit = String(String.UnicodeScalarView(scalars[index..<unitEnd]))
                if !unit.isEmpty {
                    if let scale = durationUnits[unit], let value = Double(digits), value * Double(scale) < 1e15 {
                        tokens.append(Token(kind: .duration(Int64(value * Double(scale))), location: location(start)))
                    } else {
                        diagnostics.append(Diagnostic(location(start), "\(digits)\(unit) is not a duration; use a number with ms, s, m, h, d or w, such as 10m"))
                    }
                    index = unitEnd
                } else if let value = Double(digits) {
                    tokens.append(Token(kind: .number(value), location: location(start)))
                } else {
                    diagnostics.append(Diagnostic(location(start), "\(digits) is not a number"))
                }
            case "a"..."z", "A"..."Z", "_":
                while index < scalars.count,
                      ("a"..."z").contains(scalars[index]) || ("A"..."Z").contains(scalars[index]) || ("0"..."9").contains(scalars[index]) || scalars[index] == "_" {
                    index += 1
                }
                tokens.append(Token(kind: .identifier(String(String.UnicodeScalarView(scalars[start..<index]))), location: location(start)))
            case "=", "!", "<", ">":
                if index + 1 < scalars.count, scalars[index + 1] == "=" {
                    tokens.append(Token(kind: .symbol(String(character) + "="), location: location(start)))
                    index += 2
                } else if character == "<" || character == ">" {
                    tokens.append(Token(kind: .symbol(String(character)), location: location(start)))
                    index += 1
                } else {
                    diagnostics.append(Diagnostic(location(start), character == "=" ? "use == to compare" : "use != or not"))
                    index += 1
                }
            case "(", ")", "[", "]", ",", ".", "+", "-", "*", "/":
                tokens.append(Token(kind: .symbol(String(character)), location: location(start)))
                index += 1
            default:
                diagnostics.append(Diagnostic(location(start), "unexpected character '\(character.escaped(asASCII: true))'"))
                index += 1
            }
        }
        tokens.append(Token(kind: .end, location: location(index)))
        return (tokens, diagnostics)
    }
}
