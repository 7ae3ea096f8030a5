/// Splitting a request body into NDJSON lines.
public enum NDJSON {
    /// One non-blank line of a body: its 1-based line number and its byte range (without `\r\n`).
    public struct Line: Sendable, Equatable {
        /// 1-based line number in the body.
        public var number: Int
        /// Byte range within the body.
        public var range: Range<Int>
    }

    /// The non-blank lines of `bytes`; blank lines are skipped but still counted.
    public static func lines(_ bytes: UnsafeBufferPointer<UInt8>) -> [Line] {
        var lines: [Line] = []
        var number = 1
        var start = 0
        var index = 0
        func finish(_ end: Int) {
            var end = end
            if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if bytes[start..<end].contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                lines.append(Line(number: number, range: start..<end))
            }
        }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                finish(index)
                number += 1
                start = index + 1
            }
            index += 1
        }
        if start < bytes.count { finish(bytes.count) }
        return lines
    }
}
