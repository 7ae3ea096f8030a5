/// A single-pass JSON scanner over bytes. It validates the grammar (RFC 8259, UTF-8) and hands
/// out the positions of strings so callers decode only the fields they need; everything else is
/// skipped without allocating. This is intake's hot path, so it allocates nothing on its own.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int
    let maxDepth: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 64) {
        self.bytes = bytes
        self.index = 0
        self.maxDepth = maxDepth
    }

    /// A string's raw contents (between the quotes) and whether it needs unescaping.
    struct RawString {
        var range: Range<Int>
        var hasEscapes: Bool
    }

    var isAtEnd: Bool { index >= bytes.count }

    func error(_ message: String, at offset: Int? = nil) -> EventError {
        EventError(kind: .syntax, offset: offset ?? index, message: message)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The next significant byte, after whitespace.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(EventError) {
        guard peek() == byte else {
            throw error(isAtEnd ? "unexpected end of JSON, expected \(what)" : "expected \(what)")
        }
        index += 1
    }

    /// Scans a string at the current position (after whitespace), validating escapes and UTF-8.
    mutating func scanString() throws(EventError) -> RawString {
        guard peek() == UInt8(ascii: "\"") else {
            throw error(isAtEnd ? "unexpected end of JSON, expected a string" : "expected a string")
        }
        index += 1
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let range = start..<index
                index += 1
                return RawString(range: range, hasEscapes: hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < bytes.count else {
                        index = bytes.count
                        break
                    }
                    for offset in 1...4 where hexValue(bytes[index + offset]) == nil {
                        throw error("invalid \\u escape in string", at: index - 1)
                    }
                    index += 5
                default:
                    throw error("invalid escape sequence in string", at: index - 1)
                }
            case 0..<0x20:
                throw error("control character in string (escape it as \\n, \\t or \\u00XX)")
            case 0x80...:
                try skipUTF8Sequence()
            default:
                index += 1
            }
        }
        throw error("unterminated string", at: start - 1)
    }

    /// Validates one multi-byte UTF-8 sequence starting at `index` and moves past it.
    private mutating func skipUTF8Sequence() throws(EventError) {
        let lead = bytes[index]
        let length: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: throw error("invalid UTF-8 byte 0x\(String(lead, radix: 16, uppercase: true))")
        }
        guard index + length <= bytes.count else { throw error("truncated UTF-8 sequence") }
        let second = bytes[index + 1]
        guard second >= lowerBound, second <= upperBound else { throw error("invalid UTF-8 sequence") }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            throw error("invalid UTF-8 sequence")
        }
        index += length
    }

    /// Decodes a scanned string into a Swift `String`.
    func decode(_ raw: RawString) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[raw.range])
        guard raw.hasEscapes else { return String(decoding: slice, as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(slice.count)
        var position = 0
        while position < slice.count {
            let byte = slice[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let escaped = slice[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(slice, position)
                position += 4
                if (0xD800...0xDBFF).contains(scalar), position + 5 < slice.count,
                   slice[position] == UInt8(ascii: "\\"), slice[position + 1] == UInt8(ascii: "u") {
                    let low = hex4(slice, position + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    }
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                output.append(contentsOf: String(character).utf8)
            default: output.append(escaped)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether a scanned string equals `literal` byte for byte (keys never need unescaping to match).
    func raw(_ raw: RawString, equals literal: StaticString) -> Bool {
        guard !raw.hasEscapes, raw.range.count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<raw.range.count where bytes[raw.range.lowerBound + offset] != pointer[offset] {
            return false
        }
        return true
    }

    /// Whether a scanned string without escapes equals `text` byte for byte.
    func raw(_ raw: RawString, equals text: String) -> Bool {
        guard !raw.hasEscapes, raw.range.count == text.utf8.count else { return false }
        var offset = raw.range.lowerBound
        for byte in text.utf8 {
            if bytes[offset] != byte { return false }
            offset += 1
        }
        return true
    }

    /// Skips any JSON value, validating it.
    mutating func skipValue(depth: Int = 0) throws(EventError) {
        guard let byte = peek() else { throw error("unexpected end of JSON, expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw error("JSON nested deeper than \(maxDepth) levels") }
            index += 1
            if peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                try skipValue(depth: depth + 1)
                guard let next = peek() else { throw error("unexpected end of JSON inside an object") }
                index += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}' in an object", at: index - 1) }
            }
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw error("JSON nested deeper than \(maxDepth) levels") }
            index += 1
            if peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                guard let next = peek() else { throw error("unexpected end of JSON inside an array") }
                index += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or ']' in an array", at: index - 1) }
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
        default:
            throw error("unexpected character '\(printable(byte))', expected a value")
        }
    }

    mutating func literal(_ word: StaticString) throws(EventError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("invalid literal, expected \(word)") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw error("invalid literal, expected \(word)")
        }
        index += count
    }

    /// Scans a number and returns its byte range.
    @discardableResult
    mutating func scanNumber() throws(EventError) -> Range<Int> {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digits expected after '.'") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digits expected in exponent") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, isDigit(bytes[index]) { throw error("invalid number: leading zero") }
        return start..<index
    }

    /// Requires that nothing but whitespace follows.
    mutating func expectEnd() throws(EventError) {
        skipWhitespace()
        guard isAtEnd else { throw error("unexpected text after the JSON value (one event per line)") }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
    private func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16, uppercase: true)
    }
}

private func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - 48)
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - 87)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - 55)
    default: nil
    }
}

private func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
    var value: UInt32 = 0
    for offset in 0..<4 { value = value << 4 | (hexValue(bytes[at + offset]) ?? 0) }
    return value
}
