/// An investigator's query as PostgreSQL is given it: one statement, its `:name` parameters
/// rewritten to PostgreSQL's `$1`, `$2`, … (the same name is the same number), any trailing `;`
/// and blank or comment-only tail removed, so the text can be wrapped as a subquery.
///
/// SQLite reports a statement's parameters itself; PostgreSQL only knows positional ones, so the
/// text is read here, with PostgreSQL's lexical rules for what is not code: `'…'` strings (`''`
/// inside; `E'…'` with backslash escapes), `"…"` identifiers, `$tag$…$tag$` bodies, `--` and
/// nested `/* */` comments, and the `::` cast operator. A `:name` anywhere else is a parameter.
public struct PostgresQueryText: Sendable, Equatable {
    /// The statement with `$n` in place of each `:name`, without its trailing `;`.
    public let body: String
    /// The parameters' names in order of first appearance: `$1` is `names[0]`.
    public let names: [String]

    public init(body: String, names: [String]) {
        self.body = body
        self.names = names
    }

    /// Reads `sql`. Refuses more than one statement, a statement that is not a query (`SELECT`,
    /// `WITH`, `VALUES`, `TABLE`), and positional parameters (`$1`; `?` is an operator in
    /// PostgreSQL and left alone), as the SQLite store refuses them.
    public static func parse(_ sql: String) throws(QueryError) -> PostgresQueryText {
        let text = Array(sql.unicodeScalars)
        var output = String.UnicodeScalarView()
        var names: [String] = []
        var index = 0
        /// Where the statement's code ends in `output` (after the last character that is not blank,
        /// a comment or `;`).
        var outputCodeEnd = 0
        var sawTerminator = false
        /// The statement's first word (or `(`), lower-cased: what kind of statement it is.
        var firstWord: String?

        func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isIdentifierPart(_ c: Unicode.Scalar) -> Bool { isIdentifierStart(c) || ("0"..."9").contains(c) || c == "$" }
        func copy(_ range: Range<Int>) { output.append(contentsOf: text[range]) }
        func markCode() { outputCodeEnd = output.count }
        func code(_ range: Range<Int>) throws(QueryError) {
            if sawTerminator {
                let rest = String(String.UnicodeScalarView(text[range.lowerBound...])).trimmingBlank
                throw QueryError(.refused, "give one statement per query (more follows: \"\(rest.prefix(40))\")")
            }
            if firstWord == nil {
                firstWord = String(String.UnicodeScalarView(text[range])).lowercased()
            }
            copy(range)
            index = range.upperBound
            markCode()
        }

        while index < text.count {
            let c = text[index]
            let next: Unicode.Scalar? = index + 1 < text.count ? text[index + 1] : nil
            if c.properties.isWhitespace {
                copy(index..<index + 1)
                index += 1
            } else if c == "-", next == "-" {
                var end = index
                while end < text.count, text[end] != "\n" { end += 1 }
                copy(index..<end)
                index = end
            } else if c == "/", next == "*" {
                var depth = 0
                var end = index
                while end < text.count {
                    if text[end] == "/", end + 1 < text.count, text[end + 1] == "*" {
                        depth += 1
                        end += 2
                    } else if text[end] == "*", end + 1 < text.count, text[end + 1] == "/" {
                        depth -= 1
                        end += 2
                        if depth == 0 { break }
                    } else {
                        end += 1
                    }
                }
                if depth != 0 { throw QueryError(.refused, "a /* comment is not closed") }
                copy(index..<end)
                index = end
            } else if c == ";" {
                sawTerminator = true
                index += 1
            } else if c == "'" || ((c == "E" || c == "e") && next == "'" && !(index > 0 && isIdentifierPart(text[index - 1]))) {
                let escapes = c != "'"
                guard let end = Self.closingQuote(in: text, from: index + (escapes ? 2 : 1), quote: "'", backslashEscapes: escapes) else {
                    throw QueryError(.refused, "a string ('…') is not closed")
                }
                try code(index..<end)
            } else if c == "\"" {
                guard let end = Self.closingQuote(in: text, from: index + 1, quote: "\"", backslashEscapes: false) else {
                    throw QueryError(.refused, "a quoted name (\"…\") is not closed")
                }
                try code(index..<end)
            } else if c == "$", !(index > 0 && isIdentifierPart(text[index - 1])) {
                // $1 (a positional parameter) or $tag$ … $tag$ (a dollar-quoted string).
                var end = index + 1
                if let next, ("0"..."9").contains(next) {
                    throw QueryError(.refused, "use named parameters such as :since ($\(next)… has no name)")
                }
                while end < text.count, text[end] != "$", isIdentifierPart(text[end]) { end += 1 }
                guard end < text.count, text[end] == "$" else { try code(index..<index + 1); continue }
                let tag = Array(text[index...end])
                var close = end + 1
                var found = false
                while close + tag.count <= text.count {
                    if Array(text[close..<close + tag.count]) == tag {
                        found = true
                        break
                    }
                    close += 1
                }
                guard found else { throw QueryError(.refused, "a dollar-quoted string (\(String(String.UnicodeScalarView(tag)))…) is not closed") }
                try code(index..<close + tag.count)
            } else if c == ":", next == ":" {
                try code(index..<index + 2)
            } else if c == ":", let next, isIdentifierStart(next) {
                var end = index + 1
                while end < text.count, isIdentifierStart(text[end]) || ("0"..."9").contains(text[end]) { end += 1 }
                if sawTerminator { try code(index..<end) }
                let name = String(String.UnicodeScalarView(text[(index + 1)..<end]))
                let number: Int
                if let known = names.firstIndex(of: name) {
                    number = known + 1
                } else {
                    names.append(name)
                    number = names.count
                }
                output.append(contentsOf: "$\(number)".unicodeScalars)
                index = end
                markCode()
            } else if isIdentifierStart(c) {
                var end = index + 1
                while end < text.count, isIdentifierPart(text[end]) { end += 1 }
                try code(index..<end)
            } else {
                try code(index..<index + 1)
            }
        }
        let body = String(String.UnicodeScalarView(output.prefix(outputCodeEnd)))
        guard !body.trimmingBlank.isEmpty else { throw QueryError(.invalid, "the query is empty: give one SELECT statement") }
        if let first = firstWord, !["select", "with", "values", "table", "("].contains(first) {
            throw QueryError(.refused, "a query only reads: \(first) is not allowed")
        }
        return PostgresQueryText(body: body, names: names)
    }

    /// The end (just past the closing quote) of a quoted run whose text starts at `start`: a
    /// doubled quote stands for itself, and with `backslashEscapes` (an `E'…'` string) a backslash
    /// escapes the character after it. Nil when it never closes.
    private static func closingQuote(in text: [Unicode.Scalar], from start: Int, quote: Unicode.Scalar, backslashEscapes: Bool) -> Int? {
        var end = start
        while end < text.count {
            if backslashEscapes, text[end] == "\\" {
                end += 2
            } else if text[end] == quote {
                if end + 1 < text.count, text[end + 1] == quote { end += 2 } else { return end + 1 }
            } else {
                end += 1
            }
        }
        return nil
    }
}

private extension String {
    var trimmingBlank: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return Substring(String(scalars[first...last]))
    }
}
