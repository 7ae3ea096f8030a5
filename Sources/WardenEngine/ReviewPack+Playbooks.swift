import Foundation
public import Mustache
import WardenCore
import WardenReview
import Yams

/// A message template of the pack (`macros/<name>.md`), rendered with Mustache and the case's
/// variables: `{{subject}}`, `{{case_id}}`, `{{category}}`, `{{category_name}}`, `{{policy}}`,
/// `{{rationale}}`, `{{actions}}` (a list: `{{#actions}}{{name}} {{duration}}{{/actions}}`),
/// `{{queue}}`, `{{outcome}}` (appeals). A front-matter line `kind:` says where it goes:
/// `user_notice` (webhook `user.notice`), `reporter_reply` (webhook `reporter.reply`, one per
/// reporter) or `internal_note` (the case timeline).
public struct Macro: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case userNotice = "user_notice"
        case reporterReply = "reporter_reply"
        case internalNote = "internal_note"
    }

    public var name: String
    public var kind: Kind
    public var template: MustacheTemplate

    /// The message for a case.
    public func render(_ variables: [String: Any]) -> String {
        template.render(variables)
    }
}

extension ReviewPack {
    private struct TreeFile: Decodable {
        var name: String
        var description: String?
        var appliesTo: [String]?
        var start: String
        var questions: [String: Question]
        var outcomes: [String: Outcome]

        struct Question: Decodable {
            var text: String
            var help: String?
            var answers: [Answer]
        }
        struct Answer: Decodable {
            var label: String
            var next: String?
            var outcome: String?
        }
        struct Outcome: Decodable {
            var category: String
            var violation: Bool
            var actions: [String]?
            var policy: String?
            var macro: String?
        }
        enum CodingKeys: String, CodingKey {
            case name, description, appliesTo = "applies_to", start, questions, outcomes
        }
    }

    /// Reads `macros/*.md`: front matter (`kind:`) between `---` lines, then the Mustache template.
    static func loadMacros(directory: String, problems: inout [PolicyPackError.Problem]) -> [String: Macro] {
        var macros: [String: Macro] = [:]
        for (file, source) in PolicyPack.sourceFiles(in: directory, folder: "macros", extension: "md") {
            let name = String((file as NSString).lastPathComponent.dropLast(3))
            var kind = Macro.Kind.userNotice
            var body = Substring(source)
            if source.hasPrefix("---\n"), let end = source.range(of: "\n---\n", range: source.index(source.startIndex, offsetBy: 4)..<source.endIndex) {
                for line in source[source.index(source.startIndex, offsetBy: 4)..<end.lowerBound].split(separator: "\n") {
                    let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { continue }
                    if parts[0] == "kind" {
                        guard let parsed = Macro.Kind(rawValue: parts[1]) else {
                            problems.append(.init(file: file, path: "kind", message: "\"\(parts[1])\" is not a macro kind; use \(Macro.Kind.allCases.map(\.rawValue).joined(separator: ", "))"))
                            continue
                        }
                        kind = parsed
                    }
                }
                body = source[end.upperBound...]
            }
            do {
                macros[name] = Macro(name: name, kind: kind, template: try MustacheTemplate(string: String(body)))
            } catch let error as MustacheTemplate.ParserError {
                // Lines count from the template's start, after the front matter.
                let offset = source.count - body.count == 0 ? 0 : source[..<body.startIndex].filter { $0 == "\n" }.count
                problems.append(.init(file: file, line: error.context.lineNumber + offset, column: error.context.columnNumber,
                                      message: "is not a valid Mustache template (\(error.error)); check that every {{#section}} has its {{/section}}"))
            } catch {
                problems.append(.init(file: file, message: "is not a valid Mustache template: \(error)"))
            }
        }
        return macros
    }

    /// Reads and checks `trees/*.yaml` against the taxonomy, the action catalogue and the macros.
    static func loadTrees(directory: String, taxonomy: Taxonomy?, catalogue: EnforcementCatalogue, macros: [String: Macro],
                          problems: inout [PolicyPackError.Problem]) -> [String: DecisionTree] {
        var trees: [String: DecisionTree] = [:]
        for (file, source) in PolicyPack.sourceFiles(in: directory, folder: "trees", extension: "yaml") {
            let decoded: TreeFile
            do {
                decoded = try YAMLDecoder().decode(TreeFile.self, from: source)
            } catch let error as DecodingError {
                problems.append(.init(decoding: error, file: file))
                continue
            } catch {
                problems.append(.init(file: file, message: "is not valid YAML: \(error)"))
                continue
            }
            let before = problems.count
            func problem(_ path: String, _ message: String) { problems.append(.init(file: file, path: path, message: message)) }
            let categories = taxonomy?.categoryIDs ?? []
            for category in decoded.appliesTo ?? [] where taxonomy != nil && !categories.contains(category) {
                problem("applies_to", "\"\(category)\" is not a category of taxonomy.yaml")
            }
            for (id, outcome) in decoded.outcomes {
                if taxonomy != nil, !categories.contains(outcome.category) {
                    problem("outcomes.\(id).category", "\"\(outcome.category)\" is not a category of taxonomy.yaml")
                }
                for (index, text) in (outcome.actions ?? []).enumerated() {
                    if let error = parseAction(text, catalogue: catalogue).error { problem("outcomes.\(id).actions[\(index)]", error) }
                }
                if let macro = outcome.macro, macros[macro] == nil {
                    problem("outcomes.\(id).macro", "there is no macros/\(macro).md")
                }
            }
            if trees[decoded.name] != nil { problem("name", "another tree is already named \(decoded.name)") }
            let tree = DecisionTree(
                name: decoded.name, description: decoded.description, categories: decoded.appliesTo ?? [], start: decoded.start,
                questions: decoded.questions.map { id, question in
                    DecisionTree.Question(id: id, text: question.text, help: question.help,
                                          answers: question.answers.map { DecisionTree.Answer(label: $0.label, next: $0.next, outcome: $0.outcome) })
                },
                outcomes: decoded.outcomes.map { id, outcome in
                    DecisionTree.Outcome(id: id, category: outcome.category, violation: outcome.violation, actions: outcome.actions ?? [],
                                         policy: outcome.policy, macro: outcome.macro)
                })
            for (path, message) in tree.problems() { problem(path, message) }
            if problems.count == before { trees[tree.name] = tree }
        }
        return trees
    }

    /// `suspend 7d` → the action and its duration, or what is wrong with it.
    static func parseAction(_ text: String, catalogue: EnforcementCatalogue) -> (action: (name: String, duration: Int64?)?, error: String?) {
        let words = text.split(separator: " ").map(String.init)
        guard let name = words.first, let definition = catalogue.actions[name] else {
            return (nil, "\"\(text)\" does not start with an action of enforcement.yaml")
        }
        var duration: Int64?
        if words.count == 2 {
            guard let millis = DurationText.millis(words[1]), millis > 0 else { return (nil, "\"\(words[1])\" is not a duration such as 24h") }
            duration = millis
        } else if words.count > 2 {
            return (nil, "write an action and at most a duration, such as \"suspend 24h\"")
        }
        if definition.needsDuration, duration == nil { return (nil, "\(name) needs a duration, such as \"\(name) 24h\"") }
        if !definition.needsDuration, duration != nil { return (nil, "\(name) takes no duration") }
        return ((name, duration), nil)
    }
}
