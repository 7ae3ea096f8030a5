/// Edits to a rule's source text that the console's editor makes on save.
public enum RuleSource {
    /// The rule's text with its `mode` line set to `mode` (one is added before `when` when the rule
    /// has none). Only the header, before `when`, is looked at.
    public static func settingMode(_ text: String, to mode: RuleMode) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let whenIndex = lines.firstIndex { $0.trimmingPrefixSpaces.hasPrefix("when ") || $0.trimmingPrefixSpaces == "when" } ?? lines.count
        if let index = lines[..<whenIndex].firstIndex(where: { $0.trimmingPrefixSpaces.hasPrefix("mode ") }) {
            let indent = lines[index].prefix { $0 == " " || $0 == "\t" }
            lines[index] = indent + "mode " + mode.rawValue
        } else {
            lines.insert("  mode " + mode.rawValue, at: whenIndex)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate var trimmingPrefixSpaces: Substring { drop { $0 == " " || $0 == "\t" } }
}
