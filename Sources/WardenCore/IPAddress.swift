import Foundation

/// Syntax checks for IP addresses, so an `ip` entity is always an address.
public enum IPAddress {
    /// Whether `text` is a dotted-quad IPv4 address or an IPv6 address (RFC 4291 text forms).
    public static func isValid(_ text: String) -> Bool {
        text.contains(":") ? isIPv6(text) : isIPv4(Substring(text))
    }

    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), let value = Int(part), value <= 255 else { return false }
            return part.count == 1 || part.first != "0"
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") { address = address[..<percent] }
        guard address.count <= 45 else { return false }
        let halves = address.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for (halfIndex, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                if index == parts.count - 1, halfIndex == halves.count - 1, part.contains(".") {
                    guard isIPv4(part) else { return false }
                    groups += 2
                    continue
                }
                guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups <= 7 : groups == 8
    }
}
