import Foundation

/// Reads labelled texts: NDJSON lines `{"text": "...", "label": "..."}`, or CSV / TSV with a header
/// naming a label column (`label` or `class`) and a text column (`text`, `sms`, `message`,
/// `content` or `tweet`; the first match, case-insensitive). CSV follows RFC 4180 (quoted fields
/// may hold commas, quotes and newlines); TSV fields are split on tabs as they are.
public enum LabelledData {
    public static func load(path: String) throws(TrainingError) -> [LabelledText] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        if path.hasSuffix(".ndjson") || path.hasSuffix(".jsonl") { return try ndjson(text, path: path) }
        return try table(text, delimiter: path.hasSuffix(".tsv") ? "\t" : ",", path: path)
    }

    static func ndjson(_ text: String, path: String) throws(TrainingError) -> [LabelledText] {
        var examples: [LabelledText] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  let content = object["text"] as? String else {
                throw TrainingError("\(path):\(number + 1): expected {\"text\": \"...\", \"label\": \"...\"}")
            }
            guard let label = (object["label"] as? String) ?? (object["label"] as? NSNumber)?.stringValue else {
                throw TrainingError("\(path):\(number + 1): \"label\" is missing; give a string such as \"spam\"")
            }
            examples.append(LabelledText(text: content, label: label))
        }
        return examples
    }

    static func table(_ text: String, delimiter: Character, path: String) throws(TrainingError) -> [LabelledText] {
        let rows = delimiter == "\t"
            ? text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            : csvRows(text)
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }) else {
            throw TrainingError("\(path) is empty")
        }
        guard let labelColumn = header.firstIndex(where: { ["label", "class"].contains($0) }) else {
            throw TrainingError("\(path): no label column; name one \"label\" (columns: \(header.joined(separator: ", ")))")
        }
        guard let textColumn = header.firstIndex(where: { ["text", "sms", "message", "content", "tweet"].contains($0) }) else {
            throw TrainingError("\(path): no text column; name one \"text\" (columns: \(header.joined(separator: ", ")))")
        }
        var examples: [LabelledText] = []
        for (number, row) in rows.dropFirst().enumerated() {
            guard row.count > max(labelColumn, textColumn) else {
                if row.allSatisfy({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) { continue }
                throw TrainingError("\(path): row \(number + 2) has \(row.count) fields; the header has \(header.count)")
            }
            examples.append(LabelledText(text: row[textColumn], label: row[labelColumn].trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return examples
    }

    /// RFC 4180 rows.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default: field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
