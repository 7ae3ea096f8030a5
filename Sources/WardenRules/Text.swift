/// Folding text so that look-alike spellings match: case, common leetspeak digits and symbols,
/// accents on Latin letters, and runs of spaces and punctuation.
enum TextNormalizer {
    private static let folds: [Character: Character] = [
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "|": "l",
        "á": "a", "à": "a", "â": "a", "ä": "a", "ã": "a", "å": "a", "é": "e", "è": "e", "ê": "e", "ë": "e", "í": "i", "ì": "i",
        "î": "i", "ï": "i", "ó": "o", "ò": "o", "ô": "o", "ö": "o", "õ": "o", "ú": "u", "ù": "u", "û": "u", "ü": "u", "ç": "c", "ñ": "n",
    ]

    static func normalize(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for character in text.lowercased() {
            let folded = folds[character] ?? character
            if folded.isLetter || folded.isNumber {
                if pendingSpace, !output.isEmpty { output.append(" ") }
                pendingSpace = false
                output.append(folded)
            } else if folded.isWhitespace || folded.isPunctuation || folded.isSymbol {
                pendingSpace = true
            }
        }
        return output
    }
}

/// Links in free text: `http(s)://…` URLs and bare `www.` hosts.
enum Links {
    static func urls(in text: String) -> [String] {
        var found: [String] = []
        for word in text.split(whereSeparator: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "<" || $0 == ">" }) {
            let lower = word.lowercased()
            if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("www.") {
                found.append(String(word.trimmingSuffixPunctuation()))
            }
        }
        return found
    }

    static func domains(in text: String) -> [String] {
        urls(in: text).compactMap { url in
            var rest = Substring(url.lowercased())
            if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
            let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != ":" }
            let trimmed = host.hasPrefix("www.") ? host.dropFirst(4) : host
            return trimmed.contains(".") ? String(trimmed) : nil
        }
    }
}

private extension Substring {
    func trimmingSuffixPunctuation() -> Substring {
        var result = self
        while let last = result.last, ".,;:!?)]}".contains(last) { result = result.dropLast() }
        return result
    }
}
