/// Folding text so that look-alike spellings match: case, common leetspeak digits and symbols,
/// accents on Latin letters, and runs of spaces and punctuation.
enum TextNormalizer {
    /// Lower case for list lookups, without a copy when the text has no upper-case letters.
    static func lowercasedForLookup(_ text: String) -> String {
        for byte in text.utf8 where byte >= 0x80 || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) {
            return text.lowercased()
        }
        return text
    }

    private static let folds: [Character: Character] = [
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i", "|": "l",
        "á": "a", "à": "a", "â": "a", "ä": "a", "ã": "a", "å": "a", "é": "e", "è": "e", "ê": "e", "ë": "e", "í": "i", "ì": "i",
        "î": "i", "ï": "i", "ó": "o", "ò": "o", "ô": "o", "ö": "o", "õ": "o", "ú": "u", "ù": "u", "û": "u", "ü": "u", "ç": "c", "ñ": "n",
    ]

    static func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return normalizeASCII(text) }
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

extension TextNormalizer {
    /// The same folding on ASCII bytes, without Character classification.
    static func normalizeASCII(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            var folded = byte
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): folded = byte + 32
            case UInt8(ascii: "0"): folded = UInt8(ascii: "o")
            case UInt8(ascii: "1"), UInt8(ascii: "!"): folded = UInt8(ascii: "i")
            case UInt8(ascii: "3"): folded = UInt8(ascii: "e")
            case UInt8(ascii: "4"), UInt8(ascii: "@"): folded = UInt8(ascii: "a")
            case UInt8(ascii: "5"), UInt8(ascii: "$"): folded = UInt8(ascii: "s")
            case UInt8(ascii: "7"): folded = UInt8(ascii: "t")
            case UInt8(ascii: "8"): folded = UInt8(ascii: "b")
            case UInt8(ascii: "|"): folded = UInt8(ascii: "l")
            default: break
            }
            let isWordByte = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(folded) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(folded)
            if isWordByte {
                if pendingSpace, !output.isEmpty { output.append(UInt8(ascii: " ")) }
                pendingSpace = false
                output.append(folded)
            } else {
                pendingSpace = true
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Links in free text: `http(s)://…` URLs and bare `www.` hosts.
enum Links {
    static func urls(in text: String) -> [String] {
        // Most texts have no link: look for the markers on bytes before splitting into words.
        let lower = text.lowercased()
        guard Detector.contains(lower, "http") || Detector.contains(lower, "www.") else { return [] }
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
