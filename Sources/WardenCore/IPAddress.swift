/// Syntax checks for IP addresses, so an `ip` entity is always an address. Works on UTF-8 bytes:
/// intake calls it for every event that names an IP.
public enum IPAddress {
    /// Whether `text` is a dotted-quad IPv4 address or an IPv6 address (RFC 4291 text forms,
    /// optionally with a `%zone`).
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            bytes.contains(UInt8(ascii: ":")) ? isIPv6(bytes) : isIPv4(bytes[...])
        }
    }

    static func isIPv4(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var parts = 0
        var value = 0
        var digits = 0
        var leadingZero = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0 else { return false }
                parts += 1
                digits = 0
                value = 0
                continue
            }
            guard byte >= 48, byte <= 57 else { return false }
            if digits == 0 { leadingZero = byte == 48 } else if leadingZero { return false }
            digits += 1
            value = value * 10 + Int(byte - 48)
            guard digits <= 3, value <= 255 else { return false }
        }
        return digits > 0 && parts == 3
    }

    static func isIPv6(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = bytes.count
        if let percent = bytes.firstIndex(of: UInt8(ascii: "%")) {
            guard percent + 1 < bytes.count else { return false }
            end = percent
        }
        guard end <= 45, end >= 2 else { return false }
        var groups = 0
        var sawDoubleColon = false
        var index = 0
        var groupStart = 0
        if bytes[0] == UInt8(ascii: ":") {
            guard bytes[1] == UInt8(ascii: ":") else { return false }
            sawDoubleColon = true
            index = 2
            groupStart = 2
            if end == 2 { return true }
        }
        while index <= end {
            let atEnd = index == end
            if atEnd || bytes[index] == UInt8(ascii: ":") {
                let length = index - groupStart
                if length == 0 {
                    // An empty group is only the second colon of "::" (or the end after a trailing "::").
                    guard !sawDoubleColon, index > 0, bytes[index - 1] == UInt8(ascii: ":") else {
                        if atEnd, sawDoubleColon, index >= 2, bytes[index - 1] == UInt8(ascii: ":"), bytes[index - 2] == UInt8(ascii: ":") { break }
                        return false
                    }
                    sawDoubleColon = true
                } else {
                    guard length <= 4 else { return false }
                    groups += 1
                }
                if atEnd { break }
                index += 1
                groupStart = index
                continue
            }
            if bytes[index] == UInt8(ascii: ".") {
                // An embedded IPv4 address ends the text and counts as two groups.
                guard isIPv4(bytes[groupStart..<end]) else { return false }
                groups += 2
                break
            }
            guard isHexDigit(bytes[index]) else { return false }
            index += 1
        }
        return sawDoubleColon ? groups <= 7 : groups == 8
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }
}
