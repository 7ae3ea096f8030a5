/// Finding several members of one JSON object in a single pass, for text that is already known to
/// be valid JSON (an event intake accepted). Values are skipped without being validated, which is
/// several times quicker than ``JSONValue/location(of:in:)``; text that is not valid JSON never
/// traps or loops, it only yields fewer members.
public enum JSONMembers {
    /// For each of `keys` (UTF-8), where its value is among the top-level members of the object
    /// `bytes`: its bytes, a string's with the quotes, offset by `base`. As in
    /// ``JSONValue/parse(_:)``, the last of repeated keys counts. `ranges` must hold one entry per
    /// key; entries of keys the object lacks are left nil.
    public static func locate(_ keys: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>, base: Int = 0, into ranges: inout [Range<Int>?]) {
        precondition(ranges.count == keys.count, "one range per key")
        for index in ranges.indices { ranges[index] = nil }
        // The scanner only steps over whitespace here; strings and values are skipped unvalidated.
        var scanner = JSONScanner(bytes)
        guard scanner.peek() == UInt8(ascii: "{") else { return }
        scanner.index += 1
        while scanner.peek() == UInt8(ascii: "\"") {
            let keyStart = scanner.index
            let escaped = skipString(bytes, &scanner.index)
            let key = UnsafeBufferPointer(rebasing: bytes[keyStart..<scanner.index])
            guard scanner.peek() == UInt8(ascii: ":") else { return }
            scanner.index += 1
            scanner.skipWhitespace()
            let valueStart = scanner.index
            skipValue(bytes, &scanner.index)
            guard scanner.index > valueStart else { return }
            if let slot = match(key, escaped: escaped, keys) { ranges[slot] = (base + valueStart)..<(base + scanner.index) }
            guard scanner.peek() == UInt8(ascii: ",") else { return }
            scanner.index += 1
        }
    }

    /// Which of `keys` the key `quoted` (with its quotes) is.
    private static func match(_ quoted: UnsafeBufferPointer<UInt8>, escaped: Bool, _ keys: [[UInt8]]) -> Int? {
        if escaped {
            // A key written with escapes (`"te\u0078t"`) is compared as the text it stands for,
            // once the escapes are known to be well formed.
            var scanner = JSONScanner(quoted)
            guard let raw = try? scanner.scanString() else { return nil }
            return keys.firstIndex(of: Array(scanner.decode(raw).utf8))
        }
        let key = UnsafeBufferPointer(rebasing: quoted.dropFirst().dropLast())
        for (slot, candidate) in keys.enumerated() where candidate.count == key.count && candidate.elementsEqual(key) {
            return slot
        }
        return nil
    }

    /// Moves past the string that starts at `position`; whether it held escapes.
    @discardableResult
    private static func skipString(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> Bool {
        var escaped = false
        position += 1
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                return escaped
            case UInt8(ascii: "\\"):
                escaped = true
                position += 2
            default:
                position += 1
            }
        }
        position = bytes.count
        return escaped
    }

    /// Moves past the value that starts at `position` (objects and arrays by bracket depth).
    private static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) {
        guard position < bytes.count else { return }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            skipString(bytes, &position)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\""):
                    skipString(bytes, &position)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        position += 1
                        return
                    }
                default:
                    break
                }
                position += 1
            }
        default:
            // A number, true, false or null: up to the next delimiter.
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return
                default: position += 1
                }
            }
        }
    }
}
