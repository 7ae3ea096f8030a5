/// A line-by-line difference between two texts (longest common subsequence), for showing how a
/// rule changed between versions.
public enum LineDiff {
    public enum Kind: String, Sendable, Equatable { case same, added, removed }

    public struct Line: Sendable, Equatable {
        public var kind: Kind
        public var text: String
        public init(_ kind: Kind, _ text: String) {
            self.kind = kind
            self.text = text
        }
    }

    /// The lines of `new` and `old` in order: unchanged, removed from `old`, added in `new`.
    /// Texts longer than `limit` lines each are compared as wholly replaced (the table is quadratic).
    public static func diff(_ old: String, _ new: String, limit: Int = 2000) -> [Line] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count <= limit, b.count <= limit else { return a.map { Line(.removed, $0) } + b.map { Line(.added, $0) } }
        // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
        var lengths = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var lines: [Line] = []
        var i = 0, j = 0
        while i < a.count, j < b.count {
            if a[i] == b[j] {
                lines.append(Line(.same, a[i]))
                i += 1
                j += 1
            } else if lengths[i + 1][j] >= lengths[i][j + 1] {
                lines.append(Line(.removed, a[i]))
                i += 1
            } else {
                lines.append(Line(.added, b[j]))
                j += 1
            }
        }
        lines += a[i...].map { Line(.removed, $0) } + b[j...].map { Line(.added, $0) }
        return lines
    }
}
